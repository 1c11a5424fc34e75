// `node --import <this file> open-next build`: puts the build cache (cache.mjs) around OpenNext's
// code patcher and dependency installer (see hooks.mjs). The folder is set by SHIPLOG_OPEN_NEXT_CACHE.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
