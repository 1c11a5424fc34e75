import { Hono } from 'hono';
import type { DeadLetterQueue, LocalBus } from '../../../events/bus/local/index.ts';
import { compilePattern } from '../../../events/bus/pattern/index.ts';
import type { EventStore } from '../../../events/store/index.ts';
import { replayFromRequest } from '../../../projections/index.ts';
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
}

/**
 * The event routes:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/replay` | `{ from, to, pattern? }`: republish stored events as replays (400 for a bad request) |
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
