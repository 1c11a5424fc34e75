import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as esbuild from 'esbuild';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache, installMaxAgeMs } from './cache.mjs';
import { rewrite } from './hooks.mjs';

// The open-next build cache with stand-ins for OpenNext's patcher and installer (they record
// what they were asked to do), and the loader hooks on a stand-in @opennextjs/aws package.
let root: string;
let dir: string;
let lines: string[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-on-cache-'));
  dir = join(root, 'cache');
  lines = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const patcher = [{ name: 'patch-next-server', patches: [{ pathFilter: /\.js$/, patchCode: ({ code }: { code: string }) => code.toUpperCase() }] }];
/** A stand-in for applyCodePatches: upper-cases each file it is given, and records which. */
const fakeApply = () => {
  const seen: string[][] = [];
  const apply = async (_o: { nextVersion: string }, files: string[]) => {
    seen.push([...files]);
    for (const f of files) writeFileSync(f, readFileSync(f, 'utf8').toUpperCase());
  };
  return { apply, seen };
};
const writeApp = () => {
  const app = join(root, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'a.js'), 'const a = 1;');
  writeFileSync(join(app, 'b.js'), 'const b = 2;');
  writeFileSync(join(app, 'c.json'), '{"c": 3}');
  return ['a.js', 'b.js', 'c.json'].map((f) => join(app, f));
};
const patchOnce = async (version = '4.1.12', nextVersion = '16.0.0') => {
  const files = writeApp();
  const { apply, seen } = fakeApply();
  const cache = createCache({ dir, openNextVersion: version, log: (l) => lines.push(l) });
  await cache.codePatches(apply, [{ nextVersion }, files, {}, patcher], () => 'webpack');
  return { files, seen, cache, contents: files.map((f) => readFileSync(f, 'utf8')) };
};

describe('the code patch cache', () => {
  it('patches on a miss, stores the result, and reuses it without patching on the next build', async () => {
    const first = await patchOnce();
    expect(first.seen).toEqual([first.files.slice(0, 2)]);
    expect(first.contents).toEqual(['CONST A = 1;', 'CONST B = 2;', '{"c": 3}']);
    expect(lines.at(-1)).toMatch(/^open-next cache: code patches of 0 of 2 files reused, 2 stored \(\d+ ms\)$/);
    const second = await patchOnce();
    expect(second.seen).toEqual([[]]);
    expect(second.contents).toEqual(first.contents);
    expect(lines.at(-1)).toMatch(/^open-next cache: code patches of 2 of 2 files reused, 0 stored/);
  });

  it('ignores a damaged entry (patches that file again and replaces it)', async () => {
    await patchOnce();
    const entries = readdirSync(join(dir, 'patches'));
    truncateSync(join(dir, 'patches', entries[0]!), 30);
    writeFileSync(join(dir, 'patches', entries[1]!), 'not an entry');
    const again = await patchOnce();
    expect(again.seen[0]!.sort()).toEqual(again.files.slice(0, 2));
    expect(again.contents.slice(0, 2)).toEqual(['CONST A = 1;', 'CONST B = 2;']);
    expect((await patchOnce()).seen).toEqual([[]]);
  });

  it('misses when OpenNext\'s or Next\'s version changes', async () => {
    await patchOnce('4.1.12', '16.0.0');
    expect((await patchOnce('4.1.13', '16.0.0')).seen[0]).toHaveLength(2);
    expect((await patchOnce('4.1.12', '16.0.1')).seen[0]).toHaveLength(2);
    expect((await patchOnce('4.1.12', '16.0.0')).seen).toEqual([[]]);
  });

  it('runs the patcher unchanged and says why when the arguments are not shaped as expected, or a patch is unknown', async () => {
    const files = writeApp();
    const { apply, seen } = fakeApply();
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l) });
    await cache.codePatches(apply, [{ nextVersion: '16.0.0' }, files, {}, [{ name: 'x' }]], () => 'webpack');
    await cache.codePatches(apply, [{ nextVersion: '16.0.0' }, files, {}, patcher], undefined);
    await cache.codePatches(apply, [{ nextVersion: '16.0.0' }, files, {}, [{ ...patcher[0], name: 'my-own-patch' }]], () => 'webpack');
    expect(seen).toEqual([files, files, files]);
    expect(lines).toEqual([
      'open-next cache: code patches off (OpenNext 4.1.12 calls applyCodePatches with arguments of another shape)',
      'open-next cache: code patches off (OpenNext 4.1.12 calls applyCodePatches with arguments of another shape)',
      'open-next cache: code patches off (patches it cannot vouch for: my-own-patch)',
    ]);
    expect(existsSync(dir)).toBe(false);
  });

  it('prunes the entries the last build did not use', async () => {
    await patchOnce();
    const files = writeApp();
    writeFileSync(files[0]!, 'changed');
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l) });
    await cache.codePatches(fakeApply().apply, [{ nextVersion: '16.0.0' }, files, {}, patcher], () => 'webpack');
    expect(readdirSync(join(dir, 'patches'))).toHaveLength(3);
    expect(cache.prune()).toBe(1);
    expect(readdirSync(join(dir, 'patches')).sort()).toEqual([...cache.used].map((u) => u.slice('patches/'.length)).sort());
  });
});

describe('the install cache', () => {
  const options = { packages: ['sharp@0.35.5'], arch: 'arm64' };
  /** A stand-in for installDependencies: makes node_modules/sharp in the folder it is given, unless told to fail. */
  const fakeInstall = (fail = false) => {
    const calls: string[] = [];
    const install = (outputDir: string) => {
      calls.push(outputDir);
      if (fail) return;
      mkdirSync(join(outputDir, 'node_modules', 'sharp'), { recursive: true });
      writeFileSync(join(outputDir, 'node_modules', 'sharp', 'index.js'), 'sharp');
    };
    return { install, calls };
  };
  const installOnce = (fail = false, now = Date.now) => {
    const out = join(root, `out-${Math.random().toString(36).slice(2)}`, 'image-optimization-function');
    mkdirSync(out, { recursive: true });
    const fake = fakeInstall(fail);
    createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l), now }).install(fake.install, out, options);
    return { out, calls: fake.calls, installed: existsSync(join(out, 'node_modules', 'sharp', 'index.js')) };
  };

  it('installs once, then copies the stored node_modules', () => {
    const first = installOnce();
    expect(first.calls).toHaveLength(1);
    expect(first.installed).toBe(true);
    expect(lines).toEqual(['open-next cache: sharp@0.35.5 for image-optimization-function installed and stored']);
    const second = installOnce();
    expect(second.calls).toEqual([]);
    expect(second.installed).toBe(true);
    expect(lines.at(-1)).toBe('open-next cache: sharp@0.35.5 for image-optimization-function reused');
  });

  it('installs again when the entry is damaged or too old, and keeps nothing of a failed install', () => {
    installOnce();
    const [entry] = readdirSync(join(dir, 'installs'));
    writeFileSync(join(dir, 'installs', entry!, 'node_modules', 'sharp', 'index.js'), '');
    expect(installOnce().calls).toHaveLength(1);
    expect(installOnce(false, () => Date.now() + installMaxAgeMs + 1).calls).toHaveLength(1);
    expect(installOnce().calls).toEqual([]);
    const other = createCache({ dir: join(root, 'other'), openNextVersion: '4.1.12', log: () => undefined });
    const failing = fakeInstall(true);
    other.install(failing.install, join(root, 'x', 'image-optimization-function'), options);
    expect(failing.calls).toHaveLength(1);
    expect(existsSync(join(root, 'other', 'installs'))).toBe(false);
    expect(existsSync(join(root, 'x', 'image-optimization-function', 'node_modules'))).toBe(false);
  });
});

describe('the bundle cache', () => {
  const installStamp = 'stamp-1';
  /**
   * A stand-in for OpenNext's esbuildAsync: the real esbuild with OpenNext's defaults, counting its
   * calls; it works in `app` as OpenNext's works in its process's directory (the app's).
   */
  const fakeEsbuild = (app: string) => {
    const calls: string[] = [];
    const run = async (o: { outfile?: string } & Record<string, unknown>, b: Record<string, unknown>) => {
      calls.push(String(o.outfile));
      await esbuild.build({ bundle: true, format: 'esm', platform: 'node', minify: b.minify === true, logLevel: 'silent', absWorkingDir: app, ...(o as esbuild.BuildOptions) });
    };
    return { run, calls };
  };
  const writeSources = (dep = 'export const dep = "one";') => {
    const app = join(root, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'src', 'entry.js'), 'import { dep } from "./dep.js"; export const handler = () => dep;');
    writeFileSync(join(app, 'src', 'dep.js'), dep);
    return app;
  };
  const bundleOnce = async (o: { stamp?: string; nextVersion?: string; config?: unknown; plugins?: esbuild.Plugin[]; dep?: string } = {}) => {
    const app = writeSources(o.dep);
    const fake = fakeEsbuild(app);
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l), installStamp: 'stamp' in o ? o.stamp : installStamp, cwd: () => app });
    const outfile = join(app, '.open-next', 'fn', 'index.mjs');
    rmSync(join(app, '.open-next'), { recursive: true, force: true });
    await cache.bundle(fake.run, [
      { entryPoints: [join(app, 'src', 'entry.js')], outfile, plugins: o.plugins ?? [] },
      { nextVersion: o.nextVersion ?? '16.0.0', minify: true, config: o.config ?? { default: { override: { wrapper: 'aws-lambda' } } }, openNextDistDir: join(app, 'src') },
    ]);
    return { calls: fake.calls, out: readFileSync(outfile, 'utf8'), cache };
  };

  it('bundles on a miss, stores the output, and writes it again without bundling on the next build', async () => {
    const first = await bundleOnce();
    expect(first.calls).toHaveLength(1);
    expect(first.out).toContain('"one"');
    expect(lines.at(-1)).toBe('open-next cache: bundle .open-next/fn/index.mjs built and stored (2 inputs)');
    expect(existsSync(join(root, 'app', '.open-next', 'fn', 'index.mjs.meta.json'))).toBe(false);
    const second = await bundleOnce();
    expect(second.calls).toEqual([]);
    expect(second.out).toBe(first.out);
    expect(lines.at(-1)).toMatch(/^open-next cache: bundle \.open-next\/fn\/index\.mjs reused \(2 inputs unchanged, \d+ ms\)$/);
  });

  it('bundles again when a file the bundle read changed, and serves the new output after', async () => {
    await bundleOnce();
    const changed = await bundleOnce({ dep: 'export const dep = "two";' });
    expect(changed.calls).toHaveLength(1);
    expect(changed.out).toContain('"two"');
    expect(lines.at(-2)).toBe('open-next cache: bundle .open-next/fn/index.mjs built again (src/dep.js changed)');
    const again = await bundleOnce({ dep: 'export const dep = "two";' });
    expect(again.calls).toEqual([]);
    expect(again.out).toBe(changed.out);
  });

  it('misses when Next\'s version, the config or the installed packages change', async () => {
    await bundleOnce();
    expect((await bundleOnce({ nextVersion: '16.0.1' })).calls).toHaveLength(1);
    expect((await bundleOnce({ config: { default: { override: { wrapper: 'aws-lambda-streaming' } } } })).calls).toHaveLength(1);
    expect((await bundleOnce({ config: { default: { override: { wrapper: async () => ({ name: 'mine' }) } } } })).calls).toHaveLength(1);
    expect((await bundleOnce({ stamp: 'stamp-2' })).calls).toHaveLength(1);
    expect((await bundleOnce()).calls).toEqual([]);
  });

  it('bundles again when a stored output is damaged', async () => {
    await bundleOnce();
    const [entry] = readdirSync(join(dir, 'bundles'));
    writeFileSync(join(dir, 'bundles', entry!, 'out', '0'), 'export const handler = () => "forged";');
    const again = await bundleOnce();
    expect(again.calls).toHaveLength(1);
    expect(again.out).toContain('"one"');
  });

  it('stays out of the way of a plugin it does not know, and without the installed packages\' stamp', async () => {
    const mine: esbuild.Plugin = { name: 'my-plugin', setup: () => undefined };
    expect((await bundleOnce({ plugins: [mine] })).calls).toHaveLength(1);
    expect((await bundleOnce({ plugins: [mine] })).calls).toHaveLength(1);
    expect((await bundleOnce({ stamp: undefined })).calls).toHaveLength(1);
    expect(lines).toEqual([
      'open-next cache: bundle .open-next/fn/index.mjs off (a plugin it cannot vouch for: my-plugin)',
      'open-next cache: bundle .open-next/fn/index.mjs off (a plugin it cannot vouch for: my-plugin)',
      'open-next cache: bundle .open-next/fn/index.mjs off (the installed packages OpenNext bundles from are unknown)',
    ]);
    expect(existsSync(join(dir, 'bundles'))).toBe(false);
  });

  it('does not store a bundle that names the build\'s own folder', async () => {
    const first = await bundleOnce({ dep: `export const dep = ${JSON.stringify(join(root, 'app'))};` });
    expect(first.calls).toHaveLength(1);
    expect(lines.at(-1)).toBe('open-next cache: bundle .open-next/fn/index.mjs not stored (it names the build\'s folder)');
    expect((await bundleOnce({ dep: `export const dep = ${JSON.stringify(join(root, 'app'))};` })).calls).toHaveLength(1);
  });

  it('prunes the bundles the last build did not use', async () => {
    await bundleOnce();
    const { cache } = await bundleOnce({ nextVersion: '16.0.1' });
    expect(readdirSync(join(dir, 'bundles'))).toHaveLength(2);
    expect(cache.prune()).toBe(1);
    expect(readdirSync(join(dir, 'bundles'))).toEqual([...cache.used].map((u) => u.slice('bundles/'.length)));
  });
});

describe('the bundle cache for esbuildSync', () => {
  /**
   * A stand-in for OpenNext's esbuildSync: the real esbuild's buildSync, whose result goes to
   * what `onResult` registered (as hooks.mjs's wrapper of buildSync does), counting its calls.
   */
  const fakeEsbuildSync = (app: string) => {
    const calls: string[] = [];
    let hand: ((r: esbuild.BuildResult) => void) | undefined;
    const run = (o: { outfile?: string } & Record<string, unknown>) => {
      calls.push(String(o.outfile));
      hand?.(esbuild.buildSync({ bundle: true, format: 'esm', platform: 'node', logLevel: 'silent', absWorkingDir: app, ...(o as esbuild.BuildOptions) }));
    };
    return { run, calls, onResult: (fn: ((r: esbuild.BuildResult) => void) | undefined) => void (hand = fn) };
  };
  // As OpenNext's image function: the bundle's entry is its own outfile, rewritten in place.
  const inPlaceOnce = (dep = 'export const dep = "one";', withHook = true) => {
    const app = join(root, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    mkdirSync(join(app, '.open-next', 'img'), { recursive: true });
    writeFileSync(join(app, 'src', 'dep.js'), dep);
    const file = join(app, '.open-next', 'img', 'index.mjs');
    writeFileSync(file, 'import { dep } from "../../src/dep.js"; export const handler = () => dep;');
    const fake = fakeEsbuildSync(app);
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l), installStamp: 'stamp-1', cwd: () => app });
    const args: [Record<string, unknown>, { nextVersion: string } & Record<string, unknown>] = [{ entryPoints: [file], outfile: file, allowOverwrite: true, banner: { js: '// banner' } }, { nextVersion: '16.0.0', minify: false, config: {}, openNextDistDir: join(app, 'src') }];
    cache.bundleSync(fake.run, args, withHook ? fake.onResult : undefined);
    return { calls: fake.calls, out: readFileSync(file, 'utf8') };
  };

  it('bundles in place on a miss, stores the output keyed by the entry as it was before, and reuses it', () => {
    const first = inPlaceOnce();
    expect(first.calls).toHaveLength(1);
    expect(first.out).toContain('"one"');
    expect(first.out).not.toContain('import');
    expect(lines.at(-1)).toBe('open-next cache: bundle .open-next/img/index.mjs built and stored (2 inputs)');
    const second = inPlaceOnce();
    expect(second.calls).toEqual([]);
    expect(second.out).toBe(first.out);
    expect(lines.at(-1)).toMatch(/^open-next cache: bundle \.open-next\/img\/index\.mjs reused \(2 inputs unchanged, \d+ ms\)$/);
    const changed = inPlaceOnce('export const dep = "two";');
    expect(changed.calls).toHaveLength(1);
    expect(changed.out).toContain('"two"');
  });

  it('is not shared with esbuildAsync entries of the same options', async () => {
    inPlaceOnce();
    const app = join(root, 'app');
    const file = join(app, '.open-next', 'img', 'index.mjs');
    writeFileSync(file, 'import { dep } from "../../src/dep.js"; export const handler = () => dep;');
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l), installStamp: 'stamp-1', cwd: () => app });
    let ran = 0;
    await cache.bundle(async (o) => {
      ran++;
      await esbuild.build({ bundle: true, format: 'esm', platform: 'node', logLevel: 'silent', absWorkingDir: app, ...(o as esbuild.BuildOptions) });
    }, [{ entryPoints: [file], outfile: file, allowOverwrite: true, banner: { js: '// banner' } }, { nextVersion: '16.0.0', minify: false, config: {}, openNextDistDir: join(app, 'src') }]);
    expect(ran).toBe(1);
  });

  it('builds uncached when nothing hands it the result', () => {
    expect(inPlaceOnce(undefined, false).calls).toHaveLength(1);
    expect(inPlaceOnce(undefined, false).calls).toHaveLength(1);
    expect(existsSync(join(dir, 'bundles'))).toBe(false);
  });
});

describe('the open-next config cache', () => {
  /**
   * A stand-in for OpenNext's compileOpenNextConfigNode: the real esbuild's buildSync of the
   * config into `<outputDir>/open-next.config.mjs`, its result handed to what `onResult`
   * registered (as hooks.mjs's wrapper of buildSync does, with a metafile), counting its calls.
   */
  const fakeCompile = (app: string) => {
    let calls = 0;
    let hand: ((r: esbuild.BuildResult) => void) | undefined;
    const run = (configPath: string, outputDir: string, externals: string[]) => {
      calls++;
      const outfile = join(outputDir, 'open-next.config.mjs');
      const r = esbuild.buildSync({ entryPoints: [configPath], outfile, bundle: true, format: 'esm', platform: 'node', external: externals, logLevel: 'silent', absWorkingDir: app, ...(hand ? { metafile: true } : {}) });
      hand?.(r);
      return outfile;
    };
    return { run, calls: () => calls, onResult: (fn: ((r: esbuild.BuildResult) => void) | undefined) => void (hand = fn) };
  };
  // Each build: a fresh output folder (OpenNext makes one with mkdtemp), the app's config importing one of its files.
  const compileOnce = (o: { value?: string; externals?: string[]; stamp?: string; withHook?: boolean } = {}) => {
    const app = join(root, 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'open-next.config.ts'), 'import { value } from "./settings.ts";\nexport default { default: { value } };\n');
    writeFileSync(join(app, 'settings.ts'), `export const value: string = ${JSON.stringify(o.value ?? 'one')};\n`);
    const outputDir = mkdtempSync(join(root, 'open-next-tmp'));
    const fake = fakeCompile(app);
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l), installStamp: 'stamp' in o ? o.stamp : 'stamp-1', cwd: () => app });
    const path = cache.config(fake.run, ['open-next.config.ts', outputDir, o.externals ?? []], o.withHook === false ? undefined : fake.onResult);
    return { calls: fake.calls(), path, out: readFileSync(path, 'utf8'), cache };
  };

  it('compiles on a miss, stores the output, and writes it into the new output folder without esbuild on the next build', () => {
    const first = compileOnce();
    expect(first.calls).toBe(1);
    expect(first.out).toContain('"one"');
    expect(lines.at(-1)).toBe('open-next cache: config open-next.config.ts compiled and stored (2 inputs)');
    const second = compileOnce();
    expect(second.calls).toBe(0);
    expect(second.path).not.toBe(first.path);
    expect(second.out).toBe(first.out);
    expect(lines.at(-1)).toMatch(/^open-next cache: config open-next\.config\.ts reused \(2 inputs unchanged, \d+ ms\)$/);
  });

  it('compiles again when a file the config imports changed, or the externals or the installed packages did', () => {
    compileOnce();
    const changed = compileOnce({ value: 'two' });
    expect(changed.calls).toBe(1);
    expect(changed.out).toContain('"two"');
    expect(lines.at(-2)).toBe('open-next cache: config open-next.config.ts compiled again (settings.ts changed)');
    expect(compileOnce({ value: 'two' }).calls).toBe(0);
    expect(compileOnce({ value: 'two', externals: ['sharp'] }).calls).toBe(1);
    expect(compileOnce({ value: 'two', stamp: 'stamp-2' }).calls).toBe(1);
    expect(compileOnce({ value: 'two' }).calls).toBe(0);
  });

  it('compiles again when the stored output is damaged', () => {
    compileOnce();
    const [entry] = readdirSync(join(dir, 'configs'));
    writeFileSync(join(dir, 'configs', entry!, 'out'), 'export default { default: { forged: true } };');
    const again = compileOnce();
    expect(again.calls).toBe(1);
    expect(again.out).toContain('"one"');
  });

  it('compiles uncached without the installed packages\' stamp or the result, and prunes an entry the build did not use', () => {
    expect(compileOnce({ stamp: undefined }).calls).toBe(1);
    expect(compileOnce({ withHook: false }).calls).toBe(1);
    expect(existsSync(join(dir, 'configs'))).toBe(false);
    compileOnce();
    const { cache } = compileOnce({ externals: ['sharp'] });
    expect(readdirSync(join(dir, 'configs'))).toHaveLength(2);
    expect(cache.prune()).toBe(1);
  });
});

describe('the traced files of the server function', () => {
  /** A standalone output with three dependency files (one read-only, one with another link) and a manifest. */
  const writeStandalone = () => {
    const app = join(root, 'app');
    const standalone = join(app, '.next', 'standalone');
    const files = ['node_modules/next/a.js', 'node_modules/next/ro.js', 'node_modules/next/linked.js', '.next/server/pages-manifest.json'];
    for (const f of files) {
      mkdirSync(dirname(join(standalone, f)), { recursive: true });
      writeFileSync(join(standalone, f), f);
    }
    chmodSync(join(standalone, 'node_modules/next/ro.js'), 0o444);
    linkSync(join(standalone, 'node_modules/next/linked.js'), join(root, 'elsewhere.js'));
    return { app, standalone, files };
  };
  /** A stand-in for OpenNext's createServerBundle: each file through `copy`, as copyTracedFiles does. */
  const bundleWith = (cache: ReturnType<typeof createCache>, standalone: string, files: string[]) => async () => {
    for (const f of files) {
      const to = join(root, 'out', f);
      mkdirSync(dirname(to), { recursive: true });
      cache.tracedCopy((from: string, dest: string) => { copied.push(from.slice(standalone.length + 1)); copyFileSync(from, dest); }, [join(standalone, f), to]);
    }
  };
  let copied: string[];
  beforeEach(() => {
    copied = [];
  });

  it('moves the files under node_modules of the standalone output while the default function is bundled, and copies the rest', async () => {
    const { app, standalone, files } = writeStandalone();
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l) });
    await cache.serverBundle(bundleWith(cache, standalone, files), [{ appBuildOutputPath: app, config: { default: {} } }]);
    expect(copied).toEqual(['node_modules/next/linked.js', '.next/server/pages-manifest.json']);
    for (const f of files) expect(readFileSync(join(root, 'out', f), 'utf8')).toBe(f);
    expect(existsSync(join(standalone, 'node_modules/next/a.js'))).toBe(false);
    expect(existsSync(join(standalone, '.next/server/pages-manifest.json'))).toBe(true);
    expect(statSync(join(root, 'out', 'node_modules/next/ro.js')).mode & 0o200).toBe(0o200);
    expect(lines).toEqual(['open-next cache: 2 traced files moved out of .next/standalone, not copied']);
    // Once the server function is bundled, a copy is a copy again.
    copied = [];
    writeFileSync(join(standalone, 'node_modules/next/a.js'), 'again');
    await bundleWith(cache, standalone, ['node_modules/next/a.js'])();
    expect(copied).toEqual(['node_modules/next/a.js']);
  });

  it('copies every file, and says why, when the config splits the server into functions', async () => {
    const { app, standalone, files } = writeStandalone();
    const cache = createCache({ dir, openNextVersion: '4.1.12', log: (l) => lines.push(l) });
    await cache.serverBundle(bundleWith(cache, standalone, files), [{ appBuildOutputPath: app, config: { default: {}, functions: { api: { routes: ['app/api/route'] } } } }]);
    expect(copied).toEqual(files);
    expect(existsSync(join(standalone, 'node_modules/next/a.js'))).toBe(true);
    expect(lines).toEqual(['open-next cache: moving traced files off (the config splits the server into functions, which trace the same files)']);
  });
});

describe('the loader hooks', () => {
  const esbuildStandIn = 'export async function esbuildAsync() {}\nexport function esbuildSync() {\n  const result = buildSync({});\n}\n';
  const register = fileURLToPath(new URL('./register.mjs', import.meta.url));
  /** A stand-in @opennextjs/aws whose codePatcher.js is `source`, run by a script through the hooks. */
  const runWith = (source: string, version = '4.1.12') => {
    const pkg = join(root, 'node_modules', '@opennextjs', 'aws');
    mkdirSync(join(pkg, 'dist', 'build', 'patch'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@opennextjs/aws', version, type: 'module' }));
    writeFileSync(join(pkg, 'dist', 'build', 'patch', 'codePatcher.js'), source);
    writeFileSync(join(root, 'app.js'), 'const a = 1;');
    const script = [
      `import { applyCodePatches } from ${JSON.stringify(join(pkg, 'dist', 'build', 'patch', 'codePatcher.js'))};`,
      `const patches = [{ name: 'patch-next-server', patches: [{ pathFilter: /app\\.js$/, patchCode: () => '' }] }];`,
      `await applyCodePatches({ nextVersion: '16.0.0' }, [${JSON.stringify(join(root, 'app.js'))}], {}, patches);`,
      'console.log("done");',
    ].join('\n');
    writeFileSync(join(root, 'main.mjs'), script);
    return execFileSync(process.execPath, ['--import', register, join(root, 'main.mjs')], { env: { ...process.env, SHIPLOG_OPEN_NEXT_CACHE: dir }, encoding: 'utf8' });
  };
  const patcherSource = (declaration: string) =>
    `import * as buildHelper from "../helper.js";\n${declaration}(o, files) { for (const f of files) (await import("node:fs")).writeFileSync(f, "PATCHED"); }\n`;

  it('routes OpenNext\'s patcher through the cache', () => {
    mkdirSync(join(root, 'node_modules', '@opennextjs', 'aws', 'dist', 'build'), { recursive: true });
    writeFileSync(join(root, 'node_modules', '@opennextjs', 'aws', 'dist', 'build', 'helper.js'), `export const getBundlerRuntime = () => "webpack";\n${esbuildStandIn}`);
    expect(runWith(patcherSource('export async function applyCodePatches'))).toMatch(/open-next cache: code patches of 0 of 1 files reused, 1 stored .*\ndone\n$/);
    expect(readFileSync(join(root, 'app.js'), 'utf8')).toBe('PATCHED');
    expect(runWith(patcherSource('export async function applyCodePatches'))).toMatch(/code patches of 1 of 1 files reused/);
  });

  it('finds each function it routes, once, in the installed @opennextjs/aws', () => {
    const dist = join(fileURLToPath(new URL('../../../../../node_modules/@opennextjs/aws/dist/build', import.meta.url)));
    for (const [file, name] of [['patch/codePatcher.js', 'applyCodePatches'], ['helper.js', 'esbuildAsync'], ['helper.js', 'esbuildSync'], ['installDeps.js', 'installDependencies'], ['compileConfig.js', 'compileOpenNextConfigNode'], ['createServerBundle.js', 'createServerBundle'], ['copyTracedFiles.js', 'copyFileAndMakeOwnerWritable']] as const) {
      const changed = rewrite(`file://${join(dist, file)}`, readFileSync(join(dist, file), 'utf8'));
      expect(changed?.reason).toBeUndefined();
      expect(changed?.source).toMatch(new RegExp(`function __shiplogOriginal\\w+\\([\\s\\S]*export (async )?function ${name}\\(\\.\\.\\.args\\)`));
    }
  });

  it('routes each function of a module on its own: one of another shape is left alone and said', () => {
    const url = 'file:///x/node_modules/@opennextjs/aws/dist/build/helper.js';
    const changed = rewrite(url, 'import { buildSync } from "esbuild";\nexport async function esbuildAsync() {}\nexport function esbuildSync() { return buildSync({}); }\n');
    expect(changed?.reason).toBe('@opennextjs/aws/dist/build/helper.js does not call buildSync once, in export function esbuildSync, as expected');
    expect(changed?.source).toMatch(/export async function esbuildAsync\(\.\.\.args\)/);
    expect(changed?.source).not.toMatch(/__shiplogOriginalEsbuildSync/);
  });

  it('stays off for an OpenNext version it was not made for', () => {
    mkdirSync(join(root, 'node_modules', '@opennextjs', 'aws', 'dist', 'build'), { recursive: true });
    writeFileSync(join(root, 'node_modules', '@opennextjs', 'aws', 'dist', 'build', 'helper.js'), `export const getBundlerRuntime = () => "webpack";\n${esbuildStandIn}`);
    const out = runWith(patcherSource('export async function applyCodePatches'), '4.2.0');
    expect(out).toBe('open-next cache: off (made for @opennextjs/aws 4.1, whose code patches read nothing but the code; this is 4.2.0)\ndone\n');
    expect(readFileSync(join(root, 'app.js'), 'utf8')).toBe('PATCHED');
    expect(existsSync(dir)).toBe(false);
  });

  it('leaves a module of another shape alone, says so once, and the build still runs', () => {
    mkdirSync(join(root, 'node_modules', '@opennextjs', 'aws', 'dist', 'build'), { recursive: true });
    writeFileSync(join(root, 'node_modules', '@opennextjs', 'aws', 'dist', 'build', 'helper.js'), esbuildStandIn);
    const source = `${patcherSource('async function applyPatches')}export { applyPatches as applyCodePatches };\n`;
    expect(rewrite('file:///x/node_modules/@opennextjs/aws/dist/build/patch/codePatcher.js', source)).toEqual({
      reason: '@opennextjs/aws/dist/build/patch/codePatcher.js does not declare export async function applyCodePatches once as expected',
    });
    const out = runWith(source);
    expect(out).toBe('open-next cache: off (@opennextjs/aws/dist/build/patch/codePatcher.js does not declare export async function applyCodePatches once as expected)\ndone\n');
    expect(readFileSync(join(root, 'app.js'), 'utf8')).toBe('PATCHED');
    expect(existsSync(dir)).toBe(false);
  });
});
