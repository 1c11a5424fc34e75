import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monotonicFactory } from 'ulid';
import { Source } from '../../events/catalog.ts';
import { toEventBridgeEvent, type StoredEvent } from '../../events/envelope.ts';
import { toNewEvents } from '../../events/new-events.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { streams } from '../../events/streams.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { platformApi } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import { createSecretsTable, dynamoSecretStore } from '../../services/ingest/adapters/secret-store/local.ts';
import { fetchWebhookSender, subscriptionsService, WebhookDeliveryError } from '../../services/subscriptions/index.ts';
import { testApiAuth, type TestApiAuth } from '../support/api-auth.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

// Subscriptions with no allow-list (the default): internal targets are refused when created
// (an IP literal) and when delivered (a name that resolves to loopback).
const client = testDynamoClient();
const ulid = monotonicFactory();
const t = (what: string) => uniqueTableName(import.meta.url, what);
const tables = { events: t('events'), secrets: t('secrets') };
const store = dynamoEventStore({ client, tableName: tables.events, types: eventTypes });
const secrets = dynamoSecretStore({ client, tableName: tables.secrets, key: randomBytes(32) });
const now = () => new Date().toISOString();
const service = subscriptionsService({ store, secrets, sender: fetchWebhookSender(), ids: ulid, now, cacheTtlMs: 0, maxAttempts: 3, timeoutMs: 2000 });

let receiver: Server;
let api: Server;
let receiverPort = 0;
let apiUrl = '';
let auth: TestApiAuth;
let received = 0;
const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};
const subscribe = async (targetUrl: string) => {
  const res = await fetch(`${apiUrl}/api/projects/web/subscriptions`, {
    method: 'POST', headers: { ...auth.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ targetUrl, eventPattern: { source: ['shiplog.build'] } }),
  });
  return { status: res.status, json: (await res.json()) as { error?: string; subscriptionId?: string } };
};

beforeAll(async () => {
  await createEventStoreTable(client, tables.events);
  await createSecretsTable(client, tables.secrets);
  receiver = createServer((_req, res) => {
    received++;
    res.writeHead(200).end();
  });
  receiverPort = await listen(receiver);
  auth = await testApiAuth(client, import.meta.url);
  api = createServer(nodeListener(platformApi({ subscriptions: service, guard: auth.guard })));
  apiUrl = `http://127.0.0.1:${await listen(api)}`;
  await store.append(streams.project('web'), toNewEvents([{ type: 'ProjectCreated', data: {
    projectId: 'web', name: 'web', repository: { source: 'git', fullName: 'web', cloneUrl: 'http://localhost/git/web.git' },
    settings: { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } },
  } } as never], { ids: ulid, now, cause: null, actor: { kind: 'user', id: 'admin' } }), { expectedVersion: 0 });
});
afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => api?.close(r));
});

describe('webhook targets without an allow-list', () => {
  it('refuses internal IP literals at creation with 400, and records nothing', async () => {
    for (const [url, cls] of [
      [`http://127.0.0.1:${receiverPort}/hook`, 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'link-local'],
      [`http://[::ffff:127.0.0.1]:${receiverPort}/`, 'loopback'],
      ['http://10.0.0.8/', 'private'],
      ['http://[fd00::1]/', 'unique-local'],
    ] as const) {
      const res = await subscribe(url);
      expect(res.status, url).toBe(400);
      expect(res.json.error, url).toMatch(new RegExp(`^targetUrl: the target .* is a ${cls.replace(/[()]/g, '\\$&')} address; name it in SHIPLOG_WEBHOOK_ALLOW`));
    }
    expect((await store.readProject('web')).map((e) => e.type)).toEqual(['ProjectCreated']);
  });

  it('refuses at delivery a host name that resolves to loopback: nothing is sent, the refusal is recorded', async () => {
    const created = await subscribe(`http://localhost:${receiverPort}/hook`);
    expect(created.status).toBe(201);
    const subscriptionId = created.json.subscriptionId!;
    const deploymentId = `d-${ulid()}`;
    const { events } = await store.append(streams.build(deploymentId), toNewEvents([{ type: 'BuildStarted', data: {
      projectId: 'web', deploymentId, buildId: `b-${deploymentId}`, runner: 'local', runnerBuildId: '1', startedAt: now(), deadlineAt: now(),
    } }], { ids: ulid, now, cause: null, actor: { kind: 'service', id: 'build' } }), { expectedVersion: 0 });
    const event = toEventBridgeEvent(events[0] as StoredEvent, Source.build);

    const err = await service.onEvent(event).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookDeliveryError);
    expect((err as Error).message).toMatch(/refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(received).toBe(0);
    const [failed] = await store.readStream(streams.delivery(subscriptionId, event.id));
    expect(failed).toMatchObject({ type: 'DeliveryFailed', data: { statusCode: null, attempt: 1, willRetry: true } });
    expect((failed!.data as { error: string }).error).toMatch(/^refused: localhost resolves to/);
  });
});
