import type { Context } from 'aws-lambda';
import { awsAlarms, awsObservability } from '../runtime/root.ts';

/**
 * `ObservabilityOnAlarmRaised` (topology): an alarm raised with `rollback` asks the deploy service
 * to roll production back to the previous deployment.
 *
 * @example
 * // infra/topology.ts: subscribe('ObservabilityOnAlarmRaised', 'infra/aws/functions/observability.onAlarmRaised', …)
 */
export const onAlarmRaised = (event: unknown, context?: Context): Promise<void> =>
  awsObservability().onAlarmRaised(event, context);

/**
 * `AlarmsEvaluate` (an AWS-only rule, every minute): judges every project's alarm rule against
 * what its production deployment served in the rule's window.
 *
 * @example
 * // infra/aws/aws-rules.ts: { name: 'AlarmsEvaluate', handler: 'infra/aws/functions/observability.evaluateAlarms', … }
 */
export const evaluateAlarms = async (_event?: unknown): Promise<{ projects: number; appended: number }> => awsAlarms().evaluateAll();
