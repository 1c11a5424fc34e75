import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStoreTable, dynamoEventStore, eventTypes, streams, toNewEvents, type EventStore } from '../../../events/index.ts';
import { localMetricsSource, localRuntimeLogStore, observabilityCommands, type RuntimeLogRecord } from '../../../services/observability/index.ts';
import { sseMessages } from '../../../cli/sse.ts';
import { testDynamoClient, uniqueTableName } from '../../../test/support/dynamo.ts';
import { answerError } from '../errors.ts';
import { observabilityRoutes } from './observability.ts';

const client = testDynamoClient();
const tableName = uniqueTableName(import.meta.url, 'events');
const dir = mkdtempSync(join(tmpdir(), 'shiplog-obs-routes-'));
const ulid = monotonicFactory();
const ids = () => ulid();
const now = () => new Date().toISOString();
const admin = { kind: 'user', id: 'admin' } as const;
const project = `obsr-${Date.now().toString(36)}`;
const deploymentId = `${project}-d1`;
let store: EventStore;
let logs: ReturnType<typeof localRuntimeLogStore>;
let app: ReturnType<typeof observabilityRoutes>;

const line = (message: string, level: RuntimeLogRecord['level'] = 'info'): RuntimeLogRecord => ({ time: now(), level, kind: 'console', projectId: project, deploymentId, message });

beforeAll(async () => {
  await createEventStoreTable(client, tableName);
  store = dynamoEventStore({ client, tableName, types: eventTypes });
  await store.append(streams.deployment(deploymentId), toNewEvents([{
    type: 'DeploymentRequested',
    data: {
      projectId: project, deploymentId, target: 'production', alias: 'production', trigger: 'push', branch: 'main',
      commit: { sha: 'a'.repeat(40), message: 'x', author: { name: 'Ada', email: 'ada@example.com' } },
      repository: { source: 'git', fullName: project, cloneUrl: 'http://localhost/git/x.git' },
      buildSettings: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' }, env: [], requestedBy: admin, requestedAt: now(),
    },
  }], { ids, now, cause: null, actor: admin }), { expectedVersion: 0 });
  logs = localRuntimeLogStore({ dir: join(dir, 'logs') });
  const commands = observabilityCommands({ store, logs, metrics: localMetricsSource({ dir: join(dir, 'requests') }), ids, now });
  app = observabilityRoutes({ commands, actorOf: () => admin, maxBytes: 16 << 10, heartbeatMs: 60_000 });
  app.onError(answerError);
});
afterAll(() => {
  client.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /api/deployments/:id/runtime-logs', () => {
  it('answers the records, filtered by level; refuses a bad level and an unknown deployment', async () => {
    await logs.append([line('hello'), line('boom', 'error')]);
    const all = (await (await app.request(`/api/deployments/${deploymentId}/runtime-logs`)).json()) as { records: RuntimeLogRecord[] };
    expect(all.records.map((r) => r.message)).toEqual(['hello', 'boom']);
    const errors = (await (await app.request(`/api/deployments/${deploymentId}/runtime-logs?level=error`)).json()) as { records: RuntimeLogRecord[] };
    expect(errors.records.map((r) => r.message)).toEqual(['boom']);
    const bad = await app.request(`/api/deployments/${deploymentId}/runtime-logs?level=loud`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('level must be one of');
    expect((await app.request('/api/deployments/nope/runtime-logs')).status).toBe(404);
    expect((await app.request('/api/deployments/nope/runtime-logs?follow=1')).status).toBe(404);
  });

  it('follows as SSE: the latest records, caught-up, then each new one of its level', async () => {
    const res = await app.request(`/api/deployments/${deploymentId}/runtime-logs?follow=1&level=warning`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const seen: string[] = [];
    for await (const m of sseMessages(res.body!)) {
      if (m.event === 'caught-up') {
        seen.push('caught-up');
        await logs.append([line('quiet'), line('live error', 'error')]);
        continue;
      }
      seen.push((JSON.parse(m.data) as RuntimeLogRecord).message);
      if (seen.includes('live error')) break;
    }
    await res.body!.cancel().catch(() => undefined);
    expect(seen).toEqual(['boom', 'caught-up', 'live error']);
  });
});

describe('alarms, metrics and costs routes', () => {
  it('refuses an invalid rule and a project that does not exist', async () => {
    const bad = await app.request(`/api/projects/${project}/alarms`, { method: 'POST', body: JSON.stringify({ maxErrorRate: -1 }), headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect((await app.request('/api/projects/no-such-project/metrics')).status).toBe(404);
    expect((await app.request('/api/projects/no-such-project/costs')).status).toBe(404);
    expect((await app.request('/api/projects/no-such-project/alarms')).status).toBe(404);
  });
});
