import type { DeliveryPolicy } from '../events/index.ts';

/**
 * An EventBridge event pattern, as JSON. Build it from catalog constants (`Source`, `EventType`),
 * never from string literals.
 *
 * @example
 * const p: EventPattern = { source: [Source.build], 'detail-type': [EventType.BuildSucceeded] };
 */
export type EventPattern = Record<string, unknown>;

/** How the bus delivers to one subscription (retries, maximum age, dead letters). */
export type { DeliveryPolicy } from '../events/index.ts';

/**
 * One subscription: who listens to which pattern. `handler` is the module (relative to the repo
 * root, without extension) and export of the Lambda entry on AWS; the local runtime maps the same
 * `name` to the same handler built with local ports.
 *
 * @example
 * subscribe('DeployOnBuildSucceeded', 'infra/aws/functions/deploy.onBuildSucceeded', pattern)
 */
export interface Subscription {
  name: string;
  description: string;
  handler: string;
  pattern: EventPattern;
  policy: DeliveryPolicy;
  /**
   * `service` subscriptions react (and count for "every event has a consumer");
   * `projection` and `fanout` ones take everything for read models and outside subscribers.
   */
  kind: 'service' | 'projection' | 'fanout';
}
