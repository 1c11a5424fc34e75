// Types of cache.mjs (plain JavaScript: it runs inside the build sandbox, uncompiled).
type Patch = { pathFilter: RegExp | string; contentFilter?: RegExp | string; versions?: string; patchCode: (a: { code: string; filePath: string }) => string | Promise<string> };
type CodePatcher = { name: string; patches: Patch[] }[];
type ApplyCodePatches = (buildOptions: { nextVersion: string }, tracedFiles: string[], manifests: unknown, codePatcher: CodePatcher) => Promise<void>;
type EsbuildAsync = (esbuildOptions: { outfile?: string; plugins?: { name: string }[] } & Record<string, unknown>, buildOptions: { nextVersion: string } & Record<string, unknown>) => Promise<void>;
type EsbuildSync = (esbuildOptions: { outfile?: string } & Record<string, unknown>, buildOptions: { nextVersion: string } & Record<string, unknown>) => void;
/** Registers what gets the next esbuild result (undefined: nothing). */
type OnResult = (fn: ((result: { metafile?: unknown }) => void) | undefined) => void;
type CompileConfig = (configPath: string, outputDir: string, externals: string[]) => string;
type InstallDependencies = (outputDir: string, installOptions: { packages: string[] } | undefined) => void;

export declare const formatVersion: number;
export declare const installMaxAgeMs: number;
export declare const supportedVersion: RegExp;

export interface OpenNextCache {
  codePatches(original: ApplyCodePatches, args: unknown[], bundlerOf: unknown): Promise<void>;
  bundle(original: EsbuildAsync, args: Parameters<EsbuildAsync>): Promise<void>;
  bundleSync(original: EsbuildSync, args: Parameters<EsbuildSync>, onResult: OnResult | undefined): void;
  config(original: CompileConfig, args: Parameters<CompileConfig>, onResult: OnResult | undefined): string;
  install(original: InstallDependencies, outputDir: string, installOptions: { packages: string[] } | undefined): void;
  /** Runs OpenNext's createServerBundle; while it runs, `tracedCopy` moves the standalone output's dependency files. */
  serverBundle(original: (...args: unknown[]) => Promise<unknown>, args: unknown[]): Promise<unknown>;
  /** OpenNext's copy of one traced file (`[from, to]`), or a move of it while the default function is bundled. */
  tracedCopy(original: (from: string, to: string) => void, args: [string, string]): void;
  /** Removes the entries this process did not use; returns how many. */
  prune(): number;
  used: Set<string>;
}

export declare const createCache: (o: { dir: string; openNextVersion: string; log: (line: string) => void; now?: () => number; installStamp?: string; cwd?: () => string }) => OpenNextCache;
