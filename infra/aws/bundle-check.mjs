// Bundles sst.config.ts the way `sst deploy` does before it runs Pulumi (esbuild, ESM, node
// platform, SST's platform node_modules as a fallback path, no top-level imports in
// sst.config.ts), without running it. Catches what tsc cannot: an import esbuild cannot resolve,
// a static import in sst.config.ts (SST refuses those), and a second copy of @pulumi/* in the
// bundle (infra/aws must use the `aws`/`$util` SST hands it, so a deploy runs one Pulumi runtime).
// Then bundles every Lambda entry in infra/aws/functions (the modules the topology's handler
// strings name), as `sst.aws.Function` does, so an import that cannot be resolved in a function
// fails here rather than in a deploy.
//
// Usage: node infra/aws/bundle-check.mjs   (after infra/aws/check.sh --prepare)
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const platform = join(root, '.sst/platform');
const esbuild = createRequire(join(platform, 'package.json'))('esbuild');

const disallowTopLevelImports = {
  name: 'disallow-top-level-imports',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (basename(args.importer) === 'sst.config.ts' && args.kind === 'import-statement') {
        return { errors: [{ text: `sst.config.ts imports "${args.path}" at top level; SST allows only dynamic imports in run()` }] };
      }
      return undefined;
    });
  },
};

const result = await esbuild.build({
  stdin: {
    contents: `import mod from './sst.config.ts'; export default mod;`,
    resolveDir: root,
    sourcefile: 'eval.ts',
    loader: 'ts',
  },
  banner: { js: `import * as aws from "@pulumi/aws"; import * as sst from "${join(platform, 'src/components/index.ts')}";` },
  inject: [join(platform, 'src/shim/run.js')],
  define: { $app: JSON.stringify({ name: 'shiplog', stage: 'ci' }), $dev: 'false', $cli: '{}' },
  nodePaths: [join(platform, 'node_modules')],
  bundle: true,
  write: false,
  metafile: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  mainFields: ['module', 'main'],
  logLevel: 'silent',
  plugins: [disallowTopLevelImports],
}).catch((err) => {
  for (const e of err.errors ?? [err]) console.error(`bundle: ${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text ?? e}`);
  process.exit(1);
});

const inputs = Object.keys(result.metafile.inputs);
const pulumiCopies = new Set(
  inputs.map((p) => /^(.*node_modules\/@pulumi\/(?:pulumi|aws))\//.exec(p)?.[1]).filter((p) => p !== undefined),
);
const outside = [...pulumiCopies].filter((p) => !resolve(root, p).startsWith(platform));
if (outside.length > 0) {
  console.error(`bundle: @pulumi packages bundled from outside .sst/platform: ${outside.join(', ')}`);
  process.exit(1);
}
const ours = inputs.filter((p) => !p.includes('node_modules') && !p.startsWith('.sst/'));
console.log(`bundle: sst.config.ts bundles (${inputs.length} inputs, ${ours.length} from the repo, @pulumi from .sst/platform only)`);

// The Lambda entries: each bundles on its own, everything included (SST bundles the AWS SDK too).
const functionsDir = join(root, 'infra/aws/functions');
const entries = readdirSync(functionsDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
const failed = [];
for (const entry of entries) {
  await esbuild
    .build({
      entryPoints: [join(functionsDir, entry)],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      mainFields: ['module', 'main'],
      logLevel: 'silent',
    })
    .catch((err) => {
      failed.push(entry);
      for (const e of err.errors ?? [err]) console.error(`bundle: ${entry}: ${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text ?? e}`);
    });
}
if (failed.length > 0) process.exit(1);
console.log(`bundle: the ${entries.length} Lambda entries of infra/aws/functions bundle (${entries.join(', ')})`);
