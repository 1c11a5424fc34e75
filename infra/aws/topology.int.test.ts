import { describe, expect, it } from 'vitest';
import { eventStoreTableDefinition } from '../../events/store/table.ts';
import { subscriptions } from '../topology.ts';
import type { Subscription } from '../topology-types.ts';
import { awsRules, EVENT_STORE_ACTIONS, OUTBOX_ENRICH_HANDLER, PROJECTIONS_HANDLER, type SubscriptionNeeds } from './index.ts';
import { arnOf, declareUnderMocks as declare, expectTableFrom, resolved } from './mocked-stack.ts';

// The topology's subscriptions on AWS, declared under Pulumi mocks (see mocked-stack.ts).

const declareUnderMocks = (subs: Subscription[], needs: SubscriptionNeeds = {}) => declare(subs, { needs });
/**
 * Functions given more than the event store and the bus: by the AWS adapters
 * (adapter-access.int.test.ts) and the read models (read-models.int.test.ts).
 */
const hasOwnNeeds = (handler: string) => /^infra\/aws\/functions\/(build|deploy|domains|subscriptions)\./.test(handler) || handler === PROJECTIONS_HANDLER;
const awsOnly = awsRules('shiplog-ci-build').map((r) => r.name);

const Rule = 'aws:cloudwatch/eventRule:EventRule';
const Target = 'aws:cloudwatch/eventTarget:EventTarget';
const Queue = 'aws:sqs/queue:Queue';
const QueuePolicy = 'aws:sqs/queuePolicy:QueuePolicy';
const Permission = 'aws:lambda/permission:Permission';
const InvokeConfig = 'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig';
const Table = 'aws:dynamodb/table:Table';
const Pipe = 'aws:pipes/pipe:Pipe';
const RolePolicy = 'aws:iam/rolePolicy:RolePolicy';

/** A topology with both kinds of policy, beside the real one. */
const synthetic: Subscription[] = [
  {
    name: 'DeployOnBuildSucceeded',
    description: 'deploys a finished build',
    handler: 'infra/aws/functions/deploy.onBuildSucceeded',
    pattern: { source: ['shiplog.build'], 'detail-type': ['BuildSucceeded'], detail: { data: { ok: [true] } } },
    policy: { maxAttempts: 4, maxEventAgeSeconds: 600, deadLetter: true },
    kind: 'service',
  },
  {
    name: 'Webhooks',
    description: 'signs and sends every event to outside subscribers',
    handler: 'infra/aws/functions/subscriptions.fanout',
    pattern: { source: [{ prefix: 'shiplog.' }] },
    policy: { maxAttempts: 1, maxEventAgeSeconds: 60, deadLetter: false },
    kind: 'fanout',
  },
];

describe.each([
  ['the topology (infra/topology.ts)', subscriptions],
  ['a synthetic topology', synthetic],
])('infra/aws declares %s', (_label, subs) => {
  it('declares one rule per subscription on the shiplog bus, with exactly its pattern', async () => {
    const s = await declareUnderMocks(subs);
    expect(s.ofType(Rule)).toHaveLength(subs.length + awsOnly.length);
    for (const sub of subs) {
      const rule = s.one(Rule, `${sub.name}Rule`);
      expect(rule.inputs.eventBusName).toBe(s.names.bus);
      expect(JSON.parse(rule.inputs.eventPattern as string)).toEqual(sub.pattern);
    }
  });

  it("targets each rule at its subscription's function with the subscription's retry policy and DLQ", async () => {
    const s = await declareUnderMocks(subs);
    expect(s.ofType(Target)).toHaveLength(subs.length + awsOnly.length);
    expect(s.specs.map((f) => f.name).sort()).toEqual(['OutboxEnrich', 'Api', 'AdminToken', 'IsrRevalidate', ...subs.map((x) => x.name), ...awsOnly].sort());
    for (const sub of subs) {
      const ruleName = `${s.names.prefix}-${sub.name}`;
      const target = s.one(Target, `${sub.name}Target`);
      expect(target.inputs.rule).toBe(ruleName);
      expect(target.inputs.eventBusName).toBe(s.names.bus);
      expect(target.inputs.arn).toBe(s.functionArn(sub.name));
      expect(s.specs.find((f) => f.name === sub.name)?.handler).toBe(sub.handler);
      expect(target.inputs.retryPolicy).toEqual({
        maximumRetryAttempts: sub.policy.maxAttempts - 1,
        maximumEventAgeInSeconds: sub.policy.maxEventAgeSeconds,
      });
      const invoke = s.one(Permission, `${sub.name}Invoke`);
      expect(invoke.inputs).toMatchObject({
        action: 'lambda:InvokeFunction',
        function: sub.name,
        principal: 'events.amazonaws.com',
        sourceArn: arnOf(Rule, ruleName),
      });
      const async = s.one(InvokeConfig, `${sub.name}AsyncInvoke`);
      expect(async.inputs.maximumRetryAttempts).toBe(Math.min(2, sub.policy.maxAttempts - 1));
      if (!sub.policy.deadLetter) {
        expect(target.inputs.deadLetterConfig).toBeUndefined();
        expect(s.registered.some((r) => r.name === `${sub.name}DeadLetter`)).toBe(false);
        expect(async.inputs.destinationConfig).toBeUndefined();
        continue;
      }
      const dlqName = `${s.names.prefix}-${sub.name}-dlq`;
      const dlqArn = arnOf(Queue, dlqName);
      expect(s.one(Queue, `${sub.name}DeadLetter`).inputs.name).toBe(dlqName);
      expect(target.inputs.deadLetterConfig).toEqual({ arn: dlqArn });
      expect(async.inputs.destinationConfig).toEqual({ onFailure: { destination: dlqArn } });
      const policy = JSON.parse(s.one(QueuePolicy, `${sub.name}DeadLetterPolicy`).inputs.policy as string);
      expect(policy.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: dlqArn,
          Condition: { ArnEquals: { 'aws:SourceArn': arnOf(Rule, ruleName) } },
        },
      ]);
    }
  });

  it('links every function to the event store (read, append) and the bus (put), and grants others nothing more', async () => {
    const s = await declareUnderMocks(subs);
    const tableArn = arnOf(Table, s.names.eventsTable);
    const busArn = arnOf('aws:cloudwatch/eventBus:EventBus', s.names.bus);
    for (const sub of subs) {
      const spec = s.specs.find((f) => f.name === sub.name);
      if (!spec) throw new Error(`no function for ${sub.name}`);
      const links = await resolved(spec.links.map((l) => ({ name: l.name, permissions: l.permissions })));
      expect(links).toEqual([
        { name: 'ShiplogEvents', permissions: [{ actions: [...EVENT_STORE_ACTIONS], resources: [tableArn, `${tableArn}/index/*`] }] },
        { name: 'ShiplogBus', permissions: [{ actions: ['events:PutEvents'], resources: [busArn] }] },
      ]);
      const own = sub.policy.deadLetter
        ? [{ actions: ['sqs:SendMessage'], resources: [arnOf(Queue, `${s.names.prefix}-${sub.name}-dlq`)] }]
        : [];
      const base = { SHIPLOG_EVENTS_TABLE: s.names.eventsTable, SHIPLOG_BUS_NAME: s.names.bus, SHIPLOG_PREFIX: s.names.prefix };
      const permissions = await resolved(spec.permissions);
      const environment = await resolved(spec.environment);
      if (hasOwnNeeds(sub.handler)) {
        expect(permissions.slice(0, own.length)).toEqual(own);
        expect(environment).toMatchObject(base);
        continue;
      }
      expect(permissions).toEqual(own);
      expect(environment).toEqual(base);
      expect(spec.timeoutSeconds).toBeUndefined();
    }
    const enrich = s.specs.find((f) => f.name === 'OutboxEnrich');
    expect(enrich).toMatchObject({ handler: OUTBOX_ENRICH_HANDLER, links: [], permissions: [] });
    expect(EVENT_STORE_ACTIONS).not.toContain('dynamodb:DeleteItem');
    expect(EVENT_STORE_ACTIONS).not.toContain('dynamodb:UpdateItem');
  });
});

describe('infra/aws, the rest of the stack', () => {
  it('declares the event store table with the keys, indexes and stream of eventStoreTableDefinition', async () => {
    const s = await declareUnderMocks(subscriptions);
    const def = eventStoreTableDefinition(s.names.eventsTable);
    const table = s.one(Table, 'EventStore').inputs;
    expectTableFrom(table, def);
    expect({ streamEnabled: table.streamEnabled, streamViewType: table.streamViewType }).toEqual({
      streamEnabled: true,
      streamViewType: 'NEW_IMAGE',
    });
    expect(table.pointInTimeRecovery).toEqual({ enabled: true });
  });

  it('pipes INSERT records from the table stream, through the enrichment, to the shiplog bus', async () => {
    const s = await declareUnderMocks(subscriptions);
    const tableArn = arnOf(Table, s.names.eventsTable);
    const streamArn = `${tableArn}/stream/2026-01-01T00:00:00.000`;
    const busArn = arnOf('aws:cloudwatch/eventBus:EventBus', s.names.bus);
    const pipes = s.ofType(Pipe);
    expect(pipes).toHaveLength(1);
    const pipe = pipes[0]?.inputs as {
      source: string;
      target: string;
      enrichment: string;
      sourceParameters: { filterCriteria: { filters: { pattern: string }[] }; dynamodbStreamParameters: object };
      targetParameters: object;
    };
    expect(pipe.source).toBe(streamArn);
    expect(pipe.target).toBe(busArn);
    expect(pipe.enrichment).toBe(s.functionArn('OutboxEnrich'));
    const source = pipe.sourceParameters;
    expect(source.filterCriteria.filters.map((f) => JSON.parse(f.pattern))).toEqual([{ eventName: ['INSERT'] }]);
    expect(source.dynamodbStreamParameters).toMatchObject({
      startingPosition: 'TRIM_HORIZON',
      deadLetterConfig: { arn: arnOf(Queue, `${s.names.prefix}-outbox-dlq`) },
    });
    expect(pipe.targetParameters).toEqual({
      eventbridgeEventBusParameters: { source: '$.source', detailType: '$.detailType', time: '$.time' },
      inputTemplate: '<$.detail>',
    });
    const policy = JSON.parse(s.one(RolePolicy, 'OutboxPipePolicy').inputs.policy as string);
    expect(policy.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        Resource: [streamArn],
      },
      { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [s.functionArn('OutboxEnrich')] },
      { Effect: 'Allow', Action: ['events:PutEvents'], Resource: [busArn] },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [arnOf(Queue, `${s.names.prefix}-outbox-dlq`)] },
    ]);
  });

  it('gives a subscription what its needs say, and refuses needs of unknown or duplicate subscriptions', async () => {
    const extra = { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::artifacts/*'] };
    const s = await declareUnderMocks(synthetic, { Webhooks: { permissions: [extra] } });
    expect(await resolved(s.specs.find((f) => f.name === 'Webhooks')?.permissions ?? [])).toEqual([extra]);
    await expect(declareUnderMocks(synthetic, { Nobody: { permissions: [extra] } })).rejects.toThrow(/Nobody/);
    const first = synthetic[0] as Subscription;
    await expect(declareUnderMocks([first, first])).rejects.toThrow(/declared twice/);
  });
});
