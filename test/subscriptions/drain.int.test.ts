import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Source, type EventData } from '../../events/catalog.ts';
import { toEventBridgeEvent, type StoredEvent } from '../../events/envelope.ts';
import { toNewEvents } from '../../events/new-events.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { streams } from '../../events/streams.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { platformApi } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import { createSecretsTable, dynamoSecretStore } from '../../services/ingest/adapters/secret-store/local.ts';
import type { RuntimeLogLevel, RuntimeLogRecord } from '../../services/observability/index.ts';
import { testApiAuth, type TestApiAuth } from '../support/api-auth.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';
import { fetchWebhookSender, parseAllowList, subscriptionsService, verifySignature, type DrainOptions } from '../../services/subscriptions/index.ts';

// Log drains against DynamoDB Local (events, encrypted signing secrets) and a real HTTP receiver.
const client = testDynamoClient();
const ulid = monotonicFactory();
const t = (what: string) => uniqueTableName(import.meta.url, what);
const tables = { events: t('events'), secrets: t('secrets') };
const store = dynamoEventStore({ client, tableName: tables.events, types: eventTypes });
const secrets = dynamoSecretStore({ client, tableName: tables.secrets, key: randomBytes(32) });
const now = () => new Date().toISOString();
const allow = parseAllowList('127.0.0.1');
const drained: string[] = [];
const service = (drain: DrainOptions) =>
  subscriptionsService({ store, secrets, sender: fetchWebhookSender({ allow }), allow, ids: ulid, now, cacheTtlMs: 0, timeoutMs: 2000, drain, log: (l) => drained.push(l) });
// Quick batches and retries, so the test waits for little.
const fast = service({ flushMs: 50, retryDelay: () => 20, maxAttempts: 3 });

// The receiver: records every request; a path's status comes from `answer` (200 by default).
interface Received { path: string; headers: IncomingHttpHeaders; body: string; status: number }
const received: Received[] = [];
const answer = new Map<string, number[]>();
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
const recordsAt = (path: string) => at(path).flatMap((r) => JSON.parse(r.body) as RuntimeLogRecord[]);

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${apiUrl}${path}`, { method, headers: { ...auth.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};
const drainTo = async (project: string, path: string, extra: Record<string, unknown> = {}) => {
  const res = await call('POST', `/api/projects/${project}/subscriptions`, { targetUrl: `${receiverUrl}${path}`, kind: 'runtime-logs', ...extra });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { subscriptionId: string; signingSecret: string };
};
const createProject = (projectId: string) =>
  store.append(streams.project(projectId), toNewEvents([{ type: 'ProjectCreated', data: {
    projectId, name: projectId, repository: { source: 'git', fullName: projectId, cloneUrl: `http://localhost/git/${projectId}.git` },
    settings: { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } },
  } } as never], { ids: ulid, now, cause: null, actor: { kind: 'user', id: 'admin' } }), { expectedVersion: 0 });

let seq = 0;
const record = (projectId: string, level: RuntimeLogLevel, message: string): RuntimeLogRecord => ({
  time: now(), level, kind: 'console', projectId, deploymentId: 'd1', requestId: `r${++seq}`, method: 'GET', path: '/', status: 200, durationMs: 3, message,
});

beforeAll(async () => {
  await createEventStoreTable(client, tables.events);
  await createSecretsTable(client, tables.secrets);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const status = answer.get(path)?.shift() ?? 200;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status).end();
    });
  });
  receiverUrl = await listen(receiver);
  auth = await testApiAuth(client, import.meta.url);
  api = createServer(nodeListener(platformApi({ subscriptions: fast, guard: auth.guard })));
  apiUrl = await listen(api);
});
afterAll(async () => {
  await fast.drain.close();
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => api?.close(r));
});

describe('log drains (runtime-logs subscriptions)', () => {
  it('sends a project\'s runtime log records in signed batches, only at or above --level, and lists the drain', async () => {
    await createProject('drain');
    await createProject('other');
    const { subscriptionId, signingSecret } = await drainTo('drain', '/drain', { minLevel: 'warn', description: 'errors to the log service' });
    const [created] = await store.readStream(streams.subscription(subscriptionId));
    expect(created).toMatchObject({ type: 'SubscriptionCreated', data: { kind: 'runtime-logs', eventPattern: '{"detail-type":["RuntimeLog"],"detail":{"level":["warning","error"]}}' } });

    fast.drain.offer([record('drain', 'info', 'rendered home'), record('drain', 'warning', 'slow query'), record('other', 'error', 'not this project')]);
    fast.drain.offer([record('drain', 'error', 'TypeError: boom\n    at page.js:1:1'), record('drain', 'debug', 'noise')]);
    await expect.poll(() => recordsAt('/drain').length, { timeout: 5000 }).toBe(2);

    const batches = at('/drain');
    for (const b of batches) {
      expect(verifySignature(b.body, b.headers['x-shiplog-signature-256'] as string, signingSecret)).toBe(true);
      expect(b.headers).toMatchObject({ 'content-type': 'application/json', 'x-shiplog-event-type': 'RuntimeLogBatch', 'x-shiplog-subscription': subscriptionId, 'x-shiplog-dropped': '0' });
      expect(b.headers['x-shiplog-records']).toBe(String((JSON.parse(b.body) as unknown[]).length));
    }
    // The records as `shiplog logs --runtime --json` prints them, in order.
    expect(recordsAt('/drain')).toEqual([
      expect.objectContaining({ level: 'warning', message: 'slow query', requestId: expect.any(String), path: '/', status: 200, deploymentId: 'd1', time: expect.any(String) }),
      expect.objectContaining({ level: 'error', message: 'TypeError: boom\n    at page.js:1:1' }),
    ]);
    expect(JSON.stringify(received)).not.toContain(signingSecret);

    const list = await call('GET', '/api/projects/drain/subscriptions');
    expect(list.json.subscriptions).toEqual([expect.objectContaining({
      subscriptionId, kind: 'runtime-logs', description: 'errors to the log service', drain: expect.objectContaining({ delivered: 2, batches: batches.length, dropped: 0, buffered: 0 }),
    })]);
  });

  it('keeps events and runtime logs apart: an event subscription gets no log record, a drain no event', async () => {
    await createProject('apart');
    const { subscriptionId: drainId } = await drainTo('apart', '/apart/logs');
    const events = await call('POST', '/api/projects/apart/subscriptions', { targetUrl: `${receiverUrl}/apart/events`, eventPattern: { 'detail-type': [{ exists: true }] } });
    expect(events.status).toBe(201);
    const [ev] = (await store.append(streams.build('dx'), toNewEvents([{ type: 'BuildStarted', data: {
      projectId: 'apart', deploymentId: 'dx', buildId: 'bx', runner: 'local', runnerBuildId: '1', startedAt: now(), deadlineAt: now(),
    } satisfies EventData<'BuildStarted'> }], { ids: ulid, now, cause: null, actor: { kind: 'service', id: 'build' } }), { expectedVersion: 0 })).events;
    await fast.onEvent(toEventBridgeEvent(ev as StoredEvent, Source.build));
    fast.drain.offer([record('apart', 'info', 'hello')]);
    await expect.poll(() => recordsAt('/apart/logs').map((r) => r.message), { timeout: 5000 }).toEqual(['hello']);
    expect(at('/apart/events').map((r) => r.headers['x-shiplog-event-type'])).toEqual(['BuildStarted']);
    expect(at('/apart/logs').every((r) => r.headers['x-shiplog-event-type'] === 'RuntimeLogBatch')).toBe(true);
    expect(fast.drain.stats(drainId)).toMatchObject({ delivered: 1 });
  });

  it('refuses a drain option on an event subscription and a level twice', async () => {
    await createProject('refuse');
    const level = await call('POST', '/api/projects/refuse/subscriptions', { targetUrl: `${receiverUrl}/x`, eventPattern: { source: ['shiplog.build'] }, minLevel: 'warn' });
    expect(level).toMatchObject({ status: 400, json: { error: expect.stringContaining('minLevel is for kind "runtime-logs"') } });
    const noPattern = await call('POST', '/api/projects/refuse/subscriptions', { targetUrl: `${receiverUrl}/x` });
    expect(noPattern).toMatchObject({ status: 400, json: { error: expect.stringContaining('an event subscription needs an eventPattern') } });
    const twice = await call('POST', '/api/projects/refuse/subscriptions', { targetUrl: `${receiverUrl}/x`, kind: 'runtime-logs', minLevel: 'error', eventPattern: { detail: { level: ['info'] } } });
    expect(twice).toMatchObject({ status: 400, json: { error: 'give minLevel or a detail.level in eventPattern, not both' } });
    const internal = await call('POST', '/api/projects/refuse/subscriptions', { targetUrl: 'http://169.254.169.254/latest', kind: 'runtime-logs' });
    expect(internal.status).toBe(400);
  });

  it('retries a failed batch with the same delivery id until the receiver takes it', async () => {
    await createProject('flaky');
    const { subscriptionId } = await drainTo('flaky', '/flaky');
    answer.set('/flaky', [503, 500]);
    fast.drain.offer([record('flaky', 'info', 'one'), record('flaky', 'error', 'two')]);
    await expect.poll(() => fast.drain.stats(subscriptionId)?.delivered, { timeout: 5000 }).toBe(2);
    const attempts = at('/flaky');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.headers['x-shiplog-delivery'])).size).toBe(1);
    expect(attempts.map((a) => a.body)).toEqual([attempts[0]!.body, attempts[0]!.body, attempts[0]!.body]);
    expect(fast.drain.stats(subscriptionId)).toMatchObject({ failedAttempts: 2, dropped: 0, buffered: 0, lastError: expect.stringMatching(/Internal Server Error|HTTP 500/) });
  });

  it('stops sending to a removed drain', async () => {
    await createProject('gone');
    const { subscriptionId } = await drainTo('gone', '/gone');
    fast.drain.offer([record('gone', 'info', 'before')]);
    await expect.poll(() => recordsAt('/gone').length, { timeout: 5000 }).toBe(1);
    expect((await call('DELETE', `/api/projects/gone/subscriptions/${subscriptionId}`)).status).toBe(200);
    fast.drain.offer([record('gone', 'info', 'after')]);
    // The intake routes in order: once a later record reached its drain, 'after' was routed (nowhere).
    fast.drain.offer([record('drain', 'error', 'sentinel after the removal')]);
    await expect.poll(() => recordsAt('/drain').some((r) => r.message === 'sentinel after the removal'), { timeout: 5000 }).toBe(true);
    expect(recordsAt('/gone').map((r) => r.message)).toEqual(['before']);
    expect(fast.drain.stats(subscriptionId)).toMatchObject({ delivered: 1, buffered: 0 });
  });
});

describe('a dead receiver', () => {
  // Its own service: a 16 KiB buffer, two attempts per batch.
  const small = service({ flushMs: 20, retryDelay: () => 10, maxAttempts: 2, maxBufferBytes: 16 << 10, maxBatchRecords: 20 });
  afterAll(() => small.drain.close());

  it('keeps a bounded buffer, drops and counts the rest, and says how many when the receiver is back', async () => {
    await createProject('dead');
    const { subscriptionId, signingSecret } = await small.create('dead', { targetUrl: `${receiverUrl}/dead`, kind: 'runtime-logs' }, { kind: 'user', id: 'admin' });
    answer.set('/dead', new Array<number>(1_000_000).fill(503));
    const offered = 5000;
    const line = 'x'.repeat(200);
    let maxBuffered = 0;
    const sample = () => {
      const stats = small.drain.stats(subscriptionId);
      maxBuffered = Math.max(maxBuffered, stats?.buffered ?? 0);
      return stats;
    };
    for (let i = 0; i < offered; i += 100) {
      small.drain.offer(Array.from({ length: 100 }, (_, j) => record('dead', 'info', `${i + j} ${line}`)));
      await new Promise((r) => setImmediate(r));
      sample();
    }
    // Every record offered is routed, and all but what the buffer holds are dropped.
    await expect.poll(() => {
      const stats = sample();
      return stats ? stats.dropped + stats.buffered : 0;
    }, { timeout: 20_000 }).toBe(offered);
    expect(small.drain.stats(subscriptionId)!.dropped).toBeGreaterThan(offered / 2);
    // A record here is about 330 bytes of JSON: the buffer (16 KiB) plus the batch in flight hold some 70.
    expect(maxBuffered).toBeLessThan(100);
    expect(small.drain.stats(subscriptionId)!.delivered).toBe(0);
    expect(drained.some((l) => l.startsWith(`log drain ${subscriptionId}: dropping records`))).toBe(true);
    expect(drained.join('\n')).not.toContain(signingSecret);

    // Back up: the next batch arrives, and says how many were dropped before it.
    answer.set('/dead', []);
    small.drain.offer([record('dead', 'error', 'after the outage')]);
    await expect.poll(() => small.drain.stats(subscriptionId), { timeout: 10_000 }).toMatchObject({ buffered: 0, delivered: expect.any(Number) });
    await expect.poll(() => at('/dead').some((r) => r.status === 200 && r.body.includes('after the outage')), { timeout: 10_000 }).toBe(true);
    const stats = small.drain.stats(subscriptionId)!;
    const delivered = at('/dead').filter((r) => r.status === 200);
    expect(delivered).toHaveLength(stats.batches);
    expect(Number(delivered[0]!.headers['x-shiplog-dropped'])).toBeGreaterThan(0);
    expect(delivered.reduce((n, r) => n + Number(r.headers['x-shiplog-dropped']), 0)).toBe(stats.dropped);
    expect(delivered.reduce((n, r) => n + (JSON.parse(r.body) as unknown[]).length, 0)).toBe(stats.delivered);
    expect(stats.delivered + stats.dropped).toBe(offered + 1);
  }, 60_000);
});

describe('alarms reach event subscriptions', () => {
  it('delivers AlarmRaised and AlarmCleared to a subscription whose pattern names them', async () => {
    await createProject('alarm');
    const res = await call('POST', '/api/projects/alarm/subscriptions', { targetUrl: `${receiverUrl}/alarm`, eventPattern: { 'detail-type': ['AlarmRaised', 'AlarmCleared'] } });
    expect(res.status).toBe(201);
    const at0 = now();
    const { events } = await store.append(streams.alarm('alarm', 'error-rate'), toNewEvents([
      { type: 'AlarmRaised', data: { projectId: 'alarm', alarmId: 'error-rate', alias: 'production', deploymentId: 'd1', metric: '5xx-rate', severity: 'critical', threshold: 0.05, observed: 0.5, windowSeconds: 60, since: at0 } },
      { type: 'AlarmCleared', data: { projectId: 'alarm', alarmId: 'error-rate', metric: '5xx-rate', observed: 0, raisedAt: at0 } },
    ] as never, { ids: ulid, now, cause: null, actor: { kind: 'service', id: 'observability' } }), { expectedVersion: 0 });
    for (const e of events) await fast.onEvent(toEventBridgeEvent(e as StoredEvent, Source.observability));
    expect(at('/alarm').map((r) => [r.headers['x-shiplog-event-type'], (JSON.parse(r.body) as { detail: { data: { observed: number } } }).detail.data.observed]))
      .toEqual([['AlarmRaised', 0.5], ['AlarmCleared', 0]]);
  });
});
