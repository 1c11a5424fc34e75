#!/usr/bin/env node
// The `shiplog` command. Runs the compiled bundle (cli/dist/, made by `npm install` through
// cli/bundle.mjs) when it is at least as new as every source it was built from; otherwise the
// TypeScript sources through tsx. `shiplog dev` always runs the sources: the platform finds its
// files (dashboard, function worker) next to its own modules, and it starts once.
import { readFileSync, statSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = new URL('../', import.meta.url);
const bundle = new URL('dist/shiplog.mjs', import.meta.url);

const bundleIsFresh = () => {
  if (process.env.SHIPLOG_CLI_SOURCES === '1') return false;
  try {
    const built = statSync(bundle).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('dist/inputs.json', import.meta.url), 'utf8'));
    return inputs.every((p) => statSync(new URL(p, root)).mtimeMs <= built);
  } catch {
    return false; // no bundle, or a source it was built from is gone
  }
};

if (process.argv[2] !== 'dev' && bundleIsFresh()) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
