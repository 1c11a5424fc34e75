import type { EventType } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { streams, toEventBridgeEvent } from '../../events/index.ts';
import { execute, load, type HandlerEvent } from '../shell/index.ts';
import * as delivery from './delivery-decider.ts';
import { SIGNING_SECRET_NAME, signingSecretScope, type SigningSecrets, type WebhookSender } from './ports.ts';
import type { ActiveSubscription } from './registry.ts';
import { signBody } from './signature.ts';

/**
 * A delivery that did not succeed; retryable, so the bus delivers the event again with its
 * policy and dead-letters it after the last attempt.
 */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  readonly retryable = true;
  constructor(readonly failures: { subscriptionId: string; error: string }[]) {
    super(`webhook delivery failed: ${failures.map((f) => `${f.subscriptionId}: ${f.error}`).join('; ')}`);
  }
}

/**
 * The JSON a subscriber receives, and what its pattern is matched against: the event in
 * EventBridge's shape (as the bus carries it), with the shiplog event id as `id`, stable across
 * retries and republishes.
 *
 * @example
 * compilePattern(sub.eventPattern)(webhookPayload(event));
 */
export const webhookPayload = (e: HandlerEvent<EventType>) =>
  toEventBridgeEvent({ type: e.type, data: e.data as unknown, metadata: e.metadata }, e.source);

export interface DeliverDeps {
  store: EventStore;
  secrets: SigningSecrets;
  sender: WebhookSender;
  ids: () => string;
  now: () => string;
  timeoutMs: number;
  maxAttempts: number;
}

const actor = { kind: 'service', id: 'subscriptions' } as const;
const decider = delivery.deliveryDecider;

/**
 * Delivers one event to one subscription unless its delivery stream says it was delivered, and
 * records the attempt there. Answers the error of a failed attempt, or undefined.
 *
 * @example
 * const error = await deliverTo(deps, sub, event);
 */
export const deliverTo = async (deps: DeliverDeps, sub: ActiveSubscription, e: HandlerEvent<EventType>): Promise<string | undefined> => {
  const { subscriptionId, projectId, targetUrl } = sub.data;
  const streamId = streams.delivery(subscriptionId, e.id);
  // 1. load: a duplicate of a delivered event stops here
  const state = await load(deps.store, streamId, decider);
  if (!delivery.isPending(state)) return undefined;
  // 2. send, signed
  const secret = await deps.secrets.get(signingSecretScope(subscriptionId), SIGNING_SECRET_NAME);
  if (!secret) throw new Error(`subscription ${subscriptionId} has no signing secret`);
  const deliveryId = state.deliveryId ?? deps.ids();
  const body = JSON.stringify(webhookPayload(e));
  const res = await deps.sender.send({
    url: targetUrl, body, timeoutMs: deps.timeoutMs,
    headers: {
      'content-type': 'application/json', 'user-agent': 'shiplog-webhooks', 'x-shiplog-event-id': e.id, 'x-shiplog-event-type': e.type,
      'x-shiplog-delivery': deliveryId, 'x-shiplog-signature-256': signBody(body, secret.value),
    },
  });
  const ok = res.statusCode !== null && res.statusCode >= 200 && res.statusCode < 300 && res.error === undefined;
  // 3. record the attempt
  await execute(deps.store, streamId, decider, (): delivery.DeliveryCommand => ({
    type: 'RecordAttempt', projectId, subscriptionId, eventId: e.id, eventType: e.type, deliveryId, maxAttempts: deps.maxAttempts,
    outcome: ok
      ? { ok: true, statusCode: res.statusCode!, durationMs: res.durationMs }
      : { ok: false, statusCode: res.statusCode, error: res.error ?? `HTTP ${res.statusCode}`, durationMs: res.durationMs },
  }), { ids: deps.ids, now: deps.now, cause: e.metadata, actor });
  return ok ? undefined : (res.error ?? `HTTP ${res.statusCode}`);
};
