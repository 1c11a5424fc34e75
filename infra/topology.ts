import { EventType, Source } from '../events/catalog.ts';
import type { DeliveryPolicy, EventPattern, Subscription } from './topology-types.ts';

export type { DeliveryPolicy, EventPattern, Subscription } from './topology-types.ts';

/**
 * Delivery policies. EventBridge's defaults are 185 retries over 24 hours; ours are shorter:
 * a deployment that waits a day for a retry is worse than a dead letter someone can redrive.
 *
 * @example
 * subscribe('X', 'services/x/lambda.handler', pattern, policies.service)
 */
export const policies = {
  service: { maxAttempts: 8, maxEventAgeSeconds: 3600, deadLetter: true },
  projection: { maxAttempts: 16, maxEventAgeSeconds: 86_400, deadLetter: true },
} as const satisfies Record<string, DeliveryPolicy>;

/**
 * Declares one subscription.
 *
 * @example
 * subscribe('DeployOnBuildSucceeded', 'services/deploy/lambda.handler',
 *   { source: [Source.build], 'detail-type': [EventType.BuildSucceeded] }, 'deploys a finished build')
 */
export const subscribe = (
  name: string,
  handler: string,
  pattern: EventPattern,
  description: string,
  policy: DeliveryPolicy = policies.service,
  kind: Subscription['kind'] = 'service',
): Subscription => ({ name, handler, pattern, description, policy: { ...policy }, kind });

const allShiplogEvents: EventPattern = { source: [{ prefix: 'shiplog.' }] };

/**
 * Every subscription of shiplog, declared once. `infra/aws` turns each into an EventBridge rule,
 * a Lambda target with this retry policy and an SQS dead-letter queue; `infra/local` runs the
 * same handlers on the local bus with the same patterns and policies.
 *
 * @example
 * subscriptions.find((s) => s.name === 'Projections')?.pattern;
 */
export const subscriptions: Subscription[] = [
  subscribe(
    'Projections',
    'projections/lambda.handler',
    allShiplogEvents,
    'folds every event into the read models the dashboard and the CLI query',
    policies.projection,
    'projection',
  ),
];

/**
 * Event types no service reacts to, on purpose: they are facts for the history, the read models
 * and outside subscribers. Every other type must have a service subscription.
 *
 * @example
 * terminalEvents.includes(EventType.DeploymentLive); // true
 */
export const terminalEvents: readonly EventType[] = Object.values(EventType);

/** The sources a subscription pattern may name. */
export const knownSources: readonly string[] = Object.values(Source);
