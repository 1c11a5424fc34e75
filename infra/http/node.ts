import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ApiEnv } from './app.ts';

// The API's own paths; everything else may belong to an app mounted beside it (the dashboard).
const API_PATH = /^\/(api|git|webhooks)(\/|$)|^\/healthz$/;

/**
 * Serves the API on Node's http server through `@hono/node-server`. `beside` (the dashboard, a
 * Node handler of its own) gets every request outside `/api`, `/git`, `/webhooks` and
 * `/healthz`; without it those answer the API's 404.
 *
 * @example
 * createServer(nodeListener(platformApi(deps), (req, res) => dashboard.handle(req, res))).listen(3000);
 */
export const nodeListener = (app: Hono<ApiEnv>, beside?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>) => {
  // Node's own Request/Response stay global (the dashboard's Next.js runs in a child process of its
  // own, infra/local/dashboard.ts; nothing in this process should see globals replaced).
  const api = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!beside || API_PATH.test(path)) return api(req, res);
    try {
      await beside(req, res);
    } catch (err) {
      if (res.headersSent) return void res.end();
      const text = JSON.stringify({ error: err instanceof Error ? err.message : String(err) });
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
    }
  };
};
