import { Hono } from 'hono';
import type { DeadLetterQueue, LocalBus } from '../../../events/bus/local/index.ts';
import { compilePattern } from '../../../events/bus/pattern/index.ts';
import { toEventBridgeEvent, type StoredEvent } from '../../../events/index.ts';
import type { EventStore } from '../../../events/store/index.ts';
import { cursorAt, parseAt, replayDeployment, replayEntry, replayFromRequest, type Urls } from '../../../projections/index.ts';
import type { ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';

/**
 * What the event routes need: the store and bus to replay onto, and the dead letters of the
 * bus's subscriptions.
 */
export interface EventRouteDeps {
  store: EventStore;
  bus: Pick<LocalBus, 'publish' | 'redrive'>;
  deadLetters: Pick<DeadLetterQueue, 'list'>;
  subscriptionNames: string[];
  /** The sites' URLs a replayed deployment shows; without them it shows none. */
  urls?: Urls | undefined;
}

/** The most events one dry run of `replay events` lists; a wider window answers 400. */
export const MAX_LISTED_EVENTS = 2000;

const isTime = (raw: string | undefined): raw is string => !!raw && /^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(Date.parse(raw));

// The events a replay of [from, to) would publish, as the store holds them (what `--to-bus` leaves out: the publishing).
const replayable = async (store: EventStore, q: { from?: string | undefined; to?: string | undefined; pattern?: string | undefined }): Promise<StoredEvent[]> => {
  if (!isTime(q.from) || !isTime(q.to)) throw new HttpError(400, 'from and to must be ISO 8601 times');
  const [from, to] = [new Date(q.from).toISOString(), new Date(q.to).toISOString()];
  if (to <= from) throw new HttpError(400, `to (${to}) must be after from (${from})`);
  let matches: (e: unknown) => boolean = () => true;
  if (q.pattern) {
    try {
      matches = compilePattern(JSON.parse(q.pattern) as object);
    } catch (err) {
      throw new HttpError(400, `pattern must be an EventBridge event pattern: ${(err as Error).message}`);
    }
  }
  const out: StoredEvent[] = [];
  for await (const e of store.iterateAll({ cursor: cursorAt(from), pageSize: 500 })) {
    if (e.recordedAt >= to) break;
    const entry = replayEntry(e);
    if (!matches(toEventBridgeEvent({ type: e.type, data: e.data, metadata: entry.detail.metadata }, entry.source))) continue;
    if (out.length === MAX_LISTED_EVENTS) throw new HttpError(400, `more than ${MAX_LISTED_EVENTS} events from ${from} to ${to}: narrow the window or the pattern`);
    out.push(e);
  }
  return out;
};

/**
 * The event routes:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/replay` | `{ from, to, pattern? }`: republish stored events as replays (400 for a bad request) |
 * | `GET /api/replay/events?from=&to=[&pattern=]` | the stored events such a replay would publish (at most {@link MAX_LISTED_EVENTS}) |
 * | `GET /api/replay/deployments/:id[?at=]` | a deployment's state at a moment (an ISO time or an event number) and its timeline up to it |
 * | `GET /api/events/:eventId` | one stored event (404 when the store has none) |
 * | `GET /api/events?cursor=&limit=` | a page of the store in global order after a position (or time), for `events tail` |
 * | `GET /api/dlq[?subscription=]` | dead letters, of one subscription or all |
 * | `POST /api/dlq/:subscription/redrive` | `{ ids? }`: deliver dead letters again |
 *
 * @example
 * app.route('/', eventRoutes({ store, bus, deadLetters, subscriptionNames }));
 */
export const eventRoutes = (deps: EventRouteDeps, maxBytes: number) => {
  const app = new Hono<ApiEnv>();
  app.post('/api/replay', async (c) =>
    json(c, 200, await replayFromRequest(await readJson(c, maxBytes), { store: deps.store, bus: deps.bus, matcher: compilePattern })));
  app.get('/api/replay/events', async (c) => json(c, 200, await replayable(deps.store, { from: c.req.query('from'), to: c.req.query('to'), pattern: c.req.query('pattern') })));
  app.get('/api/replay/deployments/:id', async (c) => {
    const id = c.req.param('id');
    const raw = c.req.query('at');
    let at;
    try {
      at = raw === undefined ? undefined : parseAt(raw);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    if ((await deps.store.readDeployment(id)).length === 0) throw new HttpError(404, `no deployment ${id} in the store`);
    try {
      return json(c, 200, await replayDeployment(deps.store, id, { ...(at ? { at } : {}), ...(deps.urls ? { urls: deps.urls } : {}) }));
    } catch (err) {
      throw new HttpError(400, (err as Error).message); // an --at outside the deployment's events
    }
  });
  app.get('/api/events', async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 500) || 500, 1), 500);
    return json(c, 200, await deps.store.readAll({ cursor: c.req.query('cursor') || null, limit }));
  });
  app.get('/api/events/:eventId', async (c) => {
    const id = c.req.param('eventId');
    const e = await deps.store.getEvent(id);
    if (!e) throw new HttpError(404, `no event ${id} in the store`);
    return json(c, 200, e);
  });
  app.get('/api/dlq', async (c) => {
    const only = c.req.query('subscription');
    const names = only ? [only] : deps.subscriptionNames;
    return json(c, 200, (await Promise.all(names.map((n) => deps.deadLetters.list(n)))).flat());
  });
  app.post('/api/dlq/:subscription/redrive', async (c) => {
    const subscription = c.req.param('subscription');
    const body = (await readJson(c, maxBytes)) as { ids?: unknown };
    const ids = Array.isArray(body.ids) ? body.ids.map(String) : undefined;
    if (!deps.subscriptionNames.includes(subscription)) throw new HttpError(404, `no subscription named ${subscription}`);
    return json(c, 200, { redriven: await deps.bus.redrive(subscription, ids) });
  });
  return app;
};
