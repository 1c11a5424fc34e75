import type { Actor } from '../../../events/envelope.ts';
import type { ActorOf } from '../../http/app.ts';

/**
 * Who a local API request acts for. The local API has no login step (the CLI finds it through
 * the data dir), so a client may name its user in `x-shiplog-actor` (the dashboard sends the
 * signed-in user); otherwise it is the machine's local user. A hosted API must take the actor
 * from its authenticator instead.
 *
 * @example
 * platformApi({ ...deps, actorOf: localActor });
 */
export const localActor: ActorOf = (req): Actor => {
  const named = req.header('x-shiplog-actor');
  const id = typeof named === 'string' ? named.trim() : '';
  return /^[\w.@:-]{1,128}$/.test(id) ? { kind: 'user', id } : { kind: 'user', id: 'local' };
};
