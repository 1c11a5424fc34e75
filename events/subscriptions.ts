import { z } from 'zod';
import { Actor } from './envelope.ts';
import { DurationMs, Id, ProjectId, Timestamp } from './primitives.ts';

const isJsonObject = (text: string): boolean => {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
};

/**
 * An EventBridge event pattern as JSON text (the same string `PutRule` takes).
 *
 * @example
 * EventPatternJson.parse('{"source":["shiplog.deploy"],"detail-type":["DeploymentLive"]}');
 */
export const EventPatternJson = z.string().min(2).max(4096).refine(isJsonObject, 'must be a JSON object (an EventBridge event pattern)');

/**
 * A reference to where a webhook signing secret is stored (SSM parameter, Secrets Manager ARN,
 * or a local key id). The secret itself never enters an event.
 *
 * @example
 * SecretRef.parse('ssm:/shiplog/subscriptions/s1/signing-secret');
 */
export const SecretRef = z.string().regex(/^(?:ssm|secretsmanager|local):\S{1,2048}$/, 'must be a secret reference (ssm:…, secretsmanager:…, local:…)');

/**
 * A webhook subscription to shiplog events was created for a project.
 *
 * @example
 * SubscriptionCreated.parse({ type: 'SubscriptionCreated', data: { projectId: 'web', subscriptionId: 's1',
 *   targetUrl: 'https://hooks.example.com/shiplog', eventPattern: '{"source":["shiplog.deploy"]}',
 *   signingSecretRef: 'ssm:/shiplog/subscriptions/s1/signing-secret', createdBy: { kind: 'user', id: 'admin' } } });
 */
export const SubscriptionCreated = z.object({
  type: z.literal('SubscriptionCreated'),
  data: z.object({
    projectId: ProjectId,
    subscriptionId: Id,
    targetUrl: z.url({ protocol: /^https?$/ }),
    eventPattern: EventPatternJson,
    signingSecretRef: SecretRef,
    description: z.string().max(500).optional(),
    createdBy: Actor,
    kind: z.enum(['events', 'runtime-logs']).optional()
      .describe('What it receives: events (the default when absent), or batches of runtime log records (a log drain), its pattern matched against each record as `detail`'),
  }),
});
export type SubscriptionCreated = z.infer<typeof SubscriptionCreated>;

/**
 * A subscription was removed, by a user or automatically after too many failed deliveries.
 *
 * @example
 * SubscriptionRemoved.parse({ type: 'SubscriptionRemoved', data: { projectId: 'web', subscriptionId: 's1', reason: 'user' } });
 */
export const SubscriptionRemoved = z.object({
  type: z.literal('SubscriptionRemoved'),
  data: z.object({ projectId: ProjectId, subscriptionId: Id, reason: z.enum(['user', 'too-many-failures']) }),
});
export type SubscriptionRemoved = z.infer<typeof SubscriptionRemoved>;

/** The ids every delivery event carries: which event went to which subscription, which attempt. */
const DeliveryRef = z.object({
  projectId: ProjectId,
  subscriptionId: Id,
  deliveryId: Id,
  eventId: Id.describe('The delivered event'),
  eventType: z.string().min(1),
  attempt: z.number().int().min(1),
});

/**
 * The target accepted a delivery (2xx).
 *
 * @example
 * DeliverySucceeded.parse({ type: 'DeliverySucceeded', data: { projectId: 'web', subscriptionId: 's1', deliveryId: 'dl1',
 *   eventId: '01JD…', eventType: 'DeploymentLive', attempt: 1, statusCode: 200, durationMs: 120 } });
 */
export const DeliverySucceeded = z.object({
  type: z.literal('DeliverySucceeded'),
  data: DeliveryRef.extend({ statusCode: z.number().int().min(200).max(299), durationMs: DurationMs }),
});
export type DeliverySucceeded = z.infer<typeof DeliverySucceeded>;

/**
 * A delivery attempt failed. `statusCode` is null when no response came (timeout, DNS, TLS).
 *
 * @example
 * DeliveryFailed.parse({ type: 'DeliveryFailed', data: { projectId: 'web', subscriptionId: 's1', deliveryId: 'dl1', eventId: '01JD…',
 *   eventType: 'DeploymentLive', attempt: 2, statusCode: 503, error: 'Service Unavailable', willRetry: true, nextAttemptAt } });
 */
export const DeliveryFailed = z.object({
  type: z.literal('DeliveryFailed'),
  data: DeliveryRef.extend({
    statusCode: z.number().int().min(100).max(599).nullable(),
    error: z.string().max(1000),
    durationMs: DurationMs.optional(),
    willRetry: z.boolean(),
    nextAttemptAt: Timestamp.optional(),
  }),
});
export type DeliveryFailed = z.infer<typeof DeliveryFailed>;

/**
 * Every event the subscriptions service emits.
 *
 * @example
 * SubscriptionEvent.parse({ type: 'SubscriptionCreated', data });
 */
export const SubscriptionEvent = z.discriminatedUnion('type', [
  SubscriptionCreated, SubscriptionRemoved, DeliverySucceeded, DeliveryFailed,
]);
export type SubscriptionEvent = z.infer<typeof SubscriptionEvent>;
