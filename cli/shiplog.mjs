#!/usr/bin/env node
// The `shiplog` command: runs the TypeScript sources through tsx, no build step.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./main.ts');
