import 'server-only';
import { currentSession } from '../auth/index.ts';
import { context } from './context.ts';

/**
 * A command the platform refused (or could not take): the message is shown to the user.
 *
 * @example
 * try { await command('POST', '/api/projects', input); } catch (err) { if (err instanceof CommandError) show(err.message); }
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const messageOf = (status: number, body: unknown, method: string, path: string): string => {
  const error = typeof body === 'object' && body !== null && 'error' in body ? String((body as { error: unknown }).error) : '';
  if (status === 404 && error.startsWith('no route')) return `This shiplog does not take that command yet (no ${method} ${path.replace(/\?.*$/, '')} in its API).`;
  return error || `The platform answered ${status}.`;
};

/**
 * A call to the platform's API with the dashboard's token; a 401 reads the token again and
 * retries once (on AWS it rotates with each deploy).
 *
 * @example
 * const res = await withToken(`/api/deployments/${id}/logs`, { headers: { accept: 'text/event-stream' } });
 */
export const withToken = async (path: string, init: RequestInit = {}): Promise<Response> => {
  const send = async (fresh: boolean) =>
    fetch(`${context().apiUrl}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${await context().apiToken({ fresh })}` },
    });
  const res = await send(false);
  if (res.status !== 401) return res;
  await res.body?.cancel();
  return send(true);
};

/**
 * Sends a command to the platform's API, where it ends as an event. The dashboard never calls
 * a service or writes a read model itself.
 *
 * @example
 * const { deploymentId } = await command<{ deploymentId: string }>('POST', `/api/deployments/${id}/redeploy`, {});
 */
export const command = async <T = unknown>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> => {
  let res: Response;
  // The event history says who did it: the signed-in user (only a dashboard token may name one).
  const user = (await currentSession())?.user;
  try {
    res = await withToken(path, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-shiplog-client': 'dashboard',
        ...(user ? { 'x-shiplog-actor': `${user.provider}:${user.id}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
    });
  } catch (err) {
    throw new CommandError(503, `The platform's API did not answer (${(err as Error).message}).`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // not JSON: keep the text
  }
  if (!res.ok) throw new CommandError(res.status, messageOf(res.status, parsed, method, path));
  return parsed as T;
};

/**
 * A read the read models do not serve (build logs live in the log store): through the API.
 *
 * @example
 * const lines = await apiGet<LogLine[]>(`/api/deployments/${id}/logs`);
 */
export const apiGet = async <T>(path: string): Promise<T> => {
  const res = await withToken(path, { cache: 'no-store' });
  if (!res.ok) throw new CommandError(res.status, messageOf(res.status, await res.json().catch(() => ({})), 'GET', path));
  return (await res.json()) as T;
};
