import { Hono } from 'hono';
import type { SubscriptionCommands } from '../../../services/subscriptions/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { json } from '../json.ts';

/**
 * The routes of the subscriptions service:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/projects/:project/subscriptions` | create; answers `{ subscriptionId, signingSecret }` once (201) |
 * | `GET /api/projects/:project/subscriptions` | the active subscriptions, with delivery counts, no secrets |
 * | `DELETE /api/projects/:project/subscriptions/:id` | remove (reason `user`) |
 *
 * An invalid event pattern answers 400 with EventBridge's own message. A body with
 * `kind: 'runtime-logs'` (and optionally `minLevel`) creates a log drain; the list shows each
 * subscription's `kind`, and a drain's counters (`drain`).
 *
 * @example
 * app.route('/', subscriptionRoutes({ commands: subscriptionsService(deps), actorOf, maxBytes: 64 << 10 }));
 */
export const subscriptionRoutes = ({ commands, actorOf, maxBytes }: { commands: Pick<SubscriptionCommands, 'create' | 'remove' | 'list'>; actorOf: ActorOf; maxBytes: number }) => {
  const app = new Hono<ApiEnv>();
  const base = '/api/projects/:project/subscriptions';
  app.post(base, async (c) => json(c, 201, await commands.create(c.req.param('project'), await readJson(c, maxBytes), actorOf(c.req))));
  app.get(base, async (c) => json(c, 200, { subscriptions: await commands.list(c.req.param('project')) }));
  app.delete(`${base}/:id`, async (c) => json(c, 200, await commands.remove(c.req.param('project'), c.req.param('id'), actorOf(c.req))));
  return app;
};
