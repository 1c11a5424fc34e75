import { describe, expect, it } from 'vitest';
import type { EventData } from '../../events/catalog.ts';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { decide, evolve, healthVerdict, initialState, releaseDecider, type DeployCommand, type HealthReport, type ReleaseEvent } from './decider.ts';

const given = deciderSpec(releaseDecider);
const user = { kind: 'user' as const, id: 'admin' };
const at = (min: number) => `2026-11-22T10:${String(min).padStart(2, '0')}:00.000Z`;
const build = (id: string, min: number): EventData<'BuildSucceeded'> => ({
  projectId: 'web', deploymentId: id, buildId: `b-${id}`, target: 'production', alias: 'production', sha: String(min).repeat(40).slice(0, 40),
  requestedAt: at(min), artifact: { uri: `file:///a/${id}`, sha256: 'f'.repeat(64), sizeBytes: 10 },
  durations: { queuedMs: 1, buildMs: 2, totalMs: 3 }, versions: { next: '16.4.5', opennext: '4.1.12', node: '20' },
});
const publish = (id: string, min: number): DeployCommand => ({
  type: 'Publish', build: build(id, min), assets: { uri: `file:///s/${id}`, fileCount: 3, totalBytes: 9, durationMs: 1 },
  fn: { functionName: 'web-server', version: id, codeSha256: 'x' },
});
const ok = (id: string): HealthReport => ({ deploymentId: id, path: '/', timeoutMs: 30_000, observation: { kind: 'response', status: 200, bodyStart: '<html>' } });
const crashed = (id: string): HealthReport => ({
  deploymentId: id, path: '/healthz', timeoutMs: 30_000,
  observation: { kind: 'response', status: 502, bodyStart: '<!doctype html><h1>502: Function failed</h1>' },
});
const silent = (id: string): HealthReport => ({ deploymentId: id, path: '/', timeoutMs: 5000, observation: { kind: 'no-response', error: 'no response within 5000 ms' } });
const goLive = (id: string, health?: HealthReport): DeployCommand => ({
  type: 'GoLive', deploymentId: id, url: `http://${id}-web.localhost:3001`, aliasUrls: ['http://web.localhost:3001'], now: at(30), ...(health ? { health } : {}),
});
const run = (cmds: DeployCommand[]) => cmds.reduce<ReleaseEvent[]>((h, c) => [...h, ...decide(c, h.reduce(evolve, initialState()))], []);

describe('health gate', () => {
  it('calls anything but a 5xx healthy; a 5xx or no answer is not, with the response in the message', () => {
    expect(healthVerdict(ok('d1'))).toEqual({ healthy: true });
    expect(healthVerdict({ ...ok('d1'), observation: { kind: 'response', status: 404, bodyStart: 'nope' } })).toEqual({ healthy: true });
    expect(healthVerdict({ ...ok('d1'), observation: { kind: 'response', status: 307, bodyStart: '' } })).toEqual({ healthy: true });
    expect(healthVerdict(crashed('d1'))).toEqual({ healthy: false, message: 'GET /healthz answered 502 (first bytes: "<!doctype html><h1>502: Function failed</h1>")' });
    expect(healthVerdict(silent('d1'))).toEqual({ healthy: false, message: 'GET / got no answer within 5000 ms: no response within 5000 ms' });
  });

  it('moves the alias to a healthy deployment', () =>
    given(run([publish('d1', 1)])).when(goLive('d1', ok('d1'))).thenTypes(['AliasShifted', 'DeploymentLive']));

  it('fails an unhealthy deployment at the gate and leaves production where it was', () => {
    const history = run([publish('d1', 1), goLive('d1', ok('d1')), publish('d2', 2)]);
    const events = given(history).when(goLive('d2', crashed('d2'))).then((e) => {
      expect(e).toEqual([{
        type: 'DeploymentFailed',
        data: { projectId: 'web', deploymentId: 'd2', stage: 'health', message: 'health check failed, production not moved: GET /healthz answered 502 (first bytes: "<!doctype html><h1>502: Function failed</h1>")' },
      }]);
    });
    const after = [...history, ...events].reduce(evolve, initialState());
    expect(after.live).toBe('d1');
    expect(after.deployments.d2!.status).toBe('failed');
    // A retried delivery of the same build decides nothing more.
    given([...history, ...events]).when(goLive('d2', ok('d2'))).thenNothing();
  });

  it('still rejects a stale deployment as stale, whatever its health', () =>
    given(run([publish('new', 5), goLive('new'), publish('old', 2)])).when(goLive('old', silent('old'))).then((e) =>
      expect(e[0]).toMatchObject({ type: 'DeploymentRejected', data: { reason: 'stale' } })));

  it('refuses to roll back to an unhealthy deployment, and to a target that changed while it was checked', () => {
    const history = run([publish('d1', 1), goLive('d1'), publish('d2', 2), goLive('d2')]);
    const rollback = (health: HealthReport): DeployCommand => ({ type: 'Rollback', projectId: 'web', alias: 'production', requestedBy: user, reason: 'errors', health });
    given(history).when(rollback(silent('d1'))).then((e) => {
      expect(e).toHaveLength(1);
      expect(e[0]).toMatchObject({ type: 'RollbackRejected', data: { reason: 'd1 failed its health check: GET / got no answer within 5000 ms: no response within 5000 ms' } });
    });
    given(history).when(rollback(ok('d0'))).then((e) => expect(e[0]).toMatchObject({ type: 'RollbackRejected' }));
    given(history).when(rollback(ok('d1'))).thenTypes(['AliasShifted', 'RolledBack']);
  });

  it('refuses to promote an unhealthy deployment (not counted against it), and promotes a healthy one', () => {
    const history = run([publish('d1', 1), goLive('d1'), publish('d2', 2)]);
    const promote = (health: HealthReport): DeployCommand => ({ type: 'Promote', projectId: 'web', alias: 'production', deploymentId: 'd2', requestedBy: user, health });
    given(history).when(promote(crashed('d2'))).then((e) => {
      expect(e).toHaveLength(1);
      expect(e[0]).toMatchObject({ type: 'DeploymentRejected', data: { deploymentId: 'd2', reason: 'unhealthy', liveDeploymentId: 'd1' } });
      expect((e[0]!.data as { detail: string }).detail).toContain('GET /healthz answered 502');
    });
    given(history).when(promote(ok('d2'))).thenTypes(['AliasShifted', 'Promoted']);
  });
});
