import { Hono } from 'hono';
import type { StoredEvent } from '../../../events/index.ts';
import type { EventStore } from '../../../events/store/index.ts';
import { currentAliases, foldDeployment as fold } from '../../../projections/index.ts';
import type { DeploymentView } from '../../../projections/index.ts';
import type { LogStore } from '../../../services/build/index.ts';
import type { SiteHost } from '../../../services/deploy/index.ts';
import type { ApiEnv } from '../app.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';
import { projectParam } from '../paths.ts';

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
 * A deployment as the CLI and scripts see it. `live`: it went live once; `current`: the aliases
 * it serves now (from the release streams), empty once another deployment replaced it.
 *
 * @example
 * { id: '01J…', status: 'ready', live: true, current: ['production'], url: 'http://01j…-web.localhost:3001', sha: '9fce…' }
 */
export const deploymentRow = (v: DeploymentView, urls: DeploymentRouteDeps['urls'], current: readonly string[] = []) => ({
  id: v.deploymentId,
  projectId: v.projectId,
  status: v.status,
  live: v.live !== null,
  current: [...current],
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
 * | `GET /api/deployments/:id` | one deployment, with the aliases it serves now (`current`); 404 if the store has none |
 * | `GET /api/deployments/:id/logs[?after=&follow=1]` | its build log; followed as SSE with `follow=1` or `Accept: text/event-stream` |
 * | `GET /api/projects/:project/requests/:eventId` | what a request (a rollback's or promotion's event id) has caused so far |
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
    const current = currentAliases(c.req.param('project'), events);
    const rows = [...byDeployment].map(([id, evs]) => deploymentRow(fold(id, evs), deps.urls, current.get(id)));
    rows.sort((a, b) => ((b.requestedAt ?? '') < (a.requestedAt ?? '') ? -1 : (b.requestedAt ?? '') > (a.requestedAt ?? '') ? 1 : b.id < a.id ? -1 : 1));
    return json(c, 200, rows);
  });
  app.get('/api/projects/:project/aliases', async (c) => json(c, 200, { production: (await deps.host.aliasTarget(projectParam(c.req.param('project')), 'production')) ?? null }));
  app.get('/api/deployments/:id', async (c) => {
    const id = c.req.param('id');
    const events = await deps.store.readDeployment(id);
    if (events.length === 0) throw new HttpError(404, `no deployment ${id}`);
    const view = fold(id, events);
    const current = view.projectId ? currentAliases(view.projectId, await deps.store.readProject(view.projectId)).get(id) : undefined;
    return json(c, 200, deploymentRow(view, deps.urls, current));
  });
  app.get('/api/projects/:project/requests/:eventId', async (c) => {
    const requestId = c.req.param('eventId');
    const caused = (await deps.store.readProject(projectParam(c.req.param('project')))).filter((e) => e.metadata.causationId === requestId);
    return json(c, 200, { requestId, events: caused.map((e) => ({ eventId: e.metadata.eventId, type: e.type, occurredAt: e.metadata.occurredAt, data: e.data })) });
  });
  app.get('/api/deployments/:id/logs', async (c) => {
    const id = c.req.param('id');
    if ((await deps.store.readDeployment(id)).length === 0) throw new HttpError(404, `no deployment ${id}`);
    const after = Number(c.req.query('after') ?? 0) || 0;
    const follow = c.req.query('follow') === '1' || (c.req.header('accept') ?? '').includes('text/event-stream');
    return follow ? logEvents(deps.logs, id, after) : json(c, 200, await deps.logs.read(id, after));
  });
  return app;
};
