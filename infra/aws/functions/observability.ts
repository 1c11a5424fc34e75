import type { Context } from 'aws-lambda';
import { awsObservability } from '../runtime/root.ts';

/**
 * `ObservabilityOnAlarmRaised` (topology): an alarm raised with `rollback` asks the deploy service
 * to roll production back to the previous deployment.
 *
 * @example
 * // infra/topology.ts: subscribe('ObservabilityOnAlarmRaised', 'infra/aws/functions/observability.onAlarmRaised', …)
 */
export const onAlarmRaised = (event: unknown, context?: Context): Promise<void> =>
  awsObservability().onAlarmRaised(event, context);
