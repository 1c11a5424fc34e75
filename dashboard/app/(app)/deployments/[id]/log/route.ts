import { currentSession } from '../../../../../lib/auth/index.ts';
import { withToken } from '../../../../../lib/server/api.ts';

export const dynamic = 'force-dynamic';

/**
 * `GET /deployments/<id>/log`: the build log as server-sent events for a signed-in browser,
 * relayed from the platform API (`/api/deployments/<id>/logs?follow=1`). Resumes after
 * `?after=` or the browser's `Last-Event-ID`.
 */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  if (!(await currentSession())) return new Response('sign in first\n', { status: 401 });
  const { id } = await params;
  const after = Math.max(Number(new URL(req.url).searchParams.get('after')) || 0, Number(req.headers.get('last-event-id')) || 0);
  let upstream: Response;
  try {
    upstream = await withToken(`/api/deployments/${encodeURIComponent(id)}/logs?follow=1&after=${after}`, {
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
