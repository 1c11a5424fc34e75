import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The Lambda code of shiplog's own functions, bundled as `sst deploy` bundles them: every entry of
 * `infra/aws/functions/` an ES module with its dependencies inlined (AWS SDK included), zipped.
 * A handler `infra/aws/functions/build.onDeploymentRequested` runs as `build.onDeploymentRequested`.
 *
 * @example
 * const code = await bundleFunctions(['infra/aws/functions/build.reconcile'], '/tmp/box/bundle');
 * code.zip; // bytes for CreateFunction's ZipFile
 * code.handlerOf('infra/aws/functions/build.reconcile'); // 'build.reconcile'
 */
export interface FunctionCode {
  zip: Buffer;
  /** Lambda's base64 SHA-256 of the zip. */
  sha256: string;
  handlerOf(handler: string): string;
}

const parse = (handler: string): { module: string; exported: string } => {
  const m = /^infra\/aws\/functions\/([\w-]+)\.(\w+)$/.exec(handler);
  if (!m) throw new Error(`handler ${handler} is not an export of a module in infra/aws/functions/`);
  return { module: m[1]!, exported: m[2]! };
};

/**
 * Bundles the modules of `handlers` into `outDir` (emptied first) and zips them.
 *
 * @example
 * const code = await bundleFunctions(specs.map((s) => s.handler), join(dataDir, 'bundle'));
 */
export const bundleFunctions = async (handlers: string[], outDir: string): Promise<FunctionCode> => {
  const modules = [...new Set(handlers.map((h) => parse(h).module))].sort();
  rmSync(outDir, { recursive: true, force: true });
  const dist = join(outDir, 'dist');
  mkdirSync(dist, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(modules.map((m) => [m, join(root, 'infra', 'aws', 'functions', `${m}.ts`)])),
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    // Some dependencies are CommonJS and call require(): give the ES module one.
    banner: { js: "import { createRequire as __shiplogRequire } from 'node:module'; const require = __shiplogRequire(import.meta.url);" },
  });
  const zipPath = join(outDir, 'functions.zip');
  execFileSync('zip', ['-qrX', zipPath, '.'], { cwd: dist });
  const zip = readFileSync(zipPath);
  return {
    zip,
    sha256: createHash('sha256').update(zip).digest('base64'),
    handlerOf: (handler) => {
      const { module, exported } = parse(handler);
      return `${module}.${exported}`;
    },
  };
};
