// `open-next build`, started ahead: `node [--import <cache hooks>] open-next-packager.mjs <open-next bin>`
// runs in the build's sandbox while `next build` still runs, loads OpenNext's build modules (and the
// cache hooks) at once, and builds only when shiplog's word comes over the IPC channel:
// `{ configPath }`, sent once next build has succeeded. Then it is `open-next build --config-path
// <configPath>` itself: the CLI runs in this process, on the modules already loaded. Without the
// word (the channel closed: shiplog stopped or died) it exits having built nothing; shiplog kills
// its process group when next build fails.
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openNextBuildArgs } from './open-next-args.mjs';

const bin = process.argv[2];
const word = new Promise((resolve) => {
  process.once('message', resolve);
  process.once('disconnect', () => resolve(undefined));
});
if (!bin || !process.send) {
  console.error('open-next-packager: usage: node open-next-packager.mjs <open-next bin>, with an IPC channel');
  process.exit(2);
}

// What `open-next build` loads first (its build.js, beside the CLI), loaded while next build runs. A
// CLI of another shape loads everything at the word, and reports its own errors then.
await import(pathToFileURL(join(dirname(bin), 'build.js')).href).catch(() => undefined);

const go = await word;
if (typeof go?.configPath !== 'string') {
  console.error('open-next-packager: no word to build came (shiplog stopped)');
  process.exit(1);
}
// The channel is not needed any more: the process ends when the build does, as the CLI would.
process.disconnect();
process.argv = [process.argv[0], bin, ...openNextBuildArgs(go.configPath)];
await import(pathToFileURL(bin).href);
