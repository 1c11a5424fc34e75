import type { Context } from 'aws-lambda';
import { awsSubscriptions } from '../runtime/root.ts';

/**
 * `SubscriptionsDeliver` (topology): delivers shiplog events to the project's webhook subscriptions.
 *
 * @example
 * // infra/topology.ts: subscribe('SubscriptionsDeliver', 'infra/aws/functions/subscriptions.onEvent', …)
 */
export const onEvent = (event: unknown, context?: Context): Promise<void> => awsSubscriptions().onEvent(event, context);
