import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../events/index.ts';
import { verifySignature } from '../../services/subscriptions/index.ts';
import { deploymentOfHead, gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// Observability on a real `shiplog dev`: one fixture app, built twice (healthy, then a commit
// that makes its pages throw). Runtime logs, metrics, and an alarm that rolls the bad one back.
const fixture = new URL('../fixtures/observability-app/', import.meta.url).pathname;
const marker = 'observability-marker: rendered the home page';

interface Runtime { requestId?: string; level: string; kind: string; message: string; path?: string; status?: number }
interface Metrics { id: string; live: boolean; requests: number; errors: number; p50Ms: number; p99Ms: number; coldStarts: number }
interface Received { path: string; headers: IncomingHttpHeaders; body: string }
interface Created { subscriptionId: string; signingSecret: string }

describe('observability: runtime logs, metrics, and an alarm that rolls back', () => {
  let sl: LocalShiplog;
  let work: string;
  let remote: string;
  let good: string;
  let bad: string;
  const startedAt = new Date().toISOString();
  const followers: ChildProcess[] = [];
  // A receiver for the project's subscriptions: a log drain of everything (/logs), one of errors
  // only (/errors), and the alarm events (/alarms).
  const received: Received[] = [];
  let receiver: Server;
  let receiverUrl = '';
  const subs: Record<'logs' | 'errors' | 'alarms', Created> = {} as never;
  const drained = (path: string): Runtime[] => received.filter((r) => r.path === path).flatMap((r) => JSON.parse(r.body) as Runtime[]);
  const signedBy = (path: string, secret: string) => received.filter((r) => r.path === path).every((r) => verifySignature(r.body, r.headers['x-shiplog-signature-256'] as string, secret));

  const pushAndWait = async (message: string) => {
    gitCommitAll(work, message);
    gitPush(work, remote);
    const id = await deploymentOfHead(sl, 'obs', work);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '480'], 500_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', id]).stdout}`).toBe(0);
    return id;
  };
  const runtimeLogs = (id: string, ...args: string[]): Runtime[] => {
    const r = sl.cli(['logs', id, '--runtime', '--json', ...args]);
    if (r.status !== 0) throw new Error(`logs --runtime failed: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Runtime);
  };
  const home = () => sl.site('obs.localhost', '/');

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    // Subscriptions refuse loopback targets unless allowed.
    sl = await startShiplog({ env: { SHIPLOG_WEBHOOK_ALLOW: '127.0.0.1' } });
    work = mkdtempSync(join(tmpdir(), 'shiplog-obs-app-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    remote = sl.json<{ gitRemote: string }>(['projects', 'create', 'obs']).gitRemote;
    // The broken version must still pass the health gate to go live: its API route keeps answering.
    const patched = await fetch(`http://127.0.0.1:${sl.port}/api/projects/obs`, {
      method: 'PATCH', headers: { authorization: `Bearer ${sl.adminToken()}`, 'content-type': 'application/json' }, body: JSON.stringify({ healthPath: '/api/health' }),
    });
    expect(patched.status).toBe(200);
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
    subs.logs = sl.json<Created>(['subscriptions', 'add', 'obs', `${receiverUrl}/logs`, '--runtime-logs']);
    subs.errors = sl.json<Created>(['subscriptions', 'add', 'obs', `${receiverUrl}/errors`, '--runtime-logs', '--level', 'error']);
    subs.alarms = sl.json<Created>(['subscriptions', 'create', 'obs', `${receiverUrl}/alarms`, '--pattern', '{"detail-type":["AlarmRaised","AlarmCleared"]}']);
  }, 120_000);

  afterAll(async () => {
    for (const f of followers) f.kill();
    await sl?.stop();
    await new Promise((r) => receiver?.close(r));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("has an app's console.log line in `shiplog logs --runtime` within seconds", async () => {
    good = await pushAndWait('healthy version');
    const page = await home();
    expect(page.status).toBe(200);
    expect(page.body).toContain('healthy');
    await expect.poll(() => runtimeLogs(good).find((r) => r.message.includes(marker)), { timeout: 10_000, interval: 250 })
      .toMatchObject({ level: 'info', kind: 'console', path: '/', status: 200, requestId: expect.any(String) });
    const logs = runtimeLogs(good);
    const line = logs.find((r) => r.message.includes(marker))!;
    expect(logs).toContainEqual(expect.objectContaining({ kind: 'request', requestId: line.requestId, status: 200, path: '/' }));
    expect(runtimeLogs(good, '--level', 'error').some((r) => r.message.includes(marker))).toBe(false);
    // Without --runtime, `logs` is the build log as before; runtime-only options say so.
    expect(sl.cli(['logs', good]).stdout).toMatch(/next build|Compiled|open-next/i);
    const mixed = sl.cli(['logs', good, '--level', 'error']);
    expect(mixed.status).not.toBe(0);
    expect(mixed.stderr).toContain('add --runtime');

    // The same line reached the log drain, in a signed batch, with the fields `logs --runtime --json` has.
    await expect.poll(() => drained('/logs').find((r) => r.message.includes(marker)), { timeout: 15_000, interval: 250 })
      .toMatchObject({ level: 'info', kind: 'console', path: '/', status: 200, requestId: line.requestId });
    expect(drained('/logs')).toContainEqual(expect.objectContaining({ kind: 'request', requestId: line.requestId, status: 200 }));
    expect(signedBy('/logs', subs.logs.signingSecret)).toBe(true);
    expect(received.find((r) => r.path === '/logs')!.headers).toMatchObject({ 'x-shiplog-event-type': 'RuntimeLogBatch', 'x-shiplog-subscription': subs.logs.subscriptionId });
    const listed = sl.json<{ subscriptionId: string; kind: string }[]>(['subscriptions', 'ls', 'obs']);
    expect(listed.map((s) => [s.subscriptionId, s.kind]).sort()).toEqual([
      [subs.logs.subscriptionId, 'runtime-logs'], [subs.errors.subscriptionId, 'runtime-logs'], [subs.alarms.subscriptionId, 'events'],
    ].sort());
  }, 600_000);

  it('refuses a bad alarm rule with a clear message, keeping the rule it had', () => {
    const set = sl.cli(['alarms', 'set', 'obs', '--max-error-rate', '0.5', '--window', '60', '--min-requests', '5', '--auto-rollback']);
    expect(set.status, set.stderr).toBe(0);
    const refused = sl.cli(['alarms', 'set', 'obs', '--max-error-rate', '2', '--window', '60', '--min-requests', '5']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('--max-error-rate must be a number from 0 to 1');
    expect(sl.json<{ rule: unknown; status: string }>(['alarms', 'get', 'obs'])).toMatchObject({
      status: 'ok', rule: { maxErrorRate: 0.5, windowSeconds: 60, minRequests: 5, autoRollback: true, watchSeconds: 600 },
    });
  });

  it('rolls back a deployment that throws on every request: AlarmRaised → RollbackRequested → RolledBack', async () => {
    // Follow the healthy deployment's runtime log from now on.
    const follower = spawn(process.execPath, ['cli/shiplog.mjs', 'logs', good, '--runtime', '--follow', '--json'], { env: sl.env, stdio: ['ignore', 'pipe', 'pipe'] });
    followers.push(follower);
    let followed = '';
    follower.stdout!.on('data', (c: Buffer) => (followed += c.toString()));

    writeFileSync(join(work, 'app', 'mode.js'), readFileSync(join(work, 'app', 'mode.js'), 'utf8').replace('BROKEN = false', 'BROKEN = true'));
    bad = await pushAndWait('broken version');
    const sent = 8;
    const statuses: number[] = [];
    for (let i = 0; i < sent; i++) statuses.push((await home()).status);
    expect(statuses[0]).toBe(500);

    // The alarm rolls production back to the healthy deployment.
    await expect.poll(async () => (await home()).body.includes('healthy'), { timeout: 60_000, interval: 250 }).toBe(true);
    expect(sl.json<{ liveDeploymentId: string }>(['projects', 'get', 'obs']).liveDeploymentId).toBe(good);

    const history = sl.json<StoredEvent[]>(['replay', 'events', '--from', startedAt, '--to', new Date(Date.now() + 60_000).toISOString()])
      .filter((e) => e.metadata.projectId === 'obs');
    const raised = history.find((e) => e.type === 'AlarmRaised')!;
    const requested = history.find((e) => e.type === 'RollbackRequested')!;
    const rolledBack = history.find((e) => e.type === 'RolledBack')!;
    expect(raised.data).toMatchObject({ deploymentId: bad, metric: '5xx-rate', rollback: true });
    expect(requested.metadata.causationId).toBe(raised.metadata.eventId);
    expect(rolledBack.metadata.causationId).toBe(requested.metadata.eventId);
    expect(rolledBack.data).toMatchObject({ fromDeploymentId: bad, toDeploymentId: good, requestedBy: { kind: 'service', id: 'observability' } });
    expect((rolledBack.data as { reason: string }).reason).toContain(`alarm error-rate (AlarmRaised ${raised.metadata.eventId})`);
    const order = history.map((e) => e.metadata.eventId);
    expect(order.indexOf(raised.metadata.eventId)).toBeLessThan(order.indexOf(requested.metadata.eventId));
    expect(order.indexOf(requested.metadata.eventId)).toBeLessThan(order.indexOf(rolledBack.metadata.eventId));

    // The runtime log of the broken deployment has its errors; the followed log the healthy one's new request.
    const errors = runtimeLogs(bad, '--level', 'error');
    expect(errors.filter((r) => r.kind === 'request' && r.status === 500).length).toBeGreaterThanOrEqual(statuses.filter((s) => s === 500).length);
    expect(errors.some((r) => r.message.includes('fails on purpose'))).toBe(true);
    await expect.poll(() => followed.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Runtime).some((r) => r.message.includes(marker) && r.status === 200), { timeout: 10_000, interval: 250 })
      .toBe(true);

    // The error-only drain has the thrown error and the 500s, and none of the info lines.
    await expect.poll(() => drained('/errors').some((r) => r.message.includes('fails on purpose')), { timeout: 15_000, interval: 250 }).toBe(true);
    expect(drained('/errors').some((r) => r.kind === 'request' && r.status === 500)).toBe(true);
    expect(drained('/errors').every((r) => r.level === 'error')).toBe(true);
    expect(signedBy('/errors', subs.errors.signingSecret)).toBe(true);
    // The alarm reached its event subscription, signed, through the bus.
    await expect.poll(() => received.filter((r) => r.path === '/alarms').map((r) => r.headers['x-shiplog-event-id']), { timeout: 15_000, interval: 250 })
      .toContain(raised.metadata.eventId);
    const alarm = received.find((r) => r.path === '/alarms' && r.headers['x-shiplog-event-id'] === raised.metadata.eventId)!;
    expect(JSON.parse(alarm.body)).toMatchObject({ 'detail-type': 'AlarmRaised', source: 'shiplog.observability', detail: { data: { deploymentId: bad, metric: '5xx-rate' } } });
    expect(signedBy('/alarms', subs.alarms.signingSecret)).toBe(true);
    expect(received.filter((r) => r.path === '/alarms').every((r) => ['AlarmRaised', 'AlarmCleared'].includes(r.headers['x-shiplog-event-type'] as string))).toBe(true);
  }, 900_000);

  it('counts requests and errors per deployment in `shiplog metrics`', () => {
    const rows = sl.json<Metrics[]>(['metrics', 'obs', '--since', '1h']);
    const broken = rows.find((r) => r.id === bad)!;
    const healthy = rows.find((r) => r.id === good)!;
    expect(broken.errors).toBeGreaterThanOrEqual(5);
    expect(broken.requests).toBeGreaterThan(broken.errors); // and its health check
    expect(broken).toMatchObject({ live: false, coldStarts: expect.any(Number), p50Ms: expect.any(Number), p99Ms: expect.any(Number) });
    expect(broken.p99Ms).toBeGreaterThanOrEqual(broken.p50Ms);
    expect(healthy).toMatchObject({ live: true, errors: 0 });
    expect(healthy.coldStarts).toBeGreaterThanOrEqual(1);
    const costs = sl.json<{ total: number; deployments: { id: string; usage: { invocations: number } }[] }>(['costs', 'obs']);
    expect(costs.total).toBeGreaterThan(0);
    expect(costs.deployments.find((d) => d.id === bad)?.usage.invocations).toBe(broken.requests);
  });
});
