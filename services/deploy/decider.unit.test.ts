import { describe, expect, it } from 'vitest';
import type { EventData } from '../../events/catalog.ts';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { decide, evolve, initialState, isAnswered, releaseDecider, type DeployCommand, type ReleaseEvent } from './decider.ts';

const given = deciderSpec(releaseDecider);
const user = { kind: 'user' as const, id: 'admin' };
const sha = (n: number) => String(n).repeat(40).slice(0, 40);
const at = (min: number) => `2026-11-22T10:${String(min).padStart(2, '0')}:00.000Z`;

const build = (id: string, requestedMin: number): EventData<'BuildSucceeded'> => ({
  projectId: 'web', deploymentId: id, buildId: `b-${id}`, target: 'production', alias: 'production', sha: sha(requestedMin % 10),
  requestedAt: at(requestedMin), artifact: { uri: `file:///a/${id}`, sha256: 'f'.repeat(64), sizeBytes: 10 },
  durations: { queuedMs: 1, buildMs: 2, totalMs: 3 }, versions: { next: '16.4.5', opennext: '4.1.12', node: '20' },
});
const publish = (id: string, min: number): DeployCommand => ({
  type: 'Publish', build: build(id, min), assets: { uri: `file:///s/${id}`, fileCount: 3, totalBytes: 9, durationMs: 1 },
  fn: { functionName: 'web-server', version: id, codeSha256: 'x' },
});
const goLive = (id: string): Extract<DeployCommand, { type: 'GoLive' }> => ({ type: 'GoLive', deploymentId: id, url: `http://${id}-web.localhost:3001`, aliasUrls: ['http://web.localhost:3001'], now: at(30) });
// History helpers: run commands through the decider to get real events.
const run = (cmds: DeployCommand[]) =>
  cmds.reduce<ReleaseEvent[]>((h, c) => [...h, ...decide(c, h.reduce(evolve, initialState()))], []);

describe('release decider', () => {
  // Events as the stream stores them: with their cause, the request they answer.
  const stored = (events: ReleaseEvent[], causationId: string) => events.map((e) => ({ ...e, metadata: { causationId } }) as unknown as ReleaseEvent);
  it('publishes a build once', () => {
    given([]).when(publish('d1', 1)).thenTypes(['AssetsUploaded', 'FunctionVersionPublished']);
    given(run([publish('d1', 1)])).when(publish('d1', 1)).thenNothing();
  });

  it('makes the first published deployment live, from nothing', () =>
    given(run([publish('d1', 1)])).when(goLive('d1')).then((events) => {
      expect(events.map((e) => e.type)).toEqual(['AliasShifted', 'DeploymentLive']);
      expect(events[0]!.data).toMatchObject({ fromDeploymentId: null, toDeploymentId: 'd1', reason: 'deploy' });
      expect(events[1]!.data).toMatchObject({ deploymentId: 'd1', previousDeploymentId: null, totalMs: 29 * 60_000 });
    }));

  it("goes live on the build's alias: a preview branch's first deployment moves its own alias, never production", () =>
    given(run([publish('p1', 1)])).when({ ...goLive('p1'), alias: 'preview-login', aliasUrls: ['http://login--web.localhost:3001'] }).then((events) => {
      expect(events[0]!.data).toMatchObject({ alias: 'preview-login', toDeploymentId: 'p1' });
      expect(events[1]!.data).toMatchObject({ alias: 'preview-login', target: 'preview', aliasUrls: ['http://login--web.localhost:3001'] });
    }));

  it('never lets an older commit that finishes last become live', () =>
    given(run([publish('new', 5), goLive('new'), publish('old', 2)])).when(goLive('old')).then((events) => {
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'DeploymentRejected', data: { reason: 'stale', liveDeploymentId: 'new' } });
    }));

  it('ignores a duplicate go-live and an unpublished one', () => {
    given(run([publish('d1', 1), goLive('d1')])).when(goLive('d1')).thenNothing();
    given([]).when(goLive('d1')).thenNothing();
  });

  it('rolls back to the previous live deployment without a rebuild, and pins the alias', () => {
    const history = run([publish('d1', 1), goLive('d1'), publish('d2', 2), goLive('d2')]);
    const rollback: DeployCommand = { type: 'Rollback', projectId: 'web', alias: 'production', requestedBy: user, reason: 'errors' };
    given(history).when(rollback).then((events) => {
      expect(events.map((e) => e.type)).toEqual(['AliasShifted', 'RolledBack']);
      expect(events[1]!.data).toMatchObject({ fromDeploymentId: 'd2', toDeploymentId: 'd1', requestedBy: user, reason: 'errors' });
    });
    // After the rollback a newer deploy waits for a promote.
    const pinned = run([publish('d1', 1), goLive('d1'), publish('d2', 2), goLive('d2'), rollback, publish('d3', 3)]);
    given(pinned).when(goLive('d3')).then((e) => expect(e[0]).toMatchObject({ type: 'DeploymentRejected', data: { reason: 'pinned-by-rollback' } }));
    given(pinned).when({ type: 'Promote', projectId: 'web', alias: 'production', deploymentId: 'd3', requestedBy: user }).thenTypes(['AliasShifted', 'Promoted']);
  });

  it('rolls back to a named deployment, and refuses impossible rollbacks with a reason', () => {
    const history = run([publish('d1', 1), goLive('d1'), publish('d2', 2), goLive('d2'), publish('d3', 3), goLive('d3')]);
    given(history).when({ type: 'Rollback', projectId: 'web', alias: 'production', to: 'd1', requestedBy: user, reason: 'r' })
      .then((e) => expect(e[1]!.data).toMatchObject({ toDeploymentId: 'd1' }));
    given(history).when({ type: 'Rollback', projectId: 'web', alias: 'production', to: 'nope', requestedBy: user, reason: 'r' })
      .then((e) => expect(e[0]).toMatchObject({ type: 'RollbackRejected' }));
    given(run([publish('d1', 1), goLive('d1')])).when({ type: 'Rollback', projectId: 'web', alias: 'production', requestedBy: user, reason: 'r' })
      .then((e) => expect(e[0]).toMatchObject({ type: 'RollbackRejected', data: { reason: 'there is no earlier deployment to roll back to' } }));
    given([]).when({ type: 'Rollback', projectId: 'web', alias: 'production', requestedBy: user, reason: 'r' }).thenTypes(['RollbackRejected']);
  });

  it('answers a request the stream has answered already (its answer stored, caused by it) with nothing', () => {
    const history = run([publish('d1', 1), goLive('d1'), publish('d2', 2), goLive('d2')]);
    const rollback: DeployCommand = { type: 'Rollback', projectId: 'web', alias: 'production', requestedBy: user, reason: 'errors', requestId: 'r1' };
    const answered = [...history, ...stored(decide(rollback, history.reduce(evolve, initialState())), 'r1')];
    given(answered).when(rollback).thenNothing();
    // Another request is decided as usual: a second rollback, to d2 now.
    given(answered).when({ ...rollback, requestId: 'r2' }).then((e) => expect(e[1]!.data).toMatchObject({ toDeploymentId: 'd2' }));
    // A refusal is an answer too; a promote's as well.
    const refused = [...history, ...stored(decide({ ...rollback, to: 'd2', requestId: 'r3' }, history.reduce(evolve, initialState())), 'r3')];
    given(refused).when({ ...rollback, to: 'd2', requestId: 'r3' }).thenNothing();
    // A promote delivered again after a later rollback does not undo that rollback.
    const promote: DeployCommand = { type: 'Promote', projectId: 'web', alias: 'production', deploymentId: 'd2', requestedBy: user, requestId: 'p1' };
    const promoted = [...answered, ...stored(decide(promote, answered.reduce(evolve, initialState())), 'p1')];
    const rolledBackAgain = [...promoted, ...stored(decide({ ...rollback, requestId: 'r4' }, promoted.reduce(evolve, initialState())), 'r4')];
    expect(rolledBackAgain.map((e) => e.type).slice(-4)).toEqual(['AliasShifted', 'Promoted', 'AliasShifted', 'RolledBack']);
    given(rolledBackAgain).when(promote).thenNothing();
    given(rolledBackAgain).when({ ...promote, requestId: 'p2' }).thenTypes(['AliasShifted', 'Promoted']);
  });

  it('answers a request with nothing however many answers the stream has stored since its own', () => {
    let history = run([publish('d1', 1), goLive('d1'), publish('d2', 2), goLive('d2')]);
    const answer = (cmd: DeployCommand, id: string) => {
      history = [...history, ...stored(decide(cmd, history.reduce(evolve, initialState())), id)];
    };
    const rollback: DeployCommand = { type: 'Rollback', projectId: 'web', alias: 'production', requestedBy: user, reason: 'errors', requestId: 'r0' };
    answer(rollback, 'r0');
    // 120 answers after it: promotes of d2 and rollbacks to d1, in turn.
    for (let i = 1; i <= 60; i++) {
      answer({ type: 'Promote', projectId: 'web', alias: 'production', deploymentId: 'd2', requestedBy: user, requestId: `p${i}` }, `p${i}`);
      answer({ ...rollback, requestId: `r${i}` }, `r${i}`);
    }
    expect(history.filter((e) => e.type === 'RolledBack' || e.type === 'Promoted')).toHaveLength(121);
    const state = history.reduce(evolve, initialState());
    expect(state.live).toBe('d1');
    expect(isAnswered(state, 'r0')).toBe(true);
    expect(isAnswered(state, 'p1')).toBe(true);
    expect(isAnswered(state, 'r999')).toBe(false);
    // d1 is live: the first rollback, delivered again now, would otherwise be decided again (a
    // rollback from d1), and the first promote would move production back to d2.
    given(history).when(rollback).thenNothing();
    given(history).when({ type: 'Promote', projectId: 'web', alias: 'production', deploymentId: 'd2', requestedBy: user, requestId: 'p1' }).thenNothing();
    given(history).when({ type: 'Promote', projectId: 'web', alias: 'production', deploymentId: 'd2', requestedBy: user, requestId: 'p61' }).thenTypes(['AliasShifted', 'Promoted']);
  });

  it('promotes only a published deployment', () => {
    given([]).when({ type: 'Promote', projectId: 'web', alias: 'production', deploymentId: 'x', requestedBy: user })
      .then((e) => expect(e[0]).toMatchObject({ type: 'DeploymentRejected', data: { reason: 'not-ready' } }));
  });

  it('records a failure once, and never for a deployment that went live', () => {
    const fail: DeployCommand = { type: 'Fail', projectId: 'web', deploymentId: 'd1', stage: 'build', message: 'compile error' };
    given([]).when(fail).thenTypes(['DeploymentFailed']);
    given(run([fail])).when(fail).thenNothing();
    given(run([publish('d1', 1), goLive('d1')])).when(fail).thenNothing();
  });
});
