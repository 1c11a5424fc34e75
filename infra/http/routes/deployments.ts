import { Hono } from 'hono';
import type { StoredEvent } from '../../../events/envelope.ts';
import type { EventStore } from '../../../events/store/index.ts';
import { foldDeployment as fold } from '../../../projections/replay/deployment.ts';
import type { DeploymentView } from '../../../projections/views/deployment.ts';
import type { LogStore } from '../../../services/build/log-store.ts';
import type { SiteHost } from '../../../services/deploy/ports.ts';
import type { ApiEnv } from '../app.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';

/**
 * What the deployment routes read: the store (deployments are folded from it), build logs and
 * where an alias points.
 */
export interface DeploymentRouteDeps {
  store: Pick<EventStore, 'readProject' | 'readDeployment'>;
  logs: Pick<LogStore, 'read' | 'follow'>;
  host: Pick<SiteHost, 'aliasTarget'>;
  urls(input: { projectId: string; deploymentId: string }): { deployment: string; production: string };
}

/**
 * A deployment as the CLI and scripts see it.
 *
 * @example
 * { id: '01J…', status: 'ready', live: true, url: 'http://01j…-web.localhost:3001', sha: '9fce…' }
 */
export const deploymentRow = (v: DeploymentView, urls: DeploymentRouteDeps['urls']) => ({
  id: v.deploymentId,
  projectId: v.projectId,
  status: v.status,
  live: v.live !== null,
  target: v.target,
  branch: v.branch,
  sha: v.commit?.sha ?? null,
  message: v.commit?.message.split('\n', 1)[0] ?? null,
  author: v.commit?.author.name ?? null,
  trigger: v.trigger,
  url: v.projectId ? urls({ projectId: v.projectId, deploymentId: v.deploymentId }).deployment : null,
  requestedAt: v.requestedAt,
  durations: v.durations,
  error: v.error ? `${v.error.message}${v.error.logTail.length ? `\n${v.error.logTail.slice(-30).join('\n')}` : ''}` : (v.rejection ? `rejected: ${v.rejection.reason}${v.rejection.detail ? ` (${v.rejection.detail})` : ''}` : null),
});

// A build log as server-sent events: one event per line (`id` = line number), then `end`.
const logEvents = (logs: DeploymentRouteDeps['logs'], deploymentId: string, after: number): Response => {
  const encoder = new TextEncoder();
  let unsubscribe: (() => void) | undefined;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (!done) controller.enqueue(encoder.encode(text));
      };
      unsubscribe = logs.follow(
        deploymentId,
        after,
        (line) => send(`id: ${line.n}\ndata: ${JSON.stringify(line)}\n\n`),
        () => {
          send('event: end\ndata: {}\n\n');
          if (done) return;
          done = true;
          controller.close();
          queueMicrotask(() => unsubscribe?.());
        },
      );
    },
    cancel() {
      done = true;
      unsubscribe?.();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' } });
};

/**
 * The deployment read routes:
 *
 * | route | does |
 * | --- | --- |
 * | `GET /api/projects/:project/deployments` | the project's deployments, newest first, folded from the store |
 * | `GET /api/projects/:project/aliases` | what `production` points at |
 * | `GET /api/deployments/:id` | one deployment (404 if the store has none) |
 * | `GET /api/deployments/:id/logs[?after=&follow=1]` | its build log; followed as SSE with `follow=1` or `Accept: text/event-stream` |
 *
 * @example
 * app.route('/', deploymentRoutes({ store, logs, host, urls: (i) => host.urls(i) }));
 */
export const deploymentRoutes = (deps: DeploymentRouteDeps) => {
  const app = new Hono<ApiEnv>();
  app.get('/api/projects/:project/deployments', async (c) => {
    const events = await deps.store.readProject(c.req.param('project'));
    const byDeployment = new Map<string, StoredEvent[]>();
    for (const e of events) {
      const id = e.metadata.deploymentId;
      if (id) byDeployment.set(id, [...(byDeployment.get(id) ?? []), e]);
    }
    const rows = [...byDeployment].map(([id, evs]) => deploymentRow(fold(id, evs), deps.urls));
    rows.sort((a, b) => ((b.requestedAt ?? '') < (a.requestedAt ?? '') ? -1 : (b.requestedAt ?? '') > (a.requestedAt ?? '') ? 1 : b.id < a.id ? -1 : 1));
    return json(c, 200, rows);
  });
  app.get('/api/projects/:project/aliases', async (c) => json(c, 200, { production: (await deps.host.aliasTarget(c.req.param('project'), 'production')) ?? null }));
  app.get('/api/deployments/:id', async (c) => {
    const id = c.req.param('id');
    const events = await deps.store.readDeployment(id);
    if (events.length === 0) throw new HttpError(404, `no deployment ${id}`);
    return json(c, 200, deploymentRow(fold(id, events), deps.urls));
  });
  app.get('/api/deployments/:id/logs', async (c) => {
    const id = c.req.param('id');
    const after = Number(c.req.query('after') ?? 0) || 0;
    const follow = c.req.query('follow') === '1' || (c.req.header('accept') ?? '').includes('text/event-stream');
    return follow ? logEvents(deps.logs, id, after) : json(c, 200, await deps.logs.read(id, after));
  });
  return app;
};
