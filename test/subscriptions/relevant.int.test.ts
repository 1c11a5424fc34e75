import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monotonicFactory } from 'ulid';
import { Source, type EventData } from '../../events/catalog.ts';
import { toEventBridgeEvent, type StoredEvent } from '../../events/envelope.ts';
import { toNewEvents } from '../../events/new-events.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { streams } from '../../events/streams.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { createSecretsTable, dynamoSecretStore } from '../../services/ingest/adapters/secret-store/local.ts';
import { createIdempotencyTable } from '../../services/shell/index.ts';
import { subscriptionsService, type WebhookSender } from '../../services/subscriptions/index.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

// SubscriptionsDeliver is subscribed to every event: one that matches no subscription of its
// project costs no idempotency record (two DynamoDB writes per event on AWS), one that does is
// delivered once.
const client = testDynamoClient();
const ulid = monotonicFactory();
const t = (what: string) => uniqueTableName(import.meta.url, what);
const tables = { events: t('events'), secrets: t('secrets'), idem: t('idem') };
const store = dynamoEventStore({ client, tableName: tables.events, types: eventTypes });
const secrets = dynamoSecretStore({ client, tableName: tables.secrets, key: randomBytes(32) });
const now = () => new Date(Date.now() - 1000).toISOString();
const sent: string[] = [];
// The webhook receiver: the recording stands in for the network (a public URL, which subscriptions require).
const sender: WebhookSender = { send: async (req) => { sent.push(req.url); return { statusCode: 200, durationMs: 1 }; } };
const service = subscriptionsService({
  store, secrets, sender, ids: ulid, now: () => new Date().toISOString(), cacheTtlMs: 0, maxAttempts: 3, timeoutMs: 2000,
  idempotency: { client, tableName: tables.idem },
});
afterAll(() => client.destroy());
beforeAll(async () => {
  await createEventStoreTable(client, tables.events);
  await createSecretsTable(client, tables.secrets);
  await createIdempotencyTable(client, tables.idem);
});

const buildStarted = async (projectId: string) => {
  const deploymentId = `d-${ulid()}`;
  const data: EventData<'BuildStarted'> = { projectId, deploymentId, buildId: `b-${deploymentId}`, runner: 'local', runnerBuildId: '1', startedAt: now(), deadlineAt: now() };
  const { events } = await store.append(streams.build(deploymentId), toNewEvents([{ type: 'BuildStarted', data }],
    { ids: ulid, now: () => new Date().toISOString(), cause: null, actor: { kind: 'service', id: 'build' } }), { expectedVersion: 0 });
  return toEventBridgeEvent(events[0] as StoredEvent, Source.build);
};
const records = async () => (await client.send(new ScanCommand({ TableName: tables.idem, ConsistentRead: true }))).Items ?? [];

describe('SubscriptionsDeliver and its idempotency records', () => {
  it('writes none for an event no subscription matches, and one for an event it delivers', async () => {
    await service.onEvent(await buildStarted('quiet'));
    expect(await records()).toHaveLength(0);
    expect(sent).toEqual([]);

    const project = { type: 'ProjectCreated', data: {
      projectId: 'loud', name: 'loud', repository: { source: 'git', fullName: 'loud', cloneUrl: 'http://localhost/git/loud.git' },
      settings: { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } },
    } };
    await store.append(streams.project('loud'), toNewEvents([project as never], { ids: ulid, now, cause: null, actor: { kind: 'user', id: 'admin' } }), { expectedVersion: 0 });
    await service.create('loud', { targetUrl: 'https://hooks.example.com/shiplog', eventPattern: { 'detail-type': ['BuildStarted'] } }, { kind: 'user', id: 'admin' });
    const event = await buildStarted('loud');
    await service.onEvent(event);
    await service.onEvent(event);
    expect(sent).toEqual(['https://hooks.example.com/shiplog']);
    expect((await records()).map((r) => r.status?.S)).toEqual(['COMPLETED']);
  });
});
