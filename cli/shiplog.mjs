#!/usr/bin/env node
// The `shiplog` command. Runs the compiled bundle (cli/dist/, made by `npm install` through
// cli/bundle.mjs) when it is at least as new as every source it was built from; otherwise the
// TypeScript sources through tsx. `shiplog dev` always runs the sources: the platform finds its
// files (dashboard, function worker) next to its own modules, and it starts once.
import { bundleIsFresh, bundleUrl } from './bundle.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

if (process.argv[2] !== 'dev' && process.env.SHIPLOG_CLI_SOURCES !== '1' && bundleIsFresh()) {
  await import(bundleUrl.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
