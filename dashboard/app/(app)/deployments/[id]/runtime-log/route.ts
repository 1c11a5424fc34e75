import { currentSession } from '../../../../../lib/auth/index.ts';
import { withToken } from '../../../../../lib/server/api.ts';

export const dynamic = 'force-dynamic';

const levels = new Set(['debug', 'info', 'warning', 'error']);

/**
 * `GET /deployments/<id>/runtime-log[?level=]`: the runtime log as server-sent events for a
 * signed-in browser (the newest records, then each new one), relayed from the platform API
 * (`/api/deployments/<id>/runtime-logs?follow=1`).
 */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  if (!(await currentSession())) return new Response('sign in first\n', { status: 401 });
  const { id } = await params;
  const level = new URL(req.url).searchParams.get('level') ?? '';
  let upstream: Response;
  try {
    upstream = await withToken(`/api/deployments/${encodeURIComponent(id)}/runtime-logs?follow=1&limit=200${levels.has(level) ? `&level=${level}` : ''}`, {
      headers: { accept: 'text/event-stream' },
      signal: req.signal,
      cache: 'no-store',
    });
  } catch {
    return new Response('the platform API did not answer\n', { status: 502 });
  }
  if (!upstream.ok || !upstream.body) return new Response(await upstream.text(), { status: upstream.status });
  return new Response(upstream.body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' },
  });
}
