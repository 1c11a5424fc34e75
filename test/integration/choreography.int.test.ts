import { UpdateItemCommand, GetItemCommand, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { monotonicFactory } from 'ulid';
import { EventType, type EventData } from '../../events/catalog.ts';
import type { BusEntry, EventBus } from '../../events/bus/port.ts';
import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus, type LocalBus } from '../../events/bus/local/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { streams } from '../../events/streams.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { streamOutbox, type StreamOutbox } from '../../infra/local/outbox.ts';
import { decide, evolve, initialState, type BuildCommand } from '../../services/build/decider.ts';
import { createIdempotencyTable, defineHandler, execute } from '../../services/shell/index.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

const client = testDynamoClient();
const ulid = monotonicFactory();
const t = (what: string) => uniqueTableName(import.meta.url, what);
const tables = { events: t('events'), deliveries: t('deliveries'), deadLetters: t('dlq'), outbox: t('outbox'), idem: t('idem'), effects: t('effects') };
const store = dynamoEventStore({ client, tableName: tables.events, types: eventTypes });
const policy = (maxAttempts: number) => ({ maxAttempts, maxEventAgeSeconds: 3600, deadLetter: true });
const idempotency = { client, tableName: tables.idem };

// A side effect that is not idempotent by itself: a counter per (handler, deployment).
const bump = (who: string, deploymentId: string) =>
  client.send(new UpdateItemCommand({
    TableName: tables.effects, Key: { pk: { S: `${who}#${deploymentId}` } },
    UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': { N: '1' } },
  }));
const count = async (who: string, deploymentId: string) =>
  Number((await client.send(new GetItemCommand({ TableName: tables.effects, Key: { pk: { S: `${who}#${deploymentId}` } }, ConsistentRead: true }))).Item?.n?.N ?? 0);

let failingFixed = false;
const flakyCalls = new Map<string, number>();
const handlers = {
  CountStarts: defineHandler({ name: 'CountStarts', accepts: [EventType.BuildStarted], idempotency,
    handle: async (e) => { await bump('starts', e.data.deploymentId); } }),
  FlakyOnSuccess: defineHandler({ name: 'FlakyOnSuccess', accepts: [EventType.BuildSucceeded], idempotency,
    handle: async (e) => {
      const n = (flakyCalls.get(e.data.deploymentId) ?? 0) + 1;
      flakyCalls.set(e.data.deploymentId, n);
      if (n < 3) throw new Error(`flaky failure ${n}`);
      await bump('successes', e.data.deploymentId);
    } }),
  BrokenOnFailure: defineHandler({ name: 'BrokenOnFailure', accepts: [EventType.BuildFailed], idempotency,
    handle: async (e) => {
      if (!failingFixed) throw new Error('downstream is down');
      await bump('failures', e.data.deploymentId);
    } }),
};

// Between the outbox and the bus: every entry twice, in shuffled order, and old entries again later.
const chaos = (inner: EventBus): EventBus => {
  const seen: BusEntry[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  return {
    publish: async (entries) => {
      const batch = [...entries, ...entries, ...seen.filter(() => rnd() < 0.2)];
      seen.push(...entries);
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
      await inner.publish(batch);
    },
  };
};

let bus: LocalBus;
let outbox: StreamOutbox;
const outcomes: { subscription: string; outcome: string }[] = [];

beforeAll(async () => {
  await createEventStoreTable(client, tables.events);
  await createLocalBusTables(client, { deliveries: tables.deliveries, deadLetters: tables.deadLetters });
  await createIdempotencyTable(client, tables.idem);
  await client.send(new CreateTableCommand({ TableName: tables.effects, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
  bus = localBus({
    subscribers: [
      { name: 'CountStarts', pattern: { source: ['shiplog.build'], 'detail-type': ['BuildStarted'] }, policy: policy(5), handle: handlers.CountStarts },
      { name: 'FlakyOnSuccess', pattern: { 'detail-type': ['BuildSucceeded'] }, policy: policy(5), handle: handlers.FlakyOnSuccess },
      { name: 'BrokenOnFailure', pattern: { 'detail-type': ['BuildFailed'], detail: { data: { reason: ['build-failed'] } } }, policy: policy(3), handle: handlers.BrokenOnFailure },
    ],
    journal: deliveryJournal(client, tables.deliveries),
    deadLetters: deadLetterQueue(client, tables.deadLetters),
    baseDelayMs: 5,
    maxDelayMs: 40,
    onOutcome: (o) => outcomes.push(o),
  });
  await bus.start();
  outbox = streamOutbox({ endpoint: inject('dynamoEndpoint'), client, tableName: tables.events, checkpointTable: tables.outbox, bus: chaos(bus), pollMs: 20 });
  await outbox.start();
});
afterAll(async () => {
  await outbox?.stop();
  await bus?.stop();
  client.destroy();
});

const request = (deploymentId: string): EventData<'DeploymentRequested'> => ({
  projectId: 'web', deploymentId, target: 'production', alias: 'production', trigger: 'push', branch: 'main',
  commit: { sha: 'a'.repeat(40), message: 'm', author: { name: 'A', email: 'a@example.com' } },
  repository: { source: 'git', fullName: 'web', cloneUrl: 'http://localhost/git/web.git' },
  buildSettings: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' }, env: [],
  requestedBy: { kind: 'git', id: 'dev' }, requestedAt: new Date().toISOString(),
});
const now = () => new Date().toISOString();
const run = (deploymentId: string, cmd: BuildCommand) =>
  execute(store, streams.build(deploymentId), { decide, evolve, initialState }, () => cmd,
    { ids: ulid, now, cause: null, actor: { kind: 'service', id: 'build' }, correlationId: deploymentId });

const waitFor = (check: () => Promise<boolean>, ms = 20_000) =>
  vi.waitFor(async () => {
    if (!(await check())) throw new Error('timed out waiting');
  }, { timeout: ms, interval: 50 });

describe('choreography: store → outbox → local bus → handlers', () => {
  const ok = Array.from({ length: 4 }, () => `d-${ulid()}`);
  const broken = Array.from({ length: 2 }, () => `d-${ulid()}`);

  it('delivers each committed event to each subscriber once in effect, despite duplicates and shuffling', async () => {
    for (const id of [...ok, ...broken]) {
      await run(id, { type: 'QueueBuild', request: request(id), buildId: `b-${id}`, now: now() });
      await run(id, { type: 'StartBuild', runner: 'local', runnerBuildId: '1', now: now(), deadlineAt: now() });
    }
    for (const id of ok) {
      await run(id, { type: 'CompleteBuild', artifact: { uri: 'file:///x', sha256: 'f'.repeat(64), sizeBytes: 1 }, buildMs: 1, versions: { next: '16.4.5', opennext: '4.1.12', node: '20' }, now: now() });
    }
    for (const id of broken) {
      await run(id, { type: 'FailBuild', reason: 'build-failed', exitCode: 1, message: 'Failed to compile', logTail: [], now: now() });
    }
    await waitFor(async () => (await Promise.all(ok.map((id) => count('successes', id)))).every((n) => n >= 1));
    await bus.idle();
    for (const id of [...ok, ...broken]) expect(await count('starts', id), `starts of ${id}`).toBe(1);
    for (const id of ok) expect(await count('successes', id), `successes of ${id}`).toBe(1);
    // The flaky handler was retried by the bus until it succeeded.
    expect(outcomes.some((o) => o.subscription === 'FlakyOnSuccess' && o.outcome === 'retry')).toBe(true);
  });

  it('retries a failing handler per its policy, then dead-letters the event; redrive delivers it', async () => {
    const dlq = deadLetterQueue(client, tables.deadLetters);
    await waitFor(async () => new Set((await dlq.list('BrokenOnFailure')).map((l) => l.event.detail.metadata.deploymentId)).size === broken.length);
    await bus.idle();
    const letters = await dlq.list('BrokenOnFailure');
    const byDeployment = new Map(letters.map((l) => [l.event.detail.metadata.deploymentId, l]));
    expect([...byDeployment.keys()].sort()).toEqual([...broken].sort());
    // Duplicates of one event are separate deliveries: each may end in the queue. The last error
    // of a duplicate can be the idempotency guard's (the twin was in progress), never a success.
    for (const l of letters) {
      expect(l).toMatchObject({ errorCode: 'RetryAttemptsExhausted', attempts: 3 });
      expect(l.errorMessage).toMatch(/^downstream is down$|already an execution in progress/);
    }
    for (const id of broken) {
      expect(letters.some((l) => l.event.detail.metadata.deploymentId === id && l.errorMessage === 'downstream is down')).toBe(true);
    }
    for (const id of broken) expect(await count('failures', id)).toBe(0);

    failingFixed = true;
    expect(await bus.redrive('BrokenOnFailure')).toBe(letters.length);
    await bus.idle();
    for (const id of broken) expect(await count('failures', id)).toBe(1);
    expect(await dlq.list('BrokenOnFailure')).toEqual([]);
  });

  it('sends an event its handler cannot parse straight to the dead-letter queue, with the reason', async () => {
    await bus.publish([{ source: 'shiplog.build', detailType: 'BuildStarted', detail: { metadata: { eventId: ulid() } as never, data: { nope: true } } }]);
    await bus.idle();
    const letters = (await deadLetterQueue(client, tables.deadLetters).list('CountStarts'));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ errorCode: 'PoisonEvent', attempts: 1 });
    expect(letters[0]!.errorMessage).toMatch(/BuildStarted/);
  });
});
