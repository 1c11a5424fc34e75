// The dashboard's own process, started by dashboard.ts: Next.js's production server for the
// dashboard folder (argv[2]) on a unix socket (argv[3]), with the dashboard's settings in its
// environment. Loading Next replaces process-wide globals for good (fetch, setImmediate,
// process.nextTick, Date, Math.random, console, process.on, NODE_ENV): here they are this
// process's, not the platform's. The parent proxies the dashboard's requests to the socket.
//   child → parent (IPC): { type: 'ready' } once Next serves | { type: 'error', message }
// It closes Next and exits on SIGTERM, and when its parent goes (the IPC channel closes).
// Plain JavaScript on purpose: it runs under a bare `node`, without tsx's loader in front of Next.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [dir, socketPath] = process.argv.slice(2);
if (!dir || !socketPath) {
  process.stderr.write('usage: node dashboard-server.mjs <dashboard dir> <socket path>\n');
  process.exit(2);
}

let server;
let app;
let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  server?.close();
  server?.closeAllConnections();
  await app?.close().catch(() => undefined);
  // The socket and its folder (made for it by the parent, which also removes them when it can).
  try {
    rmSync(socketPath, { force: true });
    rmdirSync(dirname(socketPath));
  } catch {
    // already gone
  }
  process.exit(code);
};
process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));
// The parent is gone (stopped, or killed without a chance to stop this): nothing to serve.
process.once('disconnect', () => void stop(0));

try {
  // Resolved from the dashboard's folder: its own `next`.
  const createNext = createRequire(join(dir, 'package.json'))('next');
  app = createNext({ dir, dev: false, quiet: true, customServer: true });
  await app.prepare();
  const handle = app.getRequestHandler();
  server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    });
  });
  // Only the parent connects, over a socket in a folder of its own: idle connections are kept
  // (its agent reuses them), so a reused one is never closed under a request by a timeout here.
  server.keepAliveTimeout = 0;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  process.send?.({ type: 'ready' });
} catch (err) {
  process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.stderr.write(`${err?.stack ?? err}\n`);
  await stop(1);
}
