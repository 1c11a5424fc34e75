/**
 * How the bus delivers to one subscription, mirroring an EventBridge target's retry policy and
 * dead-letter config: `maxAttempts` counts the first try (EventBridge retries 0–185 times),
 * `maxEventAgeSeconds` is 60–86400, `deadLetter` sends what cannot be delivered to the
 * subscription's own dead-letter queue. Both buses apply it: EventBridge through the rule's
 * target, the local bus itself.
 *
 * @example
 * const policy: DeliveryPolicy = { maxAttempts: 8, maxEventAgeSeconds: 3600, deadLetter: true };
 */
export interface DeliveryPolicy {
  maxAttempts: number;
  maxEventAgeSeconds: number;
  deadLetter: boolean;
}

/**
 * shiplog's delivery policies; the topology (`infra/topology.ts`) gives one to each
 * subscription. EventBridge's defaults are 185 retries over 24 hours; ours are shorter: a
 * deployment that waits a day for a retry is worse than a dead letter someone can redrive.
 *
 * @example
 * subscribe('X', 'infra/aws/functions/x.handler', pattern, 'does x', policies.service)
 */
export const policies = {
  service: { maxAttempts: 8, maxEventAgeSeconds: 3600, deadLetter: true },
  projection: { maxAttempts: 16, maxEventAgeSeconds: 86_400, deadLetter: true },
} as const satisfies Record<string, DeliveryPolicy>;
