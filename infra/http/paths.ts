import type { MiddlewareHandler } from 'hono';
import { ProjectId } from '../../events/index.ts';
import { HttpError } from './errors.ts';
import { json } from './json.ts';

/**
 * Whether every segment of a raw URL path percent-decodes (`%ZZ` and a lone `%` do not, nor
 * an encoded invalid UTF-8 sequence such as `%C0`).
 *
 * @example
 * isDecodablePath('/api/deployments/%ZZ'); // false
 * isDecodablePath('/api/projects/web%2Dapp'); // true
 */
export const isDecodablePath = (rawPath: string): boolean => {
  try {
    for (const segment of rawPath.split('/')) decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
};

/**
 * Answers 400 for a request whose path does not percent-decode, before any route sees it (a
 * route would otherwise take the raw text for a name, or fail with a 500).
 *
 * @example
 * app.use('*', rejectMalformedPaths);
 */
export const rejectMalformedPaths: MiddlewareHandler = async (c, next) => {
  const raw = c.req.url.replace(/^[a-z]+:\/\/[^/]*/i, '').split(/[?#]/, 1)[0] ?? '/';
  if (!isDecodablePath(raw)) return json(c, 400, { error: `malformed path: "${raw.slice(0, 200)}" is not valid percent-encoding` });
  await next();
};

/**
 * A project name from a path parameter, or a 400 naming what is wrong with it.
 *
 * @example
 * const project = projectParam(c.req.param('project')); // 'web'
 */
export const projectParam = (value: string): string => {
  const parsed = ProjectId.safeParse(value);
  if (!parsed.success) throw new HttpError(400, `invalid project name "${value.slice(0, 100)}": ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
};
