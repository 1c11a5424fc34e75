import { Hono } from 'hono';
import type { EventMetadata, StoredEvent } from '../../../events/index.ts';
import type { EventStore } from '../../../events/store/index.ts';
import { currentAliases, errorTextOf, foldDeployment as fold } from '../../../projections/index.ts';
import type { AliasState, DeploymentSummary, DeploymentView, ProjectionPositions, ReadModels } from '../../../projections/index.ts';
import type { LogStore } from '../../../services/build/index.ts';
import type { SiteHost } from '../../../services/deploy/index.ts';
import type { ApiEnv } from '../app.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';
import { projectParam } from '../paths.ts';

/**
 * Committed events as they reach the bus, for routes that follow them as they happen
 * (`infra/local/event-feed.ts` taps the outbox's publishes).
 *
 * @example
 * const stop = feed.subscribe((m) => m.deploymentId === id && refresh());
 */
export interface EventFeed {
  /** Calls `listener` with the metadata of every event published from now on; returns how to stop. */
  subscribe(listener: (metadata: EventMetadata) => void): () => void;
}

/**
 * The projections' read side: with it, deployment lists and details are one Query or GetItem on
 * the read models instead of a fold of the project's history; `positions` makes a read that names
 * an event (`?after=<eventId>`) wait until the read models have applied it.
 */
export interface DeploymentReadModels {
  models: Pick<ReadModels, 'listDeployments' | 'deploymentListItem' | 'getDeployment' | 'getProject'>;
  positions: Pick<ProjectionPositions, 'waitFor'>;
}

/**
 * What the deployment routes read: the store (a deployment's events; the fold when no read
 * models are given or they lag), build logs, where an alias points, and optionally the read
 * models and a feed of committed events.
 */
export interface DeploymentRouteDeps {
  store: Pick<EventStore, 'readProject' | 'readDeployment'> & Partial<Pick<EventStore, 'getEvent'>>;
  logs: Pick<LogStore, 'read' | 'follow'>;
  host: Pick<SiteHost, 'aliasTarget'>;
  urls(input: { projectId: string; deploymentId: string; alias?: string }): { deployment: string; production: string; alias?: string };
  readModels?: DeploymentReadModels | undefined;
  /** Without it, a followed deployment's events are read from the store every `pollMs`. */
  feed?: EventFeed | undefined;
  /** How long a read with `after` waits for the read models before folding the store instead; default 5 s. */
  afterWaitMs?: number;
  /** How often a followed deployment is re-read without a feed; default 1 s. */
  pollMs?: number;
  /** SSE keep-alive comment interval; default 15 s. */
  heartbeatMs?: number;
}

/**
 * A deployment as the CLI and scripts see it. `live`: it went live once; `current`: the aliases
 * it serves now (from the release streams), empty once another deployment replaced it.
 *
 * @example
 * { id: '01J…', status: 'ready', live: true, current: ['production'], url: 'http://01j…-web.localhost:3001',
 *   aliasUrls: ['http://web.localhost:3001'], sha: '9fce…' }
 */
// The stable URLs of the aliases a deployment serves now: the production URL, a preview branch's URL.
const aliasUrlsOf = (projectId: string | null | undefined, deploymentId: string, current: readonly string[], urls: DeploymentRouteDeps['urls']): string[] =>
  projectId ? current.flatMap((alias) => {
    const u = urls({ projectId, deploymentId, alias });
    return alias === 'production' ? [u.production] : u.alias ? [u.alias] : [];
  }) : [];

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
  aliasUrls: aliasUrlsOf(v.projectId, v.deploymentId, current, urls),
  requestedAt: v.requestedAt,
  durations: v.durations,
  error: errorTextOf(v),
});

/** {@link deploymentRow} from a read model's list entry: the same fields, in the same order. */
const summaryRow = (s: DeploymentSummary, urls: DeploymentRouteDeps['urls'], current: readonly string[] = []): ReturnType<typeof deploymentRow> => ({
  id: s.deploymentId,
  projectId: s.projectId,
  status: s.status,
  live: s.liveAt !== null,
  current: [...current],
  target: s.target,
  branch: s.branch,
  sha: s.commit?.sha ?? null,
  message: s.commit?.message ?? null,
  author: s.commit?.author.name ?? null,
  trigger: s.trigger,
  url: s.projectId ? urls({ projectId: s.projectId, deploymentId: s.deploymentId }).deployment : null,
  aliasUrls: aliasUrlsOf(s.projectId, s.deploymentId, current, urls),
  requestedAt: s.requestedAt,
  durations: s.durations,
  error: s.errorText !== undefined ? s.errorText : s.error,
});

/** Which aliases each deployment serves, from a project's alias states (aliases in name order). */
const servedAliases = (aliases: Record<string, AliasState> | undefined): Map<string, string[]> => {
  const current = new Map<string, string[]>();
  for (const [alias, state] of Object.entries(aliases ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    current.set(state.deploymentId, [...(current.get(state.deploymentId) ?? []), alias]);
  }
  return current;
};

const newestFirst = (a: { requestedAt: string | null; id: string }, b: { requestedAt: string | null; id: string }) =>
  (b.requestedAt ?? '') < (a.requestedAt ?? '') ? -1 : (b.requestedAt ?? '') > (a.requestedAt ?? '') ? 1 : b.id < a.id ? -1 : 1;

/**
 * A project's deployments folded from its whole history in the store: what the list route did
 * before the read models served it; still the answer when the read models lag behind a write the
 * caller names, and the benchmark's baseline.
 *
 * @example
 * const rows = foldedDeploymentList(await store.readProject('web'), 'web', urls);
 */
export const foldedDeploymentList = (events: readonly StoredEvent[], projectId: string, urls: DeploymentRouteDeps['urls']) => {
  const byDeployment = new Map<string, StoredEvent[]>();
  for (const e of events) {
    const id = e.metadata.deploymentId;
    if (!id) continue;
    const mine = byDeployment.get(id);
    if (mine) mine.push(e);
    else byDeployment.set(id, [e]);
  }
  const current = currentAliases(projectId, events);
  return [...byDeployment].map(([id, evs]) => deploymentRow(fold(id, evs), urls, current.get(id))).sort(newestFirst);
};

// What a followed deployment's stream says of each event: the event, and the deployment as folded up to it.
const eventFrame = (e: StoredEvent, v: DeploymentView) => ({
  eventId: e.metadata.eventId,
  type: e.type,
  occurredAt: e.metadata.occurredAt,
  position: e.position,
  deployment: { id: v.deploymentId, status: v.status, live: v.live !== null, error: errorTextOf(v) },
});

/**
 * A deployment's events as server-sent events (`event: deployment-event`, `id` = event id), oldest
 * first, each with the deployment's state folded up to it, then `event: caught-up`; then every new
 * event as it is committed.
 * New events are noticed through the feed (the deployment is re-read from the store when an event
 * of it is published) or, without one, by re-reading every `pollMs`. Events up to `after` (an event
 * id, e.g. `Last-Event-ID` on a reconnect) are folded but not sent again.
 */
const deploymentEventStream = (deps: DeploymentRouteDeps, deploymentId: string, first: StoredEvent[], after: string | undefined): Response => {
  const encoder = new TextEncoder();
  const sent = new Set<string>();
  const skip = after ? first.findIndex((e) => e.metadata.eventId === after) : -1;
  for (const e of first.slice(0, skip + 1)) sent.add(e.metadata.eventId);
  let done = false;
  const stops: (() => void)[] = [];
  const stop = () => {
    done = true;
    for (const s of stops.splice(0)) s();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (done) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      const emit = (events: StoredEvent[]) => {
        const ordered = [...events].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
        ordered.forEach((e, i) => {
          if (sent.has(e.metadata.eventId)) return;
          sent.add(e.metadata.eventId);
          send(`id: ${e.metadata.eventId}\nevent: deployment-event\ndata: ${JSON.stringify(eventFrame(e, fold(deploymentId, ordered.slice(0, i + 1))))}\n\n`);
        });
      };
      // Re-reads coalesce: a notification during a read makes one more read follow it. An event the
      // feed announced that the read does not show yet (an index that lags) is looked for again.
      let reading = false;
      let again = false;
      const announced = new Set<string>();
      let retries = 0;
      const refresh = async (): Promise<void> => {
        if (done) return;
        if (reading) return void (again = true);
        reading = true;
        try {
          do {
            again = false;
            const events = await deps.store.readDeployment(deploymentId);
            emit(events);
            for (const e of events) announced.delete(e.metadata.eventId);
          } while (again && !done);
          if (announced.size > 0 && !done && retries++ < 100) {
            const t = setTimeout(() => void refresh(), 20);
            stops.push(() => clearTimeout(t));
          } else if (announced.size === 0) retries = 0;
        } catch (err) {
          send(`event: error\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`);
          stop();
          try {
            controller.close();
          } catch {
            // already closed by the client
          }
        } finally {
          reading = false;
        }
      };
      if (deps.feed) {
        stops.push(deps.feed.subscribe((m) => {
          if (m.deploymentId !== deploymentId) return;
          announced.add(m.eventId);
          void refresh();
        }));
      } else {
        const t = setInterval(() => void refresh(), deps.pollMs ?? 1000);
        stops.push(() => clearInterval(t));
      }
      const heartbeat = setInterval(() => send(': keep-alive\n\n'), deps.heartbeatMs ?? 15_000);
      stops.push(() => clearInterval(heartbeat));
      emit(first);
      send('event: caught-up\ndata: {}\n\n');
      // What was committed between the first read and the subscription.
      void refresh();
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' } });
};

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

// The list with `own` in its place (newest first by request time, then id, as the index sorts).
const withOwn = (items: DeploymentSummary[], own: DeploymentSummary): DeploymentSummary[] => {
  const key = (d: DeploymentSummary) => `${d.requestedAt ?? ''}#${d.deploymentId}`;
  return [...items.filter((d) => d.deploymentId !== own.deploymentId), own].sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
};

/**
 * The deployment read routes:
 *
 * | route | does |
 * | --- | --- |
 * | `GET /api/projects/:project/deployments[?after=<eventId>]` | the project's deployments, newest first, from the read models |
 * | `GET /api/projects/:project/aliases` | what `production` points at |
 * | `GET /api/deployments/:id[?after=<eventId>]` | one deployment, with the aliases it serves now (`current`); 404 if the store has none |
 * | `GET /api/deployments/:id/events[?follow=1]` | its events, each with its state so far; followed as SSE with `follow=1` or `Accept: text/event-stream` |
 * | `GET /api/deployments/:id/logs[?after=&follow=1]` | its build log; followed as SSE with `follow=1` or `Accept: text/event-stream` |
 * | `GET /api/projects/:project/requests/:eventId` | what a request (a rollback's or promotion's event id) has caused so far |
 *
 * Read-your-writes: a read with `?after=<eventId>` (or `x-shiplog-after`), the event id a command
 * answered with, waits (up to `afterWaitMs`) until the read models have applied that event; if they
 * have not by then, it answers from a fold of the store. `x-shiplog-read` says which:
 * `read-model` or `store`. Without read models every answer is a fold of the store.
 *
 * @example
 * app.route('/', deploymentRoutes({ store, logs, host, urls: (i) => host.urls(i), readModels: { models, positions }, feed }));
 */
export const deploymentRoutes = (deps: DeploymentRouteDeps) => {
  const app = new Hono<ApiEnv>();
  const read = deps.readModels;
  // Whether the read models may answer: there are some, and they hold the write the caller names.
  // With the caller's event, `own` is the deployment that event belongs to (if any).
  const readModelsAnswer = async (c: { req: { query(k: string): string | undefined; header(k: string): string | undefined } }): Promise<{ r: DeploymentReadModels; own?: string | undefined } | undefined> => {
    if (!read) return undefined;
    const after = c.req.query('after') || c.req.header('x-shiplog-after');
    if (!after) return { r: read };
    const event = await read.positions.waitFor(after, ['deployments', 'projects'], deps.afterWaitMs ?? 5000);
    return event ? { r: read, own: event.metadata.deploymentId } : undefined;
  };
  const listAll = async (r: DeploymentReadModels, projectId: string): Promise<DeploymentSummary[]> => {
    const out: DeploymentSummary[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof r.models.listDeployments>> = await r.models.listDeployments(projectId, { limit: 500, cursor });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return out;
  };

  app.get('/api/projects/:project/deployments', async (c) => {
    const projectId = c.req.param('project');
    const answer = await readModelsAnswer(c);
    if (!answer) {
      c.header('x-shiplog-read', 'store');
      return json(c, 200, foldedDeploymentList(await deps.store.readProject(projectId), projectId, deps.urls));
    }
    const { r, own } = answer;
    const [project, listed, mine] = await Promise.all([r.models.getProject(projectId), listAll(r, projectId), own ? r.models.deploymentListItem(own) : undefined]);
    // The list is an index that may lag the table by a moment: the caller's own deployment is read
    // from the table and takes its place in the list.
    const items = mine && mine.projectId === projectId ? withOwn(listed, mine) : listed;
    const current = servedAliases(project?.aliases);
    c.header('x-shiplog-read', 'read-model');
    return json(c, 200, items.map((s) => summaryRow(s, deps.urls, current.get(s.deploymentId))));
  });
  app.get('/api/projects/:project/aliases', async (c) => json(c, 200, { production: (await deps.host.aliasTarget(projectParam(c.req.param('project')), 'production')) ?? null }));
  app.get('/api/deployments/:id', async (c) => {
    const id = c.req.param('id');
    const r = (await readModelsAnswer(c))?.r;
    const view = r ? await r.models.getDeployment(id) : undefined;
    // A view made by a later event (its build queued) before its request was folded is only part
    // of the deployment: the store answers until the request is in it.
    if (r && view && view.requestedAt !== null) {
      const project = view.projectId ? await r.models.getProject(view.projectId) : undefined;
      c.header('x-shiplog-read', 'read-model');
      return json(c, 200, deploymentRow(view, deps.urls, servedAliases(project?.aliases).get(id)));
    }
    // No read models, or they lag (a deployment requested a moment ago is not in them yet, or only partly).
    const events = await deps.store.readDeployment(id);
    if (events.length === 0) throw new HttpError(404, `no deployment ${id}`);
    const folded = fold(id, events);
    const current = folded.projectId ? currentAliases(folded.projectId, await deps.store.readProject(folded.projectId)).get(id) : undefined;
    c.header('x-shiplog-read', 'store');
    return json(c, 200, deploymentRow(folded, deps.urls, current));
  });
  app.get('/api/deployments/:id/events', async (c) => {
    const id = c.req.param('id');
    const events = await deps.store.readDeployment(id);
    if (events.length === 0) throw new HttpError(404, `no deployment ${id}`);
    const follow = c.req.query('follow') === '1' || (c.req.header('accept') ?? '').includes('text/event-stream');
    if (follow) return deploymentEventStream(deps, id, events, c.req.header('last-event-id') || c.req.query('after'));
    const ordered = [...events].sort((a, b) => (a.position < b.position ? -1 : 1));
    return json(c, 200, ordered.map((e, i) => eventFrame(e, fold(id, ordered.slice(0, i + 1)))));
  });
  app.get('/api/projects/:project/requests/:eventId', async (c) => {
    const requestId = c.req.param('eventId');
    const projectId = projectParam(c.req.param('project'));
    // What a request caused was committed after it: read the project from a minute before the
    // request (writers' clocks may differ a little), not its whole history.
    const request = deps.store.getEvent ? await deps.store.getEvent(requestId) : undefined;
    const from = request ? new Date(Date.parse(request.recordedAt) - 60_000).toISOString() : undefined;
    const caused = (await deps.store.readProject(projectId, from ? { after: from } : {})).filter((e) => e.metadata.causationId === requestId);
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
