import { describe, expect, it } from 'vitest';
import { AwsRuntimeEnv } from './runtime/root.ts';
import { LIST_INDEX, viewsTableDefinition } from '../../projections/store/table.ts';
import { subscriptions } from '../topology.ts';
import { awsRules } from './aws-rules.ts';
import { EVENT_STORE_ACTIONS, FunctionEnv, PROJECTIONS_HANDLER } from './index.ts';
import { DOMAINS_RECONCILE_HANDLER, VIEWS_READ_ACTIONS } from './read-models.ts';
import { arnOf, declareUnderMocks, expectTableFrom, resolved } from './mocked-stack.ts';

// The read models' (views) table on AWS and who may touch it, under Pulumi mocks.

const Table = 'aws:dynamodb/table:Table';
const viewsName = 'shiplog-ci-views';
const viewsArn = arnOf(Table, viewsName);
const eventsArn = arnOf(Table, 'shiplog-ci-events');

describe('the views table', () => {
  it('is viewsTableDefinition: name, billing, attributes, keys and the byList index with what it carries', async () => {
    const s = await declareUnderMocks(subscriptions);
    const def = viewsTableDefinition(s.names.viewsTable);
    const table = s.one(Table, 'Views').inputs;
    expect(s.names.viewsTable).toBe(viewsName);
    expectTableFrom(table, def);
    // What the view store relies on, spelled out, so a change to the definition is seen here too.
    expect(table.globalSecondaryIndexes).toEqual([
      {
        name: LIST_INDEX,
        keySchemas: [{ attributeName: 'lpk', keyType: 'HASH' }, { attributeName: 'lsk', keyType: 'RANGE' }],
        projectionType: 'INCLUDE',
        nonKeyAttributes: ['li'],
      },
    ]);
    expect(table.streamEnabled).toBe(false);
    expect(table.streamViewType).toBeUndefined();
    expect(table.pointInTimeRecovery).toEqual({ enabled: true });
  });

  it('is declared once, beside the event store and the idempotency table', async () => {
    const s = await declareUnderMocks(subscriptions);
    expect(s.ofType(Table).map((t) => t.name).sort()).toEqual(['EventStore', 'Idempotency', 'IsrTags', 'Secrets', 'Tokens', 'Views']);
  });
});

describe('the Projections function', () => {
  it('is the topology subscription with the projections handler', () => {
    expect(subscriptions.filter((sub) => sub.handler === PROJECTIONS_HANDLER).map((sub) => sub.name)).toEqual(['Projections']);
  });

  it('learns the views table from the variable the AWS root reads, beside the event store', async () => {
    const s = await declareUnderMocks(subscriptions);
    expect(FunctionEnv.viewsTable).toBe(AwsRuntimeEnv.viewsTable);
    expect(await resolved(s.spec('Projections').environment)).toEqual({
      SHIPLOG_EVENTS_TABLE: 'shiplog-ci-events',
      SHIPLOG_VIEWS_TABLE: viewsName,
      SHIPLOG_BUS_NAME: 'shiplog-ci',
      SHIPLOG_PREFIX: 'shiplog-ci',
    });
  });

  it('reads and writes items on the views table and its byList index, and nothing more of it', async () => {
    const s = await declareUnderMocks(subscriptions);
    const permissions = await resolved(s.spec('Projections').permissions);
    expect(permissions).toEqual([
      { actions: ['sqs:SendMessage'], resources: [arnOf('aws:sqs/queue:Queue', 'shiplog-ci-Projections-dlq')] },
      {
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [viewsArn, `${viewsArn}/index/byList`],
      },
    ]);
    expect(permissions.flatMap((p) => p.actions)).not.toContain('dynamodb:Scan');
  });

  it('reads the event store (items and queries, on the table and its indexes) through its link', async () => {
    const s = await declareUnderMocks(subscriptions);
    const links = await resolved(s.spec('Projections').links.map((l) => ({ name: l.name, permissions: l.permissions })));
    const store = links.find((l) => l.name === 'ShiplogEvents');
    expect(store?.permissions).toEqual([{ actions: [...EVENT_STORE_ACTIONS], resources: [eventsArn, `${eventsArn}/index/*`] }]);
    expect(store?.permissions[0]?.actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']));
  });
});

describe('the domains reconcile', () => {
  it('is the AWS-only rule with the reconcile handler', () => {
    expect(awsRules('shiplog-ci-build').filter((r) => r.handler === DOMAINS_RECONCILE_HANDLER).map((r) => r.name)).toEqual(['DomainsReconcile']);
    expect(subscriptions.filter((sub) => sub.handler === DOMAINS_RECONCILE_HANDLER)).toEqual([]);
  });

  it('learns the views table from the variable the AWS root reads', async () => {
    const s = await declareUnderMocks(subscriptions);
    expect(await resolved(s.spec('DomainsReconcile').environment)).toMatchObject({ SHIPLOG_VIEWS_TABLE: viewsName });
  });

  it.each(['DomainsReconcile', 'AlarmsEvaluate'])('%s may only read items of the views table: Query and gets, no write, no Scan, no index', async (name) => {
    const s = await declareUnderMocks(subscriptions);
    const onViews = (await resolved(s.spec(name).permissions)).filter((p) => p.resources.some((r) => r.includes(viewsName)));
    expect(onViews).toEqual([{ actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], resources: [viewsArn] }]);
    expect([...VIEWS_READ_ACTIONS]).toEqual(onViews[0]?.actions);
  });
});

describe('nothing else reaches the views table', () => {
  const readers = ['Projections', 'DomainsReconcile', 'AlarmsEvaluate'];

  it('gives no other function its name or any right on it, by permission or by link', async () => {
    const s = await declareUnderMocks(subscriptions);
    const others = s.specs.filter((f) => !readers.includes(f.name));
    expect(others.map((f) => f.name)).toContain('OutboxEnrich');
    for (const spec of others) {
      const granted = JSON.stringify(await resolved({ environment: spec.environment, permissions: spec.permissions, links: spec.links }));
      expect(granted, spec.name).not.toContain(viewsName);
      expect(granted, spec.name).not.toContain('dynamodb:Scan');
    }
  });

  it('is named by no other resource (roles, pipes, projects) than the Projections function that writes it and the domains reconcile', async () => {
    const s = await declareUnderMocks(subscriptions);
    const mentions = s.registered.filter((r) => JSON.stringify(r.inputs).includes(viewsName)).map((r) => `${r.type} ${r.name}`);
    expect(mentions.sort()).toEqual([
      `${Table} Views`, 'aws:lambda/function:Function AlarmsEvaluate', 'aws:lambda/function:Function DomainsReconcile', 'aws:lambda/function:Function Projections',
    ]);
  });

  it('gives no other function a DynamoDB statement that could match it (no wildcard tables)', async () => {
    const s = await declareUnderMocks(subscriptions);
    // The Api function's tokens table (api.ts) has no index and is its alone; the secrets' pointers
    // table (secrets.ts) is the API's and the webhook sender's.
    // The deploy functions write each build's ISR tags to the tag cache (site-cache.ts).
    const allowed = [
      eventsArn, `${eventsArn}/index/*`, arnOf(Table, 'shiplog-ci-idempotency'), arnOf(Table, 'shiplog-ci-tokens'), arnOf(Table, 'shiplog-ci-secrets'),
      `arn:aws:dynamodb:eu-west-1:123456789012:table/shiplog-ci-isr-tags`,
    ];
    for (const spec of s.specs.filter((f) => !readers.includes(f.name))) {
      const statements = [...(await resolved(spec.permissions)), ...(await resolved(spec.links.flatMap((l) => l.permissions)))];
      for (const p of statements.filter((x) => x.actions.some((a) => a.startsWith('dynamodb:') || a === '*'))) {
        for (const resource of p.resources) expect(allowed, `${spec.name}: ${resource}`).toContain(resource);
      }
    }
  });
});
