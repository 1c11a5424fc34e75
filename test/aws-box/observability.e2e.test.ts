import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../events/index.ts';
import { deploymentOfHead, gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// Issue 14's flow on the AWS box (docs/aws-box.md): the site function's output and invocation
// reports go to moto CloudWatch Logs (the Lambda stand-in writes them as Lambda does), the Api
// function reads them back for `logs --runtime` and `metrics`, and the scheduled `AlarmsEvaluate`
// rule (run by the EventBridge stand-in, 20 times faster here) judges the alarm rule; a breach is
// an `AlarmRaised`, and `ObservabilityOnAlarmRaised` rolls production back. One fixture app,
// built twice through CodeBuild: healthy, then a commit that makes its home page throw.
const fixture = new URL('../fixtures/observability-app/', import.meta.url).pathname;
const marker = 'observability-marker: rendered the home page';

interface Runtime { requestId?: string; level: string; kind: string; message: string }
interface Metrics { id: string; live: boolean; requests: number; errors: number; p50Ms: number; p99Ms: number; coldStarts: number }

describe('the AWS box: runtime logs, metrics, and an alarm that rolls a throwing deployment back', () => {
  let sl: LocalShiplog;
  let work: string;
  let remote: string;
  let good: string;
  let bad: string;
  const startedAt = new Date().toISOString();

  const pushAndWait = async (message: string) => {
    gitCommitAll(work, message);
    gitPush(work, remote);
    const id = await deploymentOfHead(sl, 'obs', work, 120_000);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 960_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.output().slice(-4000)}`).toBe(0);
    return id;
  };
  const runtimeLogs = (id: string, ...args: string[]): Runtime[] => {
    const r = sl.cli(['logs', id, '--runtime', '--json', ...args]);
    if (r.status !== 0) throw new Error(`logs --runtime failed: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Runtime);
  };
  const home = () => sl.site('obs.localhost', '/');

  beforeAll(async () => {
    // AlarmsEvaluate is `rate(1 minute)`: × 0.05 it runs every 3 s.
    sl = await startShiplog({ runtime: 'aws-box', env: { SHIPLOG_BOX_SCHEDULE_SCALE: '0.05' } });
    work = mkdtempSync(join(tmpdir(), 'shiplog-box-obs-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    remote = sl.json<{ gitRemote: string }>(['projects', 'create', 'obs']).gitRemote;
    // The broken version must pass the health gate to go live: its API route keeps answering.
    const patched = await fetch(`http://127.0.0.1:${sl.port}/api/projects/obs`, {
      method: 'PATCH', headers: { authorization: `Bearer ${sl.adminToken()}`, 'content-type': 'application/json' }, body: JSON.stringify({ healthPath: '/api/health' }),
    });
    expect(patched.status).toBe(200);
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("has the app's console.log line in `shiplog logs --runtime`, read back from CloudWatch Logs", async () => {
    good = await pushAndWait('healthy version');
    await expect.poll(async () => (await home()).body.includes('healthy'), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => runtimeLogs(good).find((r) => r.message.includes(marker)), { timeout: 30_000, interval: 500 })
      .toMatchObject({ level: 'info', kind: 'console', requestId: expect.any(String) });
    const logs = runtimeLogs(good);
    const line = logs.find((r) => r.message.includes(marker))!;
    // The invocation that printed it has its report, under the same request id.
    expect(logs).toContainEqual(expect.objectContaining({ kind: 'request', requestId: line.requestId }));
    expect(runtimeLogs(good, '--level', 'error').some((r) => r.message.includes(marker))).toBe(false);
  }, 1_000_000);

  it('rolls back a deployment that throws on every request: AlarmRaised → RollbackRequested → RolledBack', async () => {
    const set = sl.cli(['alarms', 'set', 'obs', '--max-error-rate', '0.5', '--window', '60', '--min-requests', '5', '--auto-rollback']);
    expect(set.status, set.stderr).toBe(0);
    expect(sl.json<{ rule: unknown; status: string }>(['alarms', 'get', 'obs'])).toMatchObject({
      status: 'ok', rule: { maxErrorRate: 0.5, windowSeconds: 60, minRequests: 5, autoRollback: true },
    });

    writeFileSync(join(work, 'app', 'mode.js'), readFileSync(join(work, 'app', 'mode.js'), 'utf8').replace('BROKEN = false', 'BROKEN = true'));
    bad = await pushAndWait('broken version');
    expect(sl.json<{ liveDeploymentId: string }>(['projects', 'get', 'obs']).liveDeploymentId).toBe(bad);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await home()).status);
    expect(statuses[0]).toBe(500);

    // The scheduled evaluation sees the breach; the rollback puts the healthy version back.
    await expect.poll(async () => (await home()).body.includes('healthy'), { timeout: 120_000, interval: 500 }).toBe(true)
      .catch((err: Error) => {
        throw new Error(`${err.message}\nmetrics: ${sl.cli(['metrics', 'obs', '--since', '1h', '--json']).stdout}\n${sl.output().slice(-4000)}`);
      });
    expect(sl.json<{ liveDeploymentId: string }>(['projects', 'get', 'obs']).liveDeploymentId).toBe(good);

    const history = sl.json<StoredEvent[]>(['replay', 'events', '--from', startedAt, '--to', new Date(Date.now() + 60_000).toISOString()])
      .filter((e) => e.metadata.projectId === 'obs');
    const raised = history.find((e) => e.type === 'AlarmRaised')!;
    const requested = history.find((e) => e.type === 'RollbackRequested')!;
    const rolledBack = history.find((e) => e.type === 'RolledBack')!;
    expect(raised.data).toMatchObject({ deploymentId: bad, metric: '5xx-rate', rollback: true });
    expect(raised.metadata.actor).toEqual({ kind: 'service', id: 'observability' });
    expect(requested.metadata.causationId).toBe(raised.metadata.eventId);
    expect(rolledBack.metadata.causationId).toBe(requested.metadata.eventId);
    expect(rolledBack.data).toMatchObject({ fromDeploymentId: bad, toDeploymentId: good, requestedBy: { kind: 'service', id: 'observability' } });
    expect((rolledBack.data as { reason: string }).reason).toContain(`alarm error-rate (AlarmRaised ${raised.metadata.eventId})`);
    const order = history.map((e) => e.metadata.eventId);
    expect(order.indexOf(raised.metadata.eventId)).toBeLessThan(order.indexOf(requested.metadata.eventId));
    expect(order.indexOf(requested.metadata.eventId)).toBeLessThan(order.indexOf(rolledBack.metadata.eventId));

    // The broken deployment's runtime log has the error its page threw.
    await expect.poll(() => runtimeLogs(bad, '--level', 'error').some((r) => r.message.includes('fails on purpose')), { timeout: 30_000, interval: 500 }).toBe(true);
  }, 1_200_000);

  it('counts the broken deployment\'s requests and errors in `shiplog metrics`', () => {
    const rows = sl.json<Metrics[]>(['metrics', 'obs', '--since', '1h']);
    const broken = rows.find((r) => r.id === bad)!;
    const healthy = rows.find((r) => r.id === good)!;
    expect(broken.errors).toBeGreaterThanOrEqual(5);
    expect(broken.requests).toBeGreaterThan(broken.errors); // and its health check
    expect(broken).toMatchObject({ live: false, coldStarts: expect.any(Number) });
    expect(broken.p99Ms).toBeGreaterThanOrEqual(broken.p50Ms);
    expect(healthy).toMatchObject({ live: true, errors: 0 });
    expect(healthy.requests).toBeGreaterThanOrEqual(2);
  });
});
