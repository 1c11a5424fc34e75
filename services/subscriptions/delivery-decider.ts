import type { EventData, ShiplogEvent } from '../../events/index.ts';
import type { Decider } from '../shell/index.ts';

/**
 * An event of a delivery stream.
 *
 * @example
 * const e: DeliveryEvent = { type: 'DeliverySucceeded', data: { projectId, subscriptionId, deliveryId, eventId, eventType, attempt: 1, statusCode: 200, durationMs: 12 } };
 */
export type DeliveryEvent = Extract<ShiplogEvent, { type: 'DeliverySucceeded' | 'DeliveryFailed' }>;

/**
 * One delivery stream (`delivery#<subscriptionId>#<eventId>`): the attempts to deliver one
 * event to one subscription. `deliveryId` is set by the first attempt and kept by the retries,
 * so a receiver sees the same `x-shiplog-delivery` on every attempt.
 */
export interface DeliveryState {
  attempts: number;
  delivered: boolean;
  deliveryId?: string;
}

export const initialState = (): DeliveryState => ({ attempts: 0, delivered: false });

/** What one POST to the target ended with. `statusCode` is null when no response came. */
export type AttemptOutcome =
  | { ok: true; statusCode: number; durationMs: number }
  | { ok: false; statusCode: number | null; error: string; durationMs?: number };

/**
 * Records one attempt. `deliveryId` is used only by a first attempt; `maxAttempts` is the bus's
 * retry policy, to say whether a failure will be retried.
 *
 * @example
 * decide({ type: 'RecordAttempt', projectId: 'web', subscriptionId: 's1', eventId, eventType: 'DeploymentLive',
 *   deliveryId: 'dl1', outcome: { ok: true, statusCode: 200, durationMs: 12 }, maxAttempts: 8 }, state)
 */
export interface DeliveryCommand {
  type: 'RecordAttempt';
  projectId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  deliveryId: string;
  outcome: AttemptOutcome;
  maxAttempts: number;
}

export const evolve = (s: DeliveryState, ev: DeliveryEvent): DeliveryState => {
  switch (ev.type) {
    case 'DeliverySucceeded':
      return { attempts: Math.max(s.attempts, ev.data.attempt), delivered: true, deliveryId: s.deliveryId ?? ev.data.deliveryId };
    case 'DeliveryFailed':
      return { ...s, attempts: Math.max(s.attempts, ev.data.attempt), deliveryId: s.deliveryId ?? ev.data.deliveryId };
    default:
      return s;
  }
};

/** Whether the event still has to be sent to the subscription (a duplicate bus delivery is not). */
export const isPending = (s: DeliveryState): boolean => !s.delivered;

/** A delivered event records nothing more: a duplicate that raced the first one decides nothing. */
export const decide = (cmd: DeliveryCommand, s: DeliveryState): DeliveryEvent[] => {
  if (s.delivered) return [];
  const attempt = s.attempts + 1;
  const ref: Omit<EventData<'DeliverySucceeded'>, 'statusCode' | 'durationMs'> = {
    projectId: cmd.projectId, subscriptionId: cmd.subscriptionId, deliveryId: s.deliveryId ?? cmd.deliveryId,
    eventId: cmd.eventId, eventType: cmd.eventType, attempt,
  };
  const o = cmd.outcome;
  if (o.ok) return [{ type: 'DeliverySucceeded', data: { ...ref, statusCode: o.statusCode, durationMs: o.durationMs } }];
  return [{
    type: 'DeliveryFailed',
    data: {
      ...ref, statusCode: o.statusCode, error: o.error.slice(0, 1000), willRetry: attempt < cmd.maxAttempts,
      ...(o.durationMs === undefined ? {} : { durationMs: o.durationMs }),
    },
  }];
};

/**
 * The delivery decider, as the shell runs it.
 *
 * @example
 * await execute(store, streams.delivery(subscriptionId, eventId), deliveryDecider, () => cmd, ctx);
 */
export const deliveryDecider: Decider<DeliveryState, DeliveryCommand, DeliveryEvent> = { decide, evolve, initialState };
