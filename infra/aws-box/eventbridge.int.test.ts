import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisableRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { eventBridgeStandIn, rateMs, type DeliveredEvent, type EventBridgeStandIn } from './eventbridge.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';

// The EventBridge stand-in runs scheduled rules as EventBridge does: a rule's targets get a
// "Scheduled Event" once per period (scaled here: `rate(1 minute)` × 0.005 = every 300 ms), with
// a target's Input in its place; rules read from moto, again after every change.
let moto: Moto;
let events: EventBridgeClient;
let bridge: EventBridgeStandIn;
const invoked: { arn: string; event: DeliveredEvent }[] = [];
const fn = (name: string) => `arn:aws:lambda:${BOX_REGION}:${BOX_ACCOUNT}:function:${name}`;
const to = (name: string) => invoked.filter((i) => i.arn === fn(name));

beforeAll(async () => {
  moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  events = new EventBridgeClient(config);
  bridge = eventBridgeStandIn({
    events, sqs: new SQSClient(config), awsEndpoint: moto.endpoint, scheduleScale: 0.005,
    invokeAsync: (arn, event) => void invoked.push({ arn, event }),
  });
});
afterAll(async () => {
  bridge?.stop();
  await moto?.stop();
});

describe('the EventBridge stand-in runs scheduled rules', () => {
  it('parses the rate expressions EventBridge takes', () => {
    expect(rateMs('rate(1 minute)')).toBe(60_000);
    expect(rateMs('rate(5 minutes)')).toBe(300_000);
    expect(rateMs('rate(2 hours)')).toBe(7_200_000);
    expect(rateMs('rate(1 day)')).toBe(86_400_000);
    expect(rateMs('cron(0 12 * * ? *)')).toBeUndefined();
  });

  it('fires a Scheduled Event at each period to the targets of a rule, a rule put after the start too, and stops a disabled one', async () => {
    const every = await events.send(new PutRuleCommand({ Name: 'Every', ScheduleExpression: 'rate(1 minute)' }));
    await events.send(new PutTargetsCommand({ Rule: 'Every', Targets: [{ Id: 'fn', Arn: fn('every') }] }));
    expect(await bridge.startSchedules('default')).toEqual(['Every']);

    await expect.poll(() => to('every').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const [first] = to('every');
    expect(first!.event).toMatchObject({
      version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', account: BOX_ACCOUNT, region: BOX_REGION,
      resources: [every.RuleArn], detail: {}, time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    });
    expect(new Set(to('every').map((i) => i.event.id)).size).toBe(to('every').length);

    // A rule put later, with a constant Input for its target (what the target gets instead); the
    // endpoint tells the stand-in that rules changed.
    await events.send(new PutRuleCommand({ Name: 'Later', ScheduleExpression: 'rate(1 minute)' }));
    await events.send(new PutTargetsCommand({ Rule: 'Later', Targets: [{ Id: 'fn', Arn: fn('later'), Input: '{"sweep":true}' }] }));
    await events.send(new DisableRuleCommand({ Name: 'Every' }));
    bridge.invalidate();
    await expect.poll(() => to('later').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(to('later')[0]!.event).toEqual({ sweep: true });
    // From the first firing of the new rule on, the disabled one is quiet: three more periods of
    // the new rule would have held two of the old one.
    const before = to('every').length;
    const later = to('later').length;
    await expect.poll(() => to('later').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(later + 3);
    expect(to('every').length).toBe(before);
  });
});
