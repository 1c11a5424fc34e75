import type { IncomingMessage } from 'node:http';
import type { Actor } from '../../events/envelope.ts';
import { answeringRefusals, readJson, route, sendJson, type Route } from '../../infra/local/api/router.ts';
import { SubscriptionRequestError, type SubscriptionCommands } from './commands.ts';

export interface SubscriptionRouteDeps {
  commands: Pick<SubscriptionCommands, 'create' | 'remove' | 'list'>;
  /** Who sent a request; default: the local user. */
  actorOf?: (req: IncomingMessage) => Actor;
  /** Largest JSON body; default 64 KiB. */
  maxBytes?: number;
}

const answering = answeringRefusals(SubscriptionRequestError);

/**
 * The routes of the subscriptions service:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/projects/:project/subscriptions` | create; answers `{ subscriptionId, signingSecret }` once (201) |
 * | `GET /api/projects/:project/subscriptions` | the active subscriptions, with delivery counts, no secrets |
 * | `DELETE /api/projects/:project/subscriptions/:id` | remove (reason `user`) |
 *
 * An invalid event pattern answers 400 with EventBridge's own message.
 *
 * @example
 * http.createServer(dispatch(subscriptionRoutes({ commands: subscriptionsService(deps) })));
 */
export const subscriptionRoutes = (deps: SubscriptionRouteDeps): Route[] => {
  const actorOf = deps.actorOf ?? ((): Actor => ({ kind: 'user', id: 'local' }));
  const base = '/api/projects/:project/subscriptions';
  return [
    route('POST', base, answering(async ({ req, res, params }) =>
      sendJson(res, 201, await deps.commands.create(params.project!, await readJson(req, deps.maxBytes ?? 64 << 10), actorOf(req))))),
    route('GET', base, answering(async ({ res, params }) => sendJson(res, 200, { subscriptions: await deps.commands.list(params.project!) }))),
    route('DELETE', `${base}/:id`, answering(async ({ req, res, params }) =>
      sendJson(res, 200, await deps.commands.remove(params.project!, params.id!, actorOf(req))))),
  ];
};
