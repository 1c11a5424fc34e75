import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEventStoreTable, dynamoEventStore, eventTypes, Source, streams, toEventBridgeEvent, toNewEvents, type EventStore, type ShiplogEvent,
} from '../../events/index.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import {
  alarmEvaluator, ingestRollbackRequester, localMetricsSource, localRuntimeLogStore, observabilityCommands, observabilityService,
  type RequestRecord, type RuntimeLogRecord,
} from './index.ts';

const client = testDynamoClient();
const tableName = uniqueTableName(import.meta.url, 'events');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shiplog-obs-'));
  dirs.push(d);
  return d;
};
let store: EventStore;
beforeAll(async () => {
  await createEventStoreTable(client, tableName);
  store = dynamoEventStore({ client, tableName, types: eventTypes });
});
afterAll(() => {
  client.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ulid = monotonicFactory();
const ids = () => ulid();
const now = () => new Date().toISOString();
const admin = { kind: 'user', id: 'admin' } as const;
const line = (over: Partial<RuntimeLogRecord>): RuntimeLogRecord => ({
  time: now(), level: 'info', kind: 'console', projectId: 'web', deploymentId: 'd1', message: 'x', ...over,
});

describe('local runtime log store', () => {
  it('answers the newest records at or above a level, oldest first', async () => {
    const logs = localRuntimeLogStore({ dir: tempDir() });
    await logs.append([line({ message: 'a' }), line({ message: 'b', level: 'error' }), line({ message: 'c' }), line({ message: 'd', deploymentId: 'd2' })]);
    expect((await logs.query({ projectId: 'web', deploymentId: 'd1' })).map((r) => r.message)).toEqual(['a', 'b', 'c']);
    expect((await logs.query({ projectId: 'web', deploymentId: 'd1', level: 'error' })).map((r) => r.message)).toEqual(['b']);
    expect((await logs.query({ projectId: 'web', deploymentId: 'd1', limit: 2 })).map((r) => r.message)).toEqual(['b', 'c']);
    expect(await logs.query({ projectId: 'web', deploymentId: 'nope' })).toEqual([]);
  });

  it('tells followers of new records of their deployment and level', async () => {
    const logs = localRuntimeLogStore({ dir: tempDir() });
    const seen: string[] = [];
    const stop = logs.follow({ projectId: 'web', deploymentId: 'd1', level: 'warning' }, (r) => seen.push(r.message));
    await logs.append([line({ message: 'quiet' }), line({ message: 'loud', level: 'error' }), line({ message: 'other', level: 'error', deploymentId: 'd2' })]);
    stop();
    await logs.append([line({ message: 'after', level: 'error' })]);
    expect(seen).toEqual(['loud']);
  });

  it('keeps a deployment within its size cap, dropping the oldest files', async () => {
    const dir = tempDir();
    const logs = localRuntimeLogStore({ dir, retention: { segmentBytes: 400, maxBytes: 1200 } });
    for (let i = 0; i < 40; i++) await logs.append([line({ message: `m${i}` })]);
    const files = readdirSync(join(dir, 'web', 'd1'));
    expect(files.length).toBeLessThanOrEqual(4);
    const kept = (await logs.query({ projectId: 'web', deploymentId: 'd1' })).map((r) => r.message);
    expect(kept.at(-1)).toBe('m39');
    expect(kept).not.toContain('m0');
  });
});

describe('segmented log appends', () => {
  it('writes appends made while one is under way together, all of them, in order', async () => {
    const dir = tempDir();
    const logs = localRuntimeLogStore({ dir });
    await Promise.all(Array.from({ length: 50 }, (_, i) => logs.append([line({ message: `m${i}` })])));
    expect((await logs.query({ projectId: 'web', deploymentId: 'd1' })).map((r) => r.message)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(readdirSync(join(dir, 'web', 'd1'))).toEqual(['00000001.jsonl']);
  });

  it('goes on in the newest file another run left, and starts again when the folder is removed', async () => {
    const dir = tempDir();
    await localRuntimeLogStore({ dir }).append([line({ message: 'before restart' })]);
    const logs = localRuntimeLogStore({ dir });
    await logs.append([line({ message: 'after restart' })]);
    expect(readdirSync(join(dir, 'web', 'd1'))).toEqual(['00000001.jsonl']);
    expect((await logs.query({ projectId: 'web', deploymentId: 'd1' })).map((r) => r.message)).toEqual(['before restart', 'after restart']);
    rmSync(join(dir, 'web'), { recursive: true, force: true });
    await logs.append([line({ message: 'after removal' })]);
    expect((await logs.query({ projectId: 'web', deploymentId: 'd1' })).map((r) => r.message)).toEqual(['after removal']);
  });

  it('rolls to a new file by the bytes written, not the characters', async () => {
    const dir = tempDir();
    const logs = localRuntimeLogStore({ dir, retention: { segmentBytes: 600, maxBytes: 1 << 20 } });
    for (let i = 0; i < 12; i++) await logs.append([line({ message: `é${i}`.padEnd(40, 'é') })]);
    const files = readdirSync(join(dir, 'web', 'd1')).sort();
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(statSync(join(dir, 'web', 'd1', f)).size).toBeLessThanOrEqual(600);
    expect((await logs.query({ projectId: 'web', deploymentId: 'd1' }))).toHaveLength(12);
  });
});

describe('the observability service on a real event store', () => {
  const project = `obs-${Date.now().toString(36)}`;
  const d1 = `${project}-d1`;
  const d2 = `${project}-d2`;
  const seed = (streamId: string, events: ShiplogEvent[]) =>
    store.append(streamId, toNewEvents(events, { ids, now, cause: null, actor: admin }), { expectedVersion: 0 });
  const requested = (deploymentId: string): ShiplogEvent => ({
    type: 'DeploymentRequested',
    data: {
      projectId: project, deploymentId, target: 'production', alias: 'production', trigger: 'push', branch: 'main',
      commit: { sha: 'a'.repeat(40), message: 'x', author: { name: 'Ada', email: 'ada@example.com' } },
      repository: { source: 'git', fullName: project, cloneUrl: 'http://localhost/git/x.git' },
      buildSettings: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' }, env: [], requestedBy: admin, requestedAt: now(),
    },
  });
  const published = (deploymentId: string): ShiplogEvent[] => [
    { type: 'AssetsUploaded', data: { projectId: project, deploymentId, sha: 'a'.repeat(40), requestedAt: now(), assetsUri: 'file:///x', fileCount: 1, totalBytes: 1, durationMs: 1 } },
    { type: 'FunctionVersionPublished', data: { projectId: project, deploymentId, role: 'server', functionName: `${project}-server`, version: '1', codeSha256: 'x' } },
  ];
  let metrics: ReturnType<typeof localMetricsSource>;
  const request = (deploymentId: string, status: number): RequestRecord => ({
    time: now(), projectId: project, deploymentId, requestId: ids(), method: 'GET', path: '/', origin: 'function', status, durationMs: 20, coldStart: false, bytesOut: 100,
  });

  beforeAll(async () => {
    await seed(streams.project(project), [{
      type: 'ProjectCreated',
      data: { projectId: project, name: project, repository: { source: 'git', fullName: project, cloneUrl: 'http://localhost/git/x.git' },
        settings: { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } } },
    }]);
    await seed(streams.deployment(d1), [requested(d1)]);
    await seed(streams.deployment(d2), [requested(d2)]);
    await seed(streams.release(project, 'production'), [
      ...published(d1),
      { type: 'AliasShifted', data: { projectId: project, alias: 'production', fromDeploymentId: null, toDeploymentId: d1, reason: 'deploy' } },
      ...published(d2),
      { type: 'AliasShifted', data: { projectId: project, alias: 'production', fromDeploymentId: d1, toDeploymentId: d2, reason: 'deploy' } },
    ]);
    metrics = localMetricsSource({ dir: tempDir() });
  });

  it('refuses a bad rule and a rule for no project, and stores a good one as an event', async () => {
    const obs = observabilityCommands({ store, logs: localRuntimeLogStore({ dir: tempDir() }), metrics, ids, now });
    await expect(obs.setAlarmRule(project, { maxErrorRate: 2, windowSeconds: 60, minRequests: 5 }, admin)).rejects.toMatchObject({ status: 400 });
    await expect(obs.setAlarmRule('nope-nope', { maxErrorRate: 0.5, windowSeconds: 60, minRequests: 5 }, admin)).rejects.toMatchObject({ status: 404 });
    const set = await obs.setAlarmRule(project, { maxErrorRate: 0.5, windowSeconds: 60, minRequests: 5, autoRollback: true }, admin);
    expect(set).toMatchObject({ changed: true, rule: { maxErrorRate: 0.5, watchSeconds: 600, autoRollback: true } });
    expect((await obs.setAlarmRule(project, { maxErrorRate: 0.5, windowSeconds: 60, minRequests: 5, autoRollback: true }, admin)).changed).toBe(false);
    expect(await obs.getAlarmRule(project)).toMatchObject({ status: 'ok', rule: { minRequests: 5 } });
    expect((await store.readProject(project)).map((e) => e.type)).toContain('AlarmRuleSet');
  });

  it('counts requests and errors per deployment, and prices them', async () => {
    for (let i = 0; i < 6; i++) await metrics.record(request(d2, 500));
    await metrics.record(request(d1, 200));
    const obs = observabilityCommands({ store, logs: localRuntimeLogStore({ dir: tempDir() }), metrics, ids, now });
    const { deployments } = await obs.metrics(project, { since: '1h' });
    expect(deployments.find((d) => d.id === d2)).toMatchObject({ live: true, requests: 6, errors: 6 });
    expect(deployments.find((d) => d.id === d1)).toMatchObject({ live: false, requests: 1, errors: 0 });
    const costs = await obs.costs(project);
    expect(costs.total).toBeGreaterThan(0);
    expect(costs.deployments.find((d) => d.id === d2)?.usage.invocations).toBe(6);
    await expect(obs.metrics(project, { since: 'yesterday' })).rejects.toMatchObject({ status: 400 });
  });

  it('raises on a breach; the alarm that acts requests a rollback caused by it', async () => {
    const alarms = alarmEvaluator({ store, metrics, ids, now });
    const [raised] = await alarms.evaluate(project);
    expect(raised).toMatchObject({ type: 'AlarmRaised', data: { deploymentId: d2, observed: 1, rollback: true, severity: 'critical' } });
    expect(await alarms.evaluate(project)).toEqual([]);

    const service = observabilityService({ store, rollback: ingestRollbackRequester({ store, ids, now }) });
    await service.onAlarmRaised(toEventBridgeEvent(raised!, Source.observability));
    const rollback = (await store.readStream(streams.project(project))).find((e) => e.type === 'RollbackRequested')!;
    expect(rollback.data).toMatchObject({ alias: 'production', toDeploymentId: d1, requestedBy: { kind: 'service', id: 'observability' } });
    expect((rollback.data as { reason: string }).reason).toContain(`AlarmRaised ${raised!.metadata.eventId}`);
    expect(rollback.metadata).toMatchObject({ causationId: raised!.metadata.eventId, correlationId: raised!.metadata.correlationId });
  });
});
