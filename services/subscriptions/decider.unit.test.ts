import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import * as delivery from './delivery-decider.ts';
import * as subscription from './subscription-decider.ts';

const user = { kind: 'user' as const, id: 'admin' };
const create: subscription.SubscriptionCommand = {
  type: 'CreateSubscription', projectId: 'web', subscriptionId: 's1', targetUrl: 'https://hooks.example.com/x',
  eventPattern: '{"source":["shiplog.deploy"]}', signingSecretRef: 'local:subscription#s1/signing-secret', createdBy: user,
};
const remove: subscription.SubscriptionCommand = { type: 'RemoveSubscription', projectId: 'web', subscriptionId: 's1', reason: 'user' };
const created = subscription.decide(create, subscription.initialState());

describe('subscription decider', () => {
  const given = deciderSpec(subscription.subscriptionDecider);

  it('creates a subscription with only the reference of its secret', () =>
    given([]).when(create).then([{ type: 'SubscriptionCreated', data: {
      projectId: 'web', subscriptionId: 's1', targetUrl: 'https://hooks.example.com/x', eventPattern: '{"source":["shiplog.deploy"]}',
      signingSecretRef: 'local:subscription#s1/signing-secret', createdBy: user,
    } }]));

  it('creates nothing for a retried create', () => given(created).when(create).thenNothing());

  it('removes an active subscription once', () => {
    given(created).when(remove).then([{ type: 'SubscriptionRemoved', data: { projectId: 'web', subscriptionId: 's1', reason: 'user' } }]);
    given([...created, ...subscription.decide(remove, subscription.evolve(subscription.initialState(), created[0]!))]).when(remove).thenNothing();
  });

  it('removes nothing that does not exist, or belongs to another project', () => {
    given([]).when(remove).thenNothing();
    given(created).when({ ...remove, projectId: 'docs' } as subscription.SubscriptionCommand).thenNothing();
  });
});

describe('delivery decider', () => {
  const given = deciderSpec(delivery.deliveryDecider);
  const attempt = (outcome: delivery.AttemptOutcome, deliveryId = 'dl-new'): delivery.DeliveryCommand => ({
    type: 'RecordAttempt', projectId: 'web', subscriptionId: 's1', eventId: 'e1', eventType: 'DeploymentLive', deliveryId, outcome, maxAttempts: 3,
  });
  const ok = attempt({ ok: true, statusCode: 200, durationMs: 12 });
  const failed = attempt({ ok: false, statusCode: 500, error: 'Internal Server Error', durationMs: 5 });
  const history = (cmds: delivery.DeliveryCommand[]) =>
    cmds.reduce<delivery.DeliveryEvent[]>((h, c) => [...h, ...delivery.decide(c, h.reduce(delivery.evolve, delivery.initialState()))], []);

  it('records a first successful attempt', () =>
    given([]).when(ok).then([{ type: 'DeliverySucceeded', data: {
      projectId: 'web', subscriptionId: 's1', deliveryId: 'dl-new', eventId: 'e1', eventType: 'DeploymentLive', attempt: 1, statusCode: 200, durationMs: 12,
    } }]));

  it('records nothing more for an event already delivered (a duplicate bus delivery)', () => {
    given(history([ok])).when(ok).thenNothing();
    expect(delivery.isPending(history([ok]).reduce(delivery.evolve, delivery.initialState()))).toBe(false);
  });

  it('counts attempts, keeps the first delivery id, and says whether the bus will retry', () => {
    given(history([failed])).when(attempt({ ok: true, statusCode: 204, durationMs: 3 }, 'dl-other')).then((events) => {
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'DeliverySucceeded', data: { attempt: 2, deliveryId: 'dl-new', statusCode: 204 } });
    });
    given([]).when(failed).then((events) => expect(events[0]).toMatchObject({ type: 'DeliveryFailed', data: { attempt: 1, willRetry: true, statusCode: 500 } }));
    given(history([failed, failed])).when(attempt({ ok: false, statusCode: null, error: 'no response within 10000 ms' })).then((events) =>
      expect(events[0]).toMatchObject({ type: 'DeliveryFailed', data: { attempt: 3, willRetry: false, statusCode: null } }));
  });
});
