import { EventType, Source, policies } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { defineHandler, type HandlerEvent, type IdempotencyOptions } from '../shell/index.ts';
import { subscriptionCommands } from './commands.ts';
import { deliverTo, webhookPayload, WebhookDeliveryError } from './deliver.ts';
import { runtimeLogDrain, type DrainOptions } from './drain.ts';
import type { SigningSecrets, WebhookSender } from './ports.ts';
import { subscriptionRegistry } from './registry.ts';
import type { AllowList } from './target-policy.ts';

export interface SubscriptionsServiceDeps {
  store: EventStore;
  secrets: SigningSecrets;
  sender: WebhookSender;
  ids: () => string;
  now: () => string;
  idempotency?: IdempotencyOptions;
  newSecret?: () => string;
  secretRefScheme?: 'local' | 'ssm' | 'secretsmanager';
  /** Internal targets allowed anyway (`SHIPLOG_WEBHOOK_ALLOW`), at creation; give the sender the same list. */
  allow?: AllowList;
  /** How long a project's subscriptions are cached (default 5 s): a removal stops deliveries within it. */
  cacheTtlMs?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** The bus's attempts for `SubscriptionsDeliver`, to record whether a failure will be retried. */
  maxAttempts?: number;
  /** The log drain's batching, buffer and retries (`runtime-logs` subscriptions). */
  drain?: DrainOptions;
  /** Where the log drain says it drops records (never with a secret or a record). */
  log?: (line: string) => void;
}

/** The name of the subscription in `infra/topology.ts`. */
export const SUBSCRIPTIONS_DELIVER = 'SubscriptionsDeliver';

/**
 * The subscriptions service: signed webhooks of shiplog's events to outside systems.
 * `create`/`remove`/`list` are the command side; `onEvent` delivers every event of a project to
 * its matching subscriptions and records each attempt in `delivery#<subscription>#<event>`.
 *
 * Events of `shiplog.subscriptions` itself are never delivered: each delivery appends a
 * `DeliverySucceeded`/`DeliveryFailed`, which would be delivered, which would append another,
 * without end. Replays are not delivered either (`defineHandler` skips them): a subscriber
 * already had them. A subscription receives the events that occurred from its creation on, not
 * older ones the bus happens to carry after it (the outbox may lag behind the API).
 *
 * `runtime-logs` subscriptions get no events: `drain` sends them runtime log records, which
 * the runtime's log capture offers it (`drain.offer`); `list` shows its counters.
 *
 * @example
 * const subs = subscriptionsService({ store, secrets, sender: fetchWebhookSender(), ids, now });
 * bus subscriber SubscriptionsDeliver: subs.onEvent
 */
export const subscriptionsService = (deps: SubscriptionsServiceDeps) => {
  const registry = subscriptionRegistry({ store: deps.store, ...(deps.cacheTtlMs === undefined ? {} : { ttlMs: deps.cacheTtlMs }) });
  const commands = subscriptionCommands({ ...deps, onChange: registry.invalidate });
  const deliverDeps = { ...deps, timeoutMs: deps.timeoutMs ?? 10_000, maxAttempts: deps.maxAttempts ?? policies.service.maxAttempts };

  // The project's webhook subscriptions that were active when the event happened and match it.
  const targetsOf = async (e: HandlerEvent<EventType>) => {
    if (e.source === Source.subscriptions) return [];
    const payload = webhookPayload(e);
    return (await registry.active(e.metadata.projectId))
      .filter((s) => s.data.kind !== 'runtime-logs' && s.createdAt <= e.metadata.occurredAt && s.matches(payload));
  };

  const onEvent = defineHandler({
    name: SUBSCRIPTIONS_DELIVER,
    accepts: Object.values(EventType),
    ...(deps.idempotency ? { idempotency: deps.idempotency } : {}),
    // Most events match no subscription: they cost no idempotency record.
    relevant: async (e) => (await targetsOf(e)).length > 0,
    handle: async (e, { logger }) => {
      const targets = await targetsOf(e);
      const errors = await Promise.all(targets.map((s) => deliverTo(deliverDeps, s, e)));
      const failures = targets.flatMap((s, i) => (errors[i] === undefined ? [] : [{ subscriptionId: s.data.subscriptionId, error: errors[i]! }]));
      if (targets.length > 0) logger.info('delivered to subscriptions', { subscriptions: targets.length, failed: failures.length });
      if (failures.length > 0) throw new WebhookDeliveryError(failures);
    },
  });

  const drain = runtimeLogDrain({
    registry, secrets: deps.secrets, sender: deps.sender, ids: deps.ids, now: deps.now, timeoutMs: deliverDeps.timeoutMs, ...deps.drain,
    ...(deps.log ? { log: deps.log } : {}),
  });
  const list = async (projectId: string) => (await commands.list(projectId)).map((v) => {
    const stats = v.kind === 'runtime-logs' ? drain.stats(v.subscriptionId) : undefined;
    return stats ? { ...v, drain: stats } : v;
  });

  return { ...commands, list, onEvent, registry, drain };
};
export type SubscriptionsService = ReturnType<typeof subscriptionsService>;
