import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * A JSON answer, as every route of the API sends it (`application/json; charset=utf-8`).
 *
 * @example
 * return json(c, 201, created);
 */
export const json = (c: Context, status: number, body: unknown): Response =>
  c.body(JSON.stringify(body), status as ContentfulStatusCode, { 'content-type': 'application/json; charset=utf-8' });
