import type { EventData, ShiplogEvent, Actor } from '../../events/index.ts';
import type { Decider } from '../shell/index.ts';

/**
 * An event of a `subscription#<id>` stream.
 *
 * @example
 * const e: SubscriptionStreamEvent = { type: 'SubscriptionRemoved', data: { projectId: 'web', subscriptionId: 's1', reason: 'user' } };
 */
export type SubscriptionStreamEvent = Extract<ShiplogEvent, { type: 'SubscriptionCreated' | 'SubscriptionRemoved' }>;

/** One subscription stream (`subscription#<id>`): whether it exists, and its settings. */
export interface SubscriptionState {
  status: 'none' | 'active' | 'removed';
  subscription?: EventData<'SubscriptionCreated'>;
}

export const initialState = (): SubscriptionState => ({ status: 'none' });

/**
 * What a user asks of one subscription. The pattern is already validated and the signing secret
 * already stored: the decider only sees the secret's reference.
 *
 * @example
 * decide({ type: 'RemoveSubscription', projectId: 'web', subscriptionId: 's1', reason: 'user' }, state)
 */
export type SubscriptionCommand =
  | {
      type: 'CreateSubscription';
      projectId: string;
      subscriptionId: string;
      targetUrl: string;
      eventPattern: string;
      signingSecretRef: string;
      description?: string;
      createdBy: Actor;
      kind?: 'events' | 'runtime-logs';
    }
  | { type: 'RemoveSubscription'; projectId: string; subscriptionId: string; reason: EventData<'SubscriptionRemoved'>['reason'] };

export const evolve = (s: SubscriptionState, ev: SubscriptionStreamEvent): SubscriptionState => {
  switch (ev.type) {
    case 'SubscriptionCreated':
      return { status: 'active', subscription: ev.data };
    case 'SubscriptionRemoved':
      return { ...s, status: 'removed' };
    default:
      return s;
  }
};

/** Creating twice (a retried request with the same id) and removing twice decide nothing. */
export const decide = (cmd: SubscriptionCommand, s: SubscriptionState): SubscriptionStreamEvent[] => {
  switch (cmd.type) {
    case 'CreateSubscription': {
      if (s.status !== 'none') return [];
      const { type: _type, description, kind, ...rest } = cmd;
      return [{ type: 'SubscriptionCreated', data: { ...rest, ...(description === undefined ? {} : { description }), ...(kind === undefined ? {} : { kind }) } }];
    }
    case 'RemoveSubscription':
      if (s.status !== 'active' || s.subscription?.projectId !== cmd.projectId) return [];
      return [{ type: 'SubscriptionRemoved', data: { projectId: cmd.projectId, subscriptionId: cmd.subscriptionId, reason: cmd.reason } }];
    default:
      return cmd satisfies never;
  }
};

/**
 * The subscription decider, as the shell runs it.
 *
 * @example
 * await execute(store, streams.subscription('s1'), subscriptionDecider, () => cmd, ctx);
 */
export const subscriptionDecider: Decider<SubscriptionState, SubscriptionCommand, SubscriptionStreamEvent> = { decide, evolve, initialState };
