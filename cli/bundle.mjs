#!/usr/bin/env node
// Compiles the `shiplog` command into cli/dist/ (run by `npm install`/`npm ci` through the
// `prepare` script): one ES module per command, loaded on demand, so a command starts without
// tsx. cli/shiplog.mjs runs it while it is newer than every source it was built from
// (cli/dist/inputs.json lists them), and the sources through tsx otherwise.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(cliDir);
export const distDir = join(cliDir, 'dist');

// `shiplog dev` runs from the sources (cli/shiplog.mjs sends it to tsx): the platform is left
// out of the bundle, and with it what only the platform imports.
const sourcesOnlyForDev = {
  name: 'sources-only-for-dev',
  setup(b) {
    b.onResolve({ filter: /\/infra\/local\/runtime\.ts$/ }, () => ({ path: 'runtime', namespace: 'shiplog-dev' }));
    b.onLoad({ filter: /.*/, namespace: 'shiplog-dev' }, () => ({
      contents: 'export const startLocalRuntime = () => { throw new Error("shiplog dev runs from the sources: node cli/shiplog.mjs dev"); };',
      loader: 'js',
    }));
  },
};

// Our modules do nothing when imported but define things (a top-level `backoff(…)` call is
// a definition too): so a command that uses `backoff` from events/index.ts does not also load the
// store's modules and, through them, the AWS SDK.
const pureSources = {
  name: 'pure-sources',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => ({ path: resolve(args.resolveDir, args.path), sideEffects: false }));
  },
};

/**
 * Bundles cli/main.ts into cli/dist/shiplog.mjs (plus its chunks) and writes the list of
 * sources it read. Packages stay external: they load from node_modules as they are.
 *
 * @example
 * await bundleCli(); // cli/dist/shiplog.mjs
 */
export const bundleCli = async () => {
  const { build } = await import('esbuild');
  rmSync(distDir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { shiplog: join(cliDir, 'main.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: distDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    plugins: [sourcesOnlyForDev, pureSources],
  });
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.includes('node_modules') && !p.includes(':')).map((p) => relative(root, join(root, p)));
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
  return { entry: join(distDir, 'shiplog.mjs'), inputs: inputs.length };
};

/**
 * Whether cli/dist/shiplog.mjs exists and is at least as new as every source it was built from.
 *
 * @example
 * if (bundleIsFresh()) await import(bundleUrl.href);
 */
export const bundleIsFresh = () => {
  try {
    const built = statSync(join(distDir, 'shiplog.mjs')).mtimeMs;
    const inputs = JSON.parse(readFileSync(join(distDir, 'inputs.json'), 'utf8'));
    return inputs.every((p) => statSync(join(root, p)).mtimeMs <= built);
  } catch {
    return false; // no bundle, or a source it was built from is gone
  }
};

export const bundleUrl = pathToFileURL(join(distDir, 'shiplog.mjs'));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { entry, inputs } = await bundleCli();
    process.stdout.write(`shiplog: compiled ${inputs} sources into ${relative(process.cwd(), entry)}\n`);
  } catch (err) {
    // A failed compile leaves no bundle: the command still runs, through tsx.
    rmSync(distDir, { recursive: true, force: true });
    process.stderr.write(`shiplog: could not compile the CLI (it will run through tsx): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  }
}
