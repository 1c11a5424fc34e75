import type { StoredEvent } from '../../../events/envelope.ts';
import type { EventStore } from '../../../events/store/index.ts';
import type { LocalBus } from '../../../events/bus/local/index.ts';
import type { DeadLetterQueue } from '../../../events/bus/local/journal.ts';
import type { DeploymentView } from '../../../projections/views/deployment.ts';
import { foldDeployment as fold } from '../../../projections/replay/deployment.ts';
import { InvalidReplayRequestError, replayFromRequest } from '../../../projections/replay/to-bus.ts';
import { compilePattern } from '../../../events/bus/pattern/index.ts';
import type { LogStore } from '../../../services/build/log-store.ts';
import type { SiteHost } from '../../../services/deploy/ports.ts';
import { HttpError, readJson, route, sendJson, type Route } from './router.ts';

export interface PlatformRouteDeps {
  store: EventStore;
  logs: LogStore;
  bus: LocalBus;
  deadLetters: DeadLetterQueue;
  subscriptionNames: string[];
  host: Pick<SiteHost, 'aliasTarget'>;
  urls(input: { projectId: string; deploymentId: string }): { deployment: string; production: string };
}

/**
 * A deployment as the CLI and scripts see it.
 *
 * @example
 * { id: '01J…', status: 'ready', live: true, url: 'http://01j…-web.localhost:3001', sha: '9fce…' }
 */
export const deploymentRow = (v: DeploymentView, urls: PlatformRouteDeps['urls']) => ({
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


/**
 * The platform's own API: health, deployments (folded from the store), build logs (with SSE),
 * and the dead-letter queues.
 *
 * @example
 * createServer(dispatch([...platformRoutes(deps), ...ingestRoutes(ingestDeps)]))
 */
export const platformRoutes = (deps: PlatformRouteDeps): Route[] => [
  route('GET', '/healthz', ({ res }) => sendJson(res, 200, { ok: true })),

  route('GET', '/api/projects/:project/deployments', async ({ res, params }) => {
    const events = await deps.store.readProject(params.project!);
    const byDeployment = new Map<string, StoredEvent[]>();
    for (const e of events) {
      const id = e.metadata.deploymentId;
      if (id) byDeployment.set(id, [...(byDeployment.get(id) ?? []), e]);
    }
    const rows = [...byDeployment].map(([id, evs]) => deploymentRow(fold(id, evs), deps.urls));
    rows.sort((a, b) => ((b.requestedAt ?? '') < (a.requestedAt ?? '') ? -1 : (b.requestedAt ?? '') > (a.requestedAt ?? '') ? 1 : b.id < a.id ? -1 : 1));
    sendJson(res, 200, rows);
  }),

  route('GET', '/api/projects/:project/aliases', async ({ res, params }) => {
    sendJson(res, 200, { production: (await deps.host.aliasTarget(params.project!, 'production')) ?? null });
  }),

  route('GET', '/api/deployments/:id', async ({ res, params }) => {
    const events = await deps.store.readDeployment(params.id!);
    if (events.length === 0) throw new HttpError(404, `no deployment ${params.id}`);
    sendJson(res, 200, deploymentRow(fold(params.id!, events), deps.urls));
  }),

  route('GET', '/api/deployments/:id/logs', async ({ req, res, params, query }) => {
    const after = Number(query.get('after') ?? 0) || 0;
    const follow = query.get('follow') === '1' || (req.headers.accept ?? '').includes('text/event-stream');
    if (!follow) return sendJson(res, 200, await deps.logs.read(params.id!, after));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const unsubscribe = deps.logs.follow(
      params.id!,
      after,
      (line) => res.write(`id: ${line.n}\ndata: ${JSON.stringify(line)}\n\n`),
      () => {
        res.write('event: end\ndata: {}\n\n');
        res.end();
      },
    );
    req.on('close', unsubscribe);
  }),

  route('POST', '/api/replay', async ({ req, res }) => {
    try {
      sendJson(res, 200, await replayFromRequest(await readJson(req), { store: deps.store, bus: deps.bus, matcher: compilePattern }));
    } catch (err) {
      if (err instanceof InvalidReplayRequestError) throw new HttpError(400, err.message);
      throw err;
    }
  }),

  route('GET', '/api/dlq', async ({ res, query }) => {
    const only = query.get('subscription');
    const names = only ? [only] : deps.subscriptionNames;
    const letters = (await Promise.all(names.map((n) => deps.deadLetters.list(n)))).flat();
    sendJson(res, 200, letters);
  }),

  route('POST', '/api/dlq/:subscription/redrive', async ({ req, res, params }) => {
    const body = (await readJson(req)) as { ids?: unknown };
    const ids = Array.isArray(body.ids) ? body.ids.map(String) : undefined;
    if (!deps.subscriptionNames.includes(params.subscription!)) throw new HttpError(404, `no subscription named ${params.subscription}`);
    sendJson(res, 200, { redriven: await deps.bus.redrive(params.subscription!, ids) });
  }),
];
