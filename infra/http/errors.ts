import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A request as route handlers see it: params from the path, the query, and the raw request for
 * bodies and headers.
 *
 * @example
 * route('GET', '/api/projects/:name', async ({ params }) => json(200, await getProject(params.name)))
 */
export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type RouteHandler = (r: RouteRequest) => Promise<void> | void;

export interface Route {
  method: string;
  match: (path: string) => Record<string, string> | undefined;
  handle: RouteHandler;
}

/** An error with the HTTP status it should answer with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Wraps route handlers so a service's refusal (its own error type, carrying the HTTP status it
 * means) answers with that status; anything else stays a 500.
 *
 * @example
 * const answering = answeringRefusals(CommandRejectedError);
 * route('POST', '/api/projects', answering(async ({ req, res }) => …));
 */
export const answeringRefusals =
  (refusal: abstract new (...args: never[]) => Error & { status: number }) =>
  (handler: RouteHandler): RouteHandler =>
  async (r) => {
    try {
      await handler(r);
    } catch (err) {
      if (err instanceof refusal) throw new HttpError(err.status, err.message);
      throw err;
    }
  };

/**
 * Declares a route; `:name` segments become params, a trailing `*` matches the rest.
 *
 * @example
 * route('POST', '/api/dlq/:subscription/redrive', handler)
 */
export const route = (method: string, pattern: string, handle: RouteHandler): Route => {
  const parts = pattern.split('/').filter(Boolean);
  return {
    method,
    handle,
    match: (path) => {
      const segs = path.split('/').filter(Boolean);
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p === '*') {
          params['*'] = segs.slice(i).join('/');
          return params;
        }
        const s = segs[i];
        if (s === undefined) return undefined;
        if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(s);
        else if (p !== s) return undefined;
      }
      return segs.length === parts.length ? params : undefined;
    },
  };
};

export const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/**
 * Reads a request body up to `limit` bytes; past it answers 413 through an HttpError.
 *
 * @example
 * const raw = await readBody(req, 1 << 20);
 */
export const readBody = async (req: IncomingMessage, limit: number): Promise<Buffer> => {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

export const readJson = async (req: IncomingMessage, limit = 1 << 20): Promise<unknown> => {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
};

/**
 * Dispatches a request to the first matching route; other paths go to `fallback` (the dashboard)
 * or 404; errors become JSON.
 *
 * @example
 * createServer(dispatch(routes))
 */
export const dispatch =
  (routes: Route[], fallback?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      for (const r of routes) {
        if (r.method !== req.method) continue;
        const params = r.match(url.pathname);
        if (params) return await r.handle({ req, res, params, query: url.searchParams });
      }
      // Everything that is not the API, git or webhooks is the dashboard's.
      if (fallback && !/^\/(api|git|webhooks)(\/|$)|^\/healthz$/.test(url.pathname)) return await fallback(req, res);
      sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
      else res.end();
    }
  };
