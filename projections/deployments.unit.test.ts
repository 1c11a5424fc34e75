import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../events/index.ts';
import { deploymentKeys, deploymentsProjection, type BuildLogView } from './deployments.ts';
import { foldEvents, memoryFold } from './fold.ts';
import { fromStored } from './incoming.ts';
import { rolledBackAgainAndAgain, scenario, ship } from '../test/support/scenario-events.ts';
import { keyString } from './types.ts';
import { ALARMS_KEPT, TIMELINE_FIRST, TIMELINE_LAST, type DeploymentView } from './views/deployment.ts';
import { withCausation } from './views/timeline.ts';

const view = (events: Parameters<typeof foldEvents>[1], d: string) =>
  foldEvents<DeploymentView>(deploymentsProjection, events).docs.get(keyString(deploymentKeys.deployment(d)))?.state;

describe('deployments projection', () => {
  it('given a push that builds and goes live, the deployment is ready with its commit, durations and versions', () => {
    const s = scenario();
    s.created();
    s.requested('d1', { env: [{ name: 'API_KEY', target: 'production', version: 2 }], commitAt: '2026-11-22T09:00:00.000Z' });
    s.queued('d1'); s.started('d1'); s.succeeded('d1'); s.assets('d1'); s.published('d1'); s.live('d1');
    const v = view(s.events, 'd1')!;
    expect(v).toMatchObject({
      deploymentId: 'd1', projectId: 'web', status: 'ready', target: 'production', alias: 'production', branch: 'main', trigger: 'push',
      commit: { sha: expect.stringMatching(/^a+1$/), message: 'Commit 1\n\nbody', author: { name: 'Ada Lovelace' } },
      env: [{ name: 'API_KEY', target: 'production', version: 2 }],
      versions: { next: '15.1.0', opennext: '3.4.0', node: '20.19.0' },
      durations: { queuedMs: 1000, buildMs: 60_000, deployMs: 4000 },
      functions: [{ role: 'server', version: '7' }],
      error: null,
    });
    expect(v.durations.totalMs).toBeGreaterThan(0);
    expect(v.timeline.map((t) => t.type)).toEqual([
      'DeploymentRequested', 'BuildQueued', 'BuildStarted', 'BuildSucceeded', 'AssetsUploaded', 'FunctionVersionPublished', 'AliasShifted', 'DeploymentLive',
    ]);
    expect(v.timeline[1]).toMatchObject({ source: 'shiplog.build', streamId: 'build#d1', version: 1, summary: 'build d1-b1 queued' });
  });

  it('moves through queued, building and deploying as the events come', () => {
    const s = scenario();
    s.requested('d1');
    expect(view(s.events, 'd1')?.status).toBe('queued');
    s.queued('d1'); s.started('d1');
    expect(view(s.events, 'd1')?.status).toBe('building');
    s.succeeded('d1');
    expect(view(s.events, 'd1')?.status).toBe('deploying');
  });

  it('given a failed build, it is an error with the log tail; a retried build that succeeds makes it ready', () => {
    const s = scenario();
    s.requested('d1'); s.queued('d1'); s.started('d1'); s.failed('d1', 'd1-b1', 'infrastructure');
    expect(view(s.events, 'd1')).toMatchObject({ status: 'error', error: { stage: 'build', reason: 'infrastructure', logTail: ['Type error: x'] } });
    s.queued('d1', 'd1-b2'); s.started('d1', 'd1-b2'); s.succeeded('d1', 'd1-b2'); s.assets('d1'); s.published('d1'); s.live('d1');
    const v = view(s.events, 'd1')!;
    expect(v.status).toBe('ready');
    expect(v.error).toBeNull();
    expect(v.builds.map((b) => [b.buildId, b.status])).toEqual([['d1-b1', 'failed'], ['d1-b2', 'succeeded']]);
  });

  it('tells superseded, timed-out, stale and failed-to-publish deployments apart', () => {
    const s = scenario();
    s.requested('d1'); s.queued('d1'); s.started('d1'); s.canceled('d1', 'd2');
    s.requested('d2'); s.queued('d2'); s.started('d2'); s.timedOut('d2');
    s.requested('d3'); s.queued('d3'); s.started('d3'); s.succeeded('d3'); s.assets('d3'); s.published('d3'); s.rejected('d3', 'stale');
    s.requested('d4'); s.queued('d4'); s.started('d4'); s.succeeded('d4'); s.assets('d4'); s.deployFailed('d4', 'publish');
    expect(view(s.events, 'd1')?.status).toBe('canceled');
    expect(view(s.events, 'd2')).toMatchObject({ status: 'error', error: { stage: 'build', message: 'build timed out' } });
    expect(view(s.events, 'd3')).toMatchObject({ status: 'rejected', rejection: { reason: 'stale' } });
    expect(view(s.events, 'd4')).toMatchObject({ status: 'error', error: { stage: 'publish', message: 'publish failed' } });
  });

  it('does not count a refused promotion (not-ready) against the deployment', () => {
    const s = scenario();
    s.requested('d1'); s.queued('d1'); s.started('d1'); s.rejected('d1', 'not-ready');
    expect(view(s.events, 'd1')).toMatchObject({ status: 'building', rejection: null });
    expect(view(s.events, 'd1')?.timeline.at(-1)?.type).toBe('DeploymentRejected');
  });

  it('keeps the causation chain: which event caused which', () => {
    const s = scenario();
    const requested = s.requested('d1');
    const queued = s.queued('d1');
    s.started('d1');
    const chain = withCausation(view(s.events, 'd1')!.timeline);
    expect(chain[1]).toMatchObject({ eventId: queued.metadata.eventId, causedBy: { eventId: requested.metadata.eventId, type: 'DeploymentRequested' }, depth: 1 });
    expect(chain[0]!.caused).toEqual([queued.metadata.eventId]);
    expect(chain[2]!.depth).toBe(2);
  });

  it('a rollback to a deployment appears in its timeline (the event belongs to the deployment rolled back to)', () => {
    const s = scenario();
    for (const d of ['d1', 'd2']) ship(s, d);
    s.rollbackRequested('d1');
    s.rolledBack('d1');
    expect(view(s.events, 'd1')?.timeline.slice(-2).map((t) => t.type)).toEqual(['AliasShifted', 'RolledBack']);
    expect(view(s.events, 'd2')?.timeline.map((t) => t.type)).not.toContain('RolledBack');
  });

  it('keeps the first and the last events of a deployment rolled back to again and again, counting those between, whatever order its streams come in', () => {
    const s = rolledBackAgainAndAgain(300);
    const ofD1 = s.events.filter((e) => e.metadata.deploymentId === 'd1').map((e) => e.metadata.eventId);
    expect(ofD1.length).toBeGreaterThan(TIMELINE_FIRST + TIMELINE_LAST + 400);
    const v = view(s.events, 'd1')!;
    expect(v.timeline.map((t) => t.eventId)).toEqual([...ofD1.slice(0, TIMELINE_FIRST), ...ofD1.slice(-TIMELINE_LAST)]);
    expect(v.timelineOmitted).toBe(ofD1.length - TIMELINE_FIRST - TIMELINE_LAST);
    expect(v.status).toBe('ready');
    // Every rollback to it wrote the whole document: it stays far under DynamoDB's 400 KB item limit.
    expect(JSON.stringify(v).length).toBeLessThan(100_000);
    // Each stream in its order, the streams in another: the same document.
    const release = s.events.filter((e) => e.metadata.streamId.startsWith('release#'));
    const rest = s.events.filter((e) => !e.metadata.streamId.startsWith('release#'));
    expect(view([...release, ...rest], 'd1')).toEqual(v);
    expect(view([...rest, ...release], 'd1')).toEqual(v);
    // A deployment with fewer events leaves none out, and says nothing of it.
    expect('timelineOmitted' in view(s.events.slice(0, 20), 'd1')!).toBe(false);
  });

  it('keeps the last alarms raised on a deployment whose alarms flap, counting the older ones, whatever order their streams come in', () => {
    const s = scenario();
    ship(s, 'd1');
    const raised: StoredEvent[] = [];
    for (let i = 0; i < 120; i++) {
      for (const alarmId of ['a1', 'a2']) {
        raised.push(s.alarm('d1', alarmId));
        s.cleared('d1', raised.at(-1)!, alarmId);
      }
    }
    const v = view(s.events, 'd1')!;
    const kept = raised.slice(-ALARMS_KEPT).map((e) => (e.data as { since: string; alarmId: string }));
    expect(v.alarms.map((a) => [a.alarmId, a.raisedAt])).toEqual(kept.map((a) => [a.alarmId, a.since]));
    expect(v.alarms.every((a) => a.clearedAt !== null)).toBe(true);
    expect(v.alarmsOmitted).toBe(raised.length - ALARMS_KEPT);
    // One alarm's stream before the other's, and after it: the same document.
    const ofA1 = s.events.filter((e) => e.metadata.streamId.endsWith('a1'));
    const rest = s.events.filter((e) => !e.metadata.streamId.endsWith('a1'));
    expect(ofA1.length).toBe(240);
    expect(view([...ofA1, ...rest], 'd1')).toEqual(v);
    expect(view([...rest, ...ofA1], 'd1')).toEqual(v);
    expect('alarmsOmitted' in view(s.events.slice(0, 20), 'd1')!).toBe(false);
  });

  it('indexes each build attempt with where its log is', () => {
    const s = scenario();
    s.requested('d1'); s.queued('d1'); s.started('d1'); s.failed('d1');
    const docs = foldEvents<BuildLogView>(deploymentsProjection, s.events).docs;
    const build = docs.get(keyString(deploymentKeys.build('d1', 'd1-b1')))!.state;
    expect(build).toMatchObject({ projectId: 'web', deploymentId: 'd1', buildId: 'd1-b1', status: 'failed', logUri: 'file:///logs/d1-b1.log', failure: { exitCode: 1 } });
    expect(deploymentsProjection.listEntryOf!(build, deploymentKeys.build('d1', 'd1-b1'))).toMatchObject({ lpk: 'builds#web' });
  });

  it('lists a deployment under its project by request time, with a summary', () => {
    const s = scenario();
    s.requested('d1'); s.queued('d1');
    const v = view(s.events, 'd1')!;
    const entry = deploymentsProjection.listEntryOf!(v, deploymentKeys.deployment('d1'))!;
    expect(entry).toMatchObject({ lpk: 'deployments#web', lsk: `${v.requestedAt}#d1`, item: { deploymentId: 'd1', status: 'queued', commit: { message: 'Commit 1' } } });
    expect(entry.item).not.toHaveProperty('timeline');
  });

  it('given the same event delivered twice, the view is the same as delivered once', () => {
    const s = scenario();
    s.requested('d1'); s.queued('d1'); s.started('d1');
    const once = memoryFold(deploymentsProjection);
    const twice = memoryFold(deploymentsProjection);
    for (const e of s.events) once.apply(fromStored(e));
    for (const e of s.events) {
      twice.apply(fromStored(e));
      expect(twice.apply(fromStored(e))).toBe(false);
    }
    expect([...twice.docs]).toEqual([...once.docs]);
    // evolve alone is idempotent by event id too.
    const v = view(s.events, 'd1')!;
    expect(deploymentsProjection.evolve(v, fromStored(s.events[1]!).event!, deploymentKeys.deployment('d1'))).toBe(v);
  });
});
