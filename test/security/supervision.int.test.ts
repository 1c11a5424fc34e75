import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '../../events/index.ts';
import { dynamoViewStore, localUrls, readModels } from '../../projections/index.ts';
import { localTables } from '../../infra/local/config.ts';
import { freePort } from '../../infra/local/dynamodb-local.ts';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.ts';
import { scenario } from '../support/scenario-events.ts';

// The whole local runtime in this process, with its own DynamoDB Local (not the suite's shared
// one): the test kills that JVM with SIGKILL and watches the runtime notice, restart it and carry on.
describe('DynamoDB Local under supervision', () => {
  let rt: LocalRuntime;
  let dataDir: string;
  let port: number;
  const lines: string[] = [];
  const dashboardBefore = process.env.SHIPLOG_DASHBOARD;

  beforeAll(async () => {
    process.env.SHIPLOG_DASHBOARD = 'off';
    dataDir = mkdtempSync(join(tmpdir(), 'shiplog-supervision-'));
    port = await freePort();
    rt = await startLocalRuntime({ dataDir, port, sitesPort: await freePort() }, { log: (l) => lines.push(l), retryBaseDelayMs: 200 });
  }, 180_000);

  afterAll(async () => {
    await rt?.stop();
    if (dashboardBefore === undefined) delete process.env.SHIPLOG_DASHBOARD;
    else process.env.SHIPLOG_DASHBOARD = dashboardBefore;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const healthz = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    return res ? { status: res.status, body: (await res.json()) as unknown } : { status: 0, body: null };
  };
  const projectIds = async () => {
    const models = readModels({ views: dynamoViewStore({ client: rt.client, tableName: localTables.views }), urls: localUrls(3001), cacheMs: 0 });
    return (await models.listProjects().catch(() => [])).map((p) => p.projectId);
  };
  const append = async (projectId: string) => {
    const event = scenario(projectId).created();
    await rt.store.append(streams.project(projectId), [{ type: event.type, data: event.data, metadata: event.metadata }], { expectedVersion: 0 });
  };

  it('answers 503 naming the database while it is down, restarts it on the same port, and delivers every event', async () => {
    expect(await healthz()).toEqual({ status: 200, body: { ok: true } });
    const firstPid = rt.db.pid();

    // Delivered before the crash. (Not appended at the instant of the kill: DynamoDB Local
    // acknowledges a write before its SQLite file has it, so a write acknowledged within ~0.1 s
    // of a SIGKILL can be gone after the restart; see docs/decisions.md.)
    await append('before-crash');
    await expect.poll(projectIds, { timeout: 60_000, interval: 250 }).toEqual(['before-crash']);
    process.kill(firstPid, 'SIGKILL');

    await expect.poll(healthz, { timeout: 30_000, interval: 50 }).toEqual({ status: 503, body: { ok: false, unavailable: ['database'] } });
    await expect.poll(healthz, { timeout: 120_000, interval: 250 }).toEqual({ status: 200, body: { ok: true } });
    expect(rt.db.pid()).not.toBe(firstPid);
    expect(rt.db.restarts()).toBe(1);
    expect(rt.db.endpoint).toBe(`http://127.0.0.1:${rt.db.port}`);
    expect(lines.some((l) => /DynamoDB Local exited \(SIGKILL\)/.test(l))).toBe(true);

    // One committed after the restart: the store, the outbox and the bus all work again.
    await append('after-crash');
    await expect.poll(projectIds, { timeout: 60_000, interval: 250 }).toEqual(expect.arrayContaining(['before-crash', 'after-crash']));
  }, 240_000);
});
