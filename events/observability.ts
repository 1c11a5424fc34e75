import { z } from 'zod';
import { Actor } from './envelope.ts';
import { Alias, Id, ProjectId, Timestamp } from './primitives.ts';

/**
 * What an alarm watches. Error rate and latency come from the serving functions, the rest
 * from the platform itself.
 *
 * @example
 * AlarmMetric.parse('5xx-rate');
 */
export const AlarmMetric = z.enum(['5xx-rate', 'p99-latency-ms', 'function-errors', 'function-throttles', 'build-failure-rate']);
export type AlarmMetric = z.infer<typeof AlarmMetric>;

/** The ids every alarm event carries. */
const AlarmRef = z.object({
  projectId: ProjectId,
  alarmId: Id,
  alias: Alias.optional(),
  deploymentId: Id.optional().describe('The deployment live when the alarm changed state, if any'),
});

/**
 * An alarm crossed its threshold over its evaluation window.
 *
 * @example
 * AlarmRaised.parse({ type: 'AlarmRaised', data: { projectId: 'web', alarmId: 'a1', alias: 'production', deploymentId: 'd2',
 *   metric: '5xx-rate', severity: 'critical', threshold: 0.05, observed: 0.12, windowSeconds: 300, since: '2026-11-22T10:00:00.000Z' } });
 */
export const AlarmRaised = z.object({
  type: z.literal('AlarmRaised'),
  data: AlarmRef.extend({
    metric: AlarmMetric,
    severity: z.enum(['info', 'warning', 'critical']),
    threshold: z.number(),
    observed: z.number(),
    windowSeconds: z.number().int().min(1),
    since: Timestamp,
    description: z.string().max(1000).optional(),
    rollback: z.boolean().optional().describe('The rule rolls the deployment back: it breached within its watch period after going live'),
  }),
});
export type AlarmRaised = z.infer<typeof AlarmRaised>;

/**
 * A raised alarm is back under its threshold.
 *
 * @example
 * AlarmCleared.parse({ type: 'AlarmCleared', data: { projectId: 'web', alarmId: 'a1', metric: '5xx-rate', observed: 0.01,
 *   raisedAt: '2026-11-22T10:00:00.000Z' } });
 */
export const AlarmCleared = z.object({
  type: z.literal('AlarmCleared'),
  data: AlarmRef.extend({ metric: AlarmMetric, observed: z.number(), raisedAt: Timestamp }),
});
export type AlarmCleared = z.infer<typeof AlarmCleared>;

/**
 * A project's alarm rule was set (or replaced): the production deployment's 5xx rate over the last
 * `windowSeconds`, once at least `minRequests` requests were served in it, must stay at or under
 * `maxErrorRate`. With `autoRollback`, a deployment that breaches within `watchSeconds` of going
 * live is rolled back to the previous one.
 *
 * @example
 * AlarmRuleSet.parse({ type: 'AlarmRuleSet', data: { projectId: 'web', alarmId: 'error-rate', metric: '5xx-rate', maxErrorRate: 0.05,
 *   windowSeconds: 300, minRequests: 20, autoRollback: true, watchSeconds: 600, setBy: { kind: 'user', id: 'admin' } } });
 */
export const AlarmRuleSet = z.object({
  type: z.literal('AlarmRuleSet'),
  data: z.object({
    projectId: ProjectId,
    alarmId: Id,
    metric: z.literal('5xx-rate'),
    maxErrorRate: z.number().min(0).max(1),
    windowSeconds: z.number().int().min(10).max(86_400),
    minRequests: z.number().int().min(1).max(1_000_000),
    autoRollback: z.boolean(),
    watchSeconds: z.number().int().min(0).max(86_400),
    setBy: Actor,
  }),
});
export type AlarmRuleSet = z.infer<typeof AlarmRuleSet>;

/**
 * Every event the observability service emits.
 *
 * @example
 * ObservabilityEvent.parse({ type: 'AlarmRaised', data });
 */
export const ObservabilityEvent = z.discriminatedUnion('type', [AlarmRuleSet, AlarmRaised, AlarmCleared]);
export type ObservabilityEvent = z.infer<typeof ObservabilityEvent>;
