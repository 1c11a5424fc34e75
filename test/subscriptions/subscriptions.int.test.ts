import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { monotonicFactory } from 'ulid';
import { Source, type EventData } from '../../events/catalog.ts';
import { toEventBridgeEvent, type StoredEvent } from '../../events/envelope.ts';
import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus, type LocalBus } from '../../events/bus/local/index.ts';
import { toNewEvents } from '../../events/new-events.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { streams } from '../../events/streams.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { platformApi } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import { streamOutbox, type StreamOutbox } from '../../infra/local/outbox.ts';
import { subscriptions as topology } from '../../infra/topology.ts';
import { createSecretsTable, dynamoSecretStore } from '../../services/ingest/adapters/secret-store/local.ts';
import { fetchWebhookSender, parseAllowList, subscriptionsService, verifySignature, WebhookDeliveryError } from '../../services/subscriptions/index.ts';
import { testApiAuth, type TestApiAuth } from '../support/api-auth.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

const client = testDynamoClient();
const ulid = monotonicFactory();
const t = (what: string) => uniqueTableName(import.meta.url, what);
const tables = { events: t('events'), secrets: t('secrets'), deliveries: t('deliveries'), dlq: t('dlq'), outbox: t('outbox') };
const store = dynamoEventStore({ client, tableName: tables.events, types: eventTypes });
const secrets = dynamoSecretStore({ client, tableName: tables.secrets, key: randomBytes(32) });
const now = () => new Date().toISOString();
// The receiver listens on loopback, which subscriptions refuse unless allowed (SHIPLOG_WEBHOOK_ALLOW).
const allow = parseAllowList('127.0.0.1');
const service = subscriptionsService({ store, secrets, sender: fetchWebhookSender({ allow }), allow, ids: ulid, now, cacheTtlMs: 0, maxAttempts: 3, timeoutMs: 2000 });

// A real receiver: records every request; `/flaky/*` answers 500 to its first request, then 200.
interface Received { path: string; headers: IncomingHttpHeaders; body: string }
const received: Received[] = [];
const flakySeen = new Set<string>();
let receiver: Server;
let api: Server;
let receiverUrl = '';
let apiUrl = '';
let auth: TestApiAuth;
const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};
const at = (path: string) => received.filter((r) => r.path === path);

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${apiUrl}${path}`, { method, headers: { ...auth.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};
const subscribe = async (project: string, path: string, eventPattern: unknown) => {
  const res = await call('POST', `/api/projects/${project}/subscriptions`, { targetUrl: `${receiverUrl}${path}`, eventPattern, description: path });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { subscriptionId: string; signingSecret: string };
};

const createProject = (projectId: string) =>
  store.append(streams.project(projectId), toNewEvents([{ type: 'ProjectCreated', data: {
    projectId, name: projectId, repository: { source: 'git', fullName: projectId, cloneUrl: `http://localhost/git/${projectId}.git` },
    settings: { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } },
  } } as never], { ids: ulid, now, cause: null, actor: { kind: 'user', id: 'admin' } }), { expectedVersion: 0 });

// A build event of a project, committed to the store; answers it as the bus delivers it.
const buildStarted = async (projectId: string, runner: 'local' | 'codebuild' = 'local', meta: { replay?: boolean } = {}) => {
  const deploymentId = `d-${ulid()}`;
  const data: EventData<'BuildStarted'> = { projectId, deploymentId, buildId: `b-${deploymentId}`, runner, runnerBuildId: '1', startedAt: now(), deadlineAt: now() };
  const { events } = await store.append(streams.build(deploymentId), toNewEvents([{ type: 'BuildStarted', data }],
    { ids: ulid, now, cause: null, actor: { kind: 'service', id: 'build' } }), { expectedVersion: 0 });
  const stored = events[0] as StoredEvent;
  return toEventBridgeEvent({ ...stored, metadata: { ...stored.metadata, ...meta } }, Source.build);
};
const deliveryStream = (subscriptionId: string, eventId: string) => store.readStream(streams.delivery(subscriptionId, eventId));

beforeAll(async () => {
  await createEventStoreTable(client, tables.events);
  await createSecretsTable(client, tables.secrets);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const id = String(req.headers['x-shiplog-event-id']);
      const failFirst = path.startsWith('/flaky') && !flakySeen.has(`${path}#${id}`);
      flakySeen.add(`${path}#${id}`);
      res.writeHead(failFirst ? 500 : 200).end();
    });
  });
  receiverUrl = await listen(receiver);
  auth = await testApiAuth(client, import.meta.url);
  api = createServer(nodeListener(platformApi({ subscriptions: service, guard: auth.guard })));
  apiUrl = await listen(api);
  await createProject('web');
});
afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => api?.close(r));
});

describe('subscriptions API', () => {
  it('creates a subscription: the secret is answered once and stored nowhere in the event store', async () => {
    const { subscriptionId, signingSecret } = await subscribe('web', '/created', { source: ['shiplog.deploy'] });
    expect(signingSecret.length).toBeGreaterThanOrEqual(32);
    const [created] = await store.readStream(streams.subscription(subscriptionId));
    expect(created).toMatchObject({ type: 'SubscriptionCreated', data: {
      projectId: 'web', subscriptionId, eventPattern: '{"source":["shiplog.deploy"]}', signingSecretRef: `local:subscription#${subscriptionId}/signing-secret`,
    } });
    const everything = JSON.stringify((await store.readAll({ limit: 1000 })).events);
    expect(everything).not.toContain(signingSecret);
    const list = await call('GET', '/api/projects/web/subscriptions');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.json)).not.toContain(signingSecret);
    expect((list.json.subscriptions as { subscriptionId: string }[]).map((s) => s.subscriptionId)).toContain(subscriptionId);
  });

  it("refuses an invalid pattern with EventBridge's message, and an unknown project", async () => {
    const bad = await call('POST', '/api/projects/web/subscriptions', { targetUrl: `${receiverUrl}/x`, eventPattern: '{"source":"shiplog.build"}' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^Event pattern is not valid\. Reason: /);
    const empty = await call('POST', '/api/projects/web/subscriptions', { targetUrl: `${receiverUrl}/x`, eventPattern: { source: [] } });
    expect(empty.status).toBe(400);
    expect((await call('POST', '/api/projects/nope/subscriptions', { targetUrl: `${receiverUrl}/x`, eventPattern: { source: ['shiplog.build'] } })).status).toBe(404);
    expect((await call('DELETE', `/api/projects/web/subscriptions/${ulid()}`)).status).toBe(404);
  });
});

describe('delivery (handler called with the EventBridge event)', () => {
  it('posts a matching event, signed, and records it; a non-matching one is not sent', async () => {
    await createProject('sig');
    const { subscriptionId, signingSecret } = await subscribe('sig', '/sig', { source: ['shiplog.build'], detail: { data: { runner: ['local'] } } });
    const event = await buildStarted('sig');
    await service.onEvent(event);
    const [got] = at('/sig');
    expect(at('/sig')).toHaveLength(1);
    expect(verifySignature(got!.body, got!.headers['x-shiplog-signature-256'] as string, signingSecret)).toBe(true);
    expect(verifySignature(got!.body, got!.headers['x-shiplog-signature-256'] as string, 'wrong')).toBe(false);
    expect(got!.headers).toMatchObject({ 'content-type': 'application/json', 'x-shiplog-event-id': event.id, 'x-shiplog-event-type': 'BuildStarted' });
    expect(JSON.parse(got!.body)).toMatchObject({ id: event.id, 'detail-type': 'BuildStarted', source: 'shiplog.build', detail: { data: { runner: 'local' } } });
    const recorded = await deliveryStream(subscriptionId, event.id);
    expect(recorded).toMatchObject([{ type: 'DeliverySucceeded', data: { attempt: 1, statusCode: 200, deliveryId: got!.headers['x-shiplog-delivery'] } }]);

    const other = await buildStarted('sig', 'codebuild');
    await service.onEvent(other);
    expect(at('/sig')).toHaveLength(1);
    expect(await deliveryStream(subscriptionId, other.id)).toEqual([]);
  });

  it('sends a duplicate bus delivery once', async () => {
    await createProject('dup');
    const { subscriptionId } = await subscribe('dup', '/dup', { source: ['shiplog.build'] });
    const event = await buildStarted('dup');
    await service.onEvent(event);
    await service.onEvent(structuredClone(event));
    expect(at('/dup')).toHaveLength(1);
    expect((await deliveryStream(subscriptionId, event.id)).map((e) => e.type)).toEqual(['DeliverySucceeded']);
  });

  it('throws a retryable error for a failed delivery, then records the retry that succeeds', async () => {
    await createProject('retry');
    const { subscriptionId } = await subscribe('retry', '/flaky/retry', { source: ['shiplog.build'] });
    const event = await buildStarted('retry');
    const err = await service.onEvent(event).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookDeliveryError);
    expect((err as WebhookDeliveryError).retryable).toBe(true);
    await service.onEvent(event);
    const attempts = at('/flaky/retry');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.headers['x-shiplog-delivery']).toBe(attempts[0]!.headers['x-shiplog-delivery']);
    expect(await deliveryStream(subscriptionId, event.id)).toMatchObject([
      { type: 'DeliveryFailed', data: { attempt: 1, statusCode: 500, willRetry: true } },
      { type: 'DeliverySucceeded', data: { attempt: 2, statusCode: 200 } },
    ]);
  });

  it('does not deliver replays, nor after a removal', async () => {
    await createProject('rm');
    const { subscriptionId } = await subscribe('rm', '/rm', { source: ['shiplog.build'] });
    await service.onEvent(await buildStarted('rm', 'local', { replay: true }));
    expect(at('/rm')).toHaveLength(0);
    const removed = await call('DELETE', `/api/projects/rm/subscriptions/${subscriptionId}`);
    expect(removed).toEqual({ status: 200, json: { removed: true } });
    expect((await call('DELETE', `/api/projects/rm/subscriptions/${subscriptionId}`)).json).toEqual({ removed: false });
    await service.onEvent(await buildStarted('rm'));
    expect(at('/rm')).toHaveLength(0);
    expect((await call('GET', '/api/projects/rm/subscriptions')).json).toEqual({ subscriptions: [] });
  });
});

describe('delivery end to end: store → outbox → local bus → SubscriptionsDeliver', () => {
  let bus: LocalBus;
  let outbox: StreamOutbox;
  const deliver = topology.find((s) => s.name === 'SubscriptionsDeliver')!;

  beforeAll(async () => {
    await createLocalBusTables(client, { deliveries: tables.deliveries, deadLetters: tables.dlq });
    bus = localBus({
      subscribers: [{ name: deliver.name, pattern: deliver.pattern, policy: { ...deliver.policy, maxAttempts: 3 }, handle: service.onEvent }],
      journal: deliveryJournal(client, tables.deliveries), deadLetters: deadLetterQueue(client, tables.dlq), baseDelayMs: 5, maxDelayMs: 40,
    });
    await bus.start();
    outbox = streamOutbox({ endpoint: inject('dynamoEndpoint'), client, tableName: tables.events, checkpointTable: tables.outbox, bus, pollMs: 20 });
    await outbox.start();
  });
  afterAll(async () => {
    await outbox?.stop();
    await bus?.stop();
  });

  it('delivers a committed event, retries a failing receiver, and never delivers its own delivery events', async () => {
    await createProject('e2e');
    const { subscriptionId, signingSecret } = await subscribe('e2e', '/flaky/e2e', { source: [{ prefix: 'shiplog.' }] });
    const event = await buildStarted('e2e');
    await expect.poll(async () => (await deliveryStream(subscriptionId, event.id)).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await bus.idle();
    expect(await deliveryStream(subscriptionId, event.id)).toMatchObject([
      { type: 'DeliveryFailed', data: { attempt: 1, willRetry: true } },
      { type: 'DeliverySucceeded', data: { attempt: 2 } },
    ]);
    const got = at('/flaky/e2e');
    // The subscription's own SubscriptionCreated and the delivery events went through the bus too: none was sent.
    expect(got.map((r) => r.headers['x-shiplog-event-type'])).toEqual(['BuildStarted', 'BuildStarted']);
    expect(verifySignature(got[1]!.body, got[1]!.headers['x-shiplog-signature-256'] as string, signingSecret)).toBe(true);
    expect(await deadLetterQueue(client, tables.dlq).list(deliver.name)).toEqual([]);
  });
});
