import { Hono } from 'hono';
import { ObservabilityRequestError, type ObservabilityCommands, type RuntimeLogRecord } from '../../../services/observability/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';

/**
 * What the observability routes are built from.
 *
 * @example
 * observabilityRoutes({ commands: observabilityCommands(deps), actorOf, maxBytes: 16 << 10 });
 */
export interface ObservabilityRouteDeps {
  commands: ObservabilityCommands;
  actorOf: ActorOf;
  maxBytes: number;
  /** SSE keep-alive comment interval; default 15 s. */
  heartbeatMs?: number;
}

// The service's refusals answer their own status.
const refused = async <T>(f: () => Promise<T>): Promise<T> => {
  try {
    return await f();
  } catch (e) {
    throw e instanceof ObservabilityRequestError ? new HttpError(e.status, e.message) : e;
  }
};

// A runtime log as server-sent events: the latest records, `caught-up`, then each new one. The
// follow starts before the read, so a record appended in between is sent once, after the read.
const followEvents = async (deps: ObservabilityRouteDeps, deploymentId: string, q: { level?: string; since?: string; limit?: number }): Promise<Response> => {
  const encoder = new TextEncoder();
  let forward: ((r: RuntimeLogRecord) => void) | undefined;
  const early: RuntimeLogRecord[] = [];
  const unfollow = await refused(() => deps.commands.followRuntimeLogs(deploymentId, { ...(q.level ? { level: q.level } : {}) }, (r) => (forward ? forward(r) : early.push(r))));
  let first: RuntimeLogRecord[];
  try {
    first = await refused(() => deps.commands.runtimeLogs(deploymentId, { ...q, limit: q.limit ?? 100 }));
  } catch (e) {
    unfollow();
    throw e;
  }
  let stop = unfollow;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          open = false;
        }
      };
      const record = (r: RuntimeLogRecord) => send(`data: ${JSON.stringify(r)}\n\n`);
      first.forEach(record);
      const sent = new Set(first.map((r) => JSON.stringify(r)));
      early.filter((r) => !sent.has(JSON.stringify(r))).forEach(record);
      send('event: caught-up\ndata: {}\n\n');
      forward = record;
      const heartbeat = setInterval(() => send(': keep-alive\n\n'), deps.heartbeatMs ?? 15_000);
      stop = () => {
        open = false;
        unfollow();
        clearInterval(heartbeat);
      };
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' } });
};

/**
 * The routes of the observability service:
 *
 * | route | does |
 * | --- | --- |
 * | `GET /api/deployments/:id/runtime-logs[?level=&since=&limit=&follow=1]` | its runtime log (`{ records }`); followed as SSE with `follow=1` or `Accept: text/event-stream` |
 * | `GET /api/projects/:project/metrics[?since=1h]` | request metrics per deployment and route |
 * | `GET /api/projects/:project/alarms` | the alarm rule and whether it is raised |
 * | `POST /api/projects/:project/alarms` | `{ maxErrorRate, windowSeconds, minRequests, autoRollback?, watchSeconds? }`: set the rule |
 * | `GET /api/projects/:project/costs[?since=30d]` | the cost estimate per deployment, from measured usage |
 *
 * @example
 * app.route('/', observabilityRoutes({ commands, actorOf, maxBytes: 16 << 10 }));
 */
export const observabilityRoutes = (deps: ObservabilityRouteDeps) => {
  const app = new Hono<ApiEnv>();
  const { commands } = deps;
  app.get('/api/deployments/:id/runtime-logs', async (c) => {
    const limit = c.req.query('limit');
    const q = {
      ...(c.req.query('level') ? { level: c.req.query('level') } : {}),
      ...(c.req.query('since') ? { since: c.req.query('since') } : {}),
      ...(limit ? { limit: Number(limit) || 1000 } : {}),
    };
    const follow = c.req.query('follow') === '1' || (c.req.header('accept') ?? '').includes('text/event-stream');
    if (follow) return followEvents(deps, c.req.param('id'), q);
    return json(c, 200, { records: await refused(() => commands.runtimeLogs(c.req.param('id'), q)) });
  });
  app.get('/api/projects/:project/metrics', async (c) =>
    json(c, 200, await refused(() => commands.metrics(c.req.param('project'), { ...(c.req.query('since') ? { since: c.req.query('since') } : {}) }))));
  app.get('/api/projects/:project/alarms', async (c) => json(c, 200, await refused(() => commands.getAlarmRule(c.req.param('project')))));
  app.post('/api/projects/:project/alarms', async (c) => {
    const body = await readJson(c, deps.maxBytes);
    return json(c, 200, await refused(() => commands.setAlarmRule(c.req.param('project'), body, deps.actorOf(c.req))));
  });
  app.get('/api/projects/:project/costs', async (c) =>
    json(c, 200, await refused(() => commands.costs(c.req.param('project'), { ...(c.req.query('since') ? { since: c.req.query('since') } : {}) }))));
  return app;
};
