import { beforeAll, describe, expect, it, vi } from 'vitest';
import { catalog, eventTypes, streams, toEventBridgeEvent, type EventType, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { newId } from '../../test/support/events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { appendAsStored, scenario } from '../../test/support/scenario-events.ts';
import type { HealthCheckInput, HealthObservation, HealthProbe, SiteHost } from './ports.ts';
import { fold } from '../shell/index.ts';
import { releaseDecider } from './decider.ts';
import { deployService, keyedLock } from './service.ts';

// DeployOnReleaseRequest on DynamoDB Local: the health gate of rollbacks and promotes, with a site
// host that keeps its aliases in memory and a probe port that answers per deployment.

let store: EventStore;

// Appends events the scenario made, at the versions they carry, as the services stored them.
const put = (events: readonly StoredEvent[]) => appendAsStored(store, events);

const setup = async (
  projectId: string, answers: Record<string, HealthObservation>,
  opts: { soleAliasWriter?: boolean; duringProbe?: (deploymentId: string) => Promise<void>; failShifts?: number; now?: () => string } = {},
) => {
  const { duringProbe, failShifts = 0, ...serviceOpts } = opts;
  let shiftFailures = failShifts;
  const s = scenario(projectId);
  // Deployment ids are global (their streams are): fresh ones per project, named d1 and d2 here.
  const id = { d1: newId(), d2: newId() };
  const named = new Map(Object.entries(id).map(([k, v]) => [v, k]));
  s.created();
  for (const d of [id.d1, id.d2]) {
    s.requested(d); s.queued(d); s.succeeded(d); s.assets(d); s.published(d); s.live(d);
  }
  // every event the scenario made (`live` makes two)
  await put(s.events);
  const aliases = new Map<string, string>([['production', id.d2]]);
  const shifts: string[] = [];
  const host: SiteHost = {
    publish: async () => ({ assets: 0, functionVersion: '1' }),
    shiftAlias: async ({ alias, deploymentId }) => {
      if (shiftFailures-- > 0) throw new Error('the alias store is down');
      aliases.set(alias, deploymentId);
      shifts.push(named.get(deploymentId)!);
    },
    aliasTarget: async (_p, alias) => aliases.get(alias),
    urls: () => ({ deployment: '', production: '' }),
  };
  const checks: HealthCheckInput[] = [];
  const probe: HealthProbe = {
    check: async (input) => {
      checks.push({ ...input, deploymentId: named.get(input.deploymentId)! });
      await duringProbe?.(named.get(input.deploymentId)!);
      return answers[named.get(input.deploymentId)!] ?? { kind: 'no-response', error: 'unknown deployment' };
    },
  };
  // Reads of the release stream the service makes (its kept state reads only the tail), as they complete.
  const releaseReads: number[] = [];
  const counted: EventStore = {
    ...store,
    readStream: async (streamId, o) => {
      const read = await store.readStream(streamId, o);
      if (streamId === streams.release(projectId, 'production')) releaseReads.push(o?.fromVersion ?? 1);
      return read;
    },
  };
  const deploy = deployService({ store: counted, host, probe, ids: newId, withLock: keyedLock(), ...serviceOpts, now: serviceOpts.now ?? (() => new Date().toISOString()) });
  const deliver = (e: StoredEvent) => deploy.onReleaseRequest(toEventBridgeEvent(e, catalog[e.type as EventType].source));
  // The request as the API stores it (a project event), then delivered to the handler.
  const request = async (e: StoredEvent) => {
    await put([e]);
    const { streamId } = e.metadata;
    await deliver((await store.readStream(streamId)).at(-1)!);
  };
  // The bus delivering the last request again (a retry after the handler failed).
  const redeliver = async (e: StoredEvent) => deliver((await store.readStream(e.metadata.streamId)).at(-1)!);
  const release = async () => (await store.readStream(streams.release(projectId, 'production'))).slice(8).map((e) => e.type);
  return { s, id, aliases, shifts, checks, request, redeliver, release, releaseReads, deploy };
};

const ok: HealthObservation = { kind: 'response', status: 200, bodyStart: 'ok' };
const failing: HealthObservation = { kind: 'response', status: 500, bodyStart: 'Internal Server Error' };

beforeAll(async () => {
  const client = testDynamoClient();
  const tableName = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, tableName);
  store = dynamoEventStore({ client, tableName, types: eventTypes });
});

describe('DeployOnReleaseRequest', () => {
  it('rolls back to a named healthy target after probing it at its health path; a promote probes its deployment too', async () => {
    const t = await setup('rb-named', { d1: ok, d2: ok });
    await t.request(t.s.rollbackRequested(t.id.d1));
    expect(t.checks).toEqual([{ projectId: 'rb-named', deploymentId: 'd1', path: '/', timeoutMs: 30_000 }]);
    expect(t.shifts).toEqual(['d1']);
    expect(await t.release()).toEqual(['AliasShifted', 'RolledBack']);
    await t.request(t.s.promoteRequested(t.id.d2));
    expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1', 'd2']);
    expect(t.shifts).toEqual(['d1', 'd2']);
    expect(await t.release()).toEqual(['AliasShifted', 'RolledBack', 'AliasShifted', 'Promoted']);
  });

  it('refuses a named target that fails its probe and leaves production where it was', async () => {
    const t = await setup('rb-sick', { d1: failing });
    await t.request(t.s.rollbackRequested(t.id.d1));
    expect(t.shifts).toEqual([]);
    expect(t.aliases.get('production')).toBe(t.id.d2);
    expect(await t.release()).toEqual(['RollbackRejected']);
  });

  it('probes the target it derives when the request names none', async () => {
    const t = await setup('rb-derived', { d1: ok });
    await t.request(t.s.rollbackRequested());
    expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1']);
    expect(t.shifts).toEqual(['d1']);
  });

  it('does not use a report for a named target that is already live: the rollback is refused as such', async () => {
    const t = await setup('rb-live', { d2: failing });
    await t.request(t.s.rollbackRequested(t.id.d2));
    expect(t.shifts).toEqual([]);
    const [rejected] = (await store.readStream(streams.release('rb-live', 'production'))).slice(8);
    expect(rejected).toMatchObject({ type: 'RollbackRejected', data: { reason: `${t.id.d2} is already live` } });
  });

  it('as the sole alias writer, moves the alias to the state its own command left without reading the stream again', async () => {
    const t = await setup('rb-sole', { d1: ok, d2: ok }, { soleAliasWriter: true });
    await t.request(t.s.rollbackRequested(t.id.d1));
    expect(t.shifts).toEqual(['d1']);
    // One read of the release stream: the decision's (whole, the first time); the alias follows its append.
    expect(t.releaseReads).toEqual([1]);
    await t.request(t.s.promoteRequested(t.id.d2));
    expect(t.shifts).toEqual(['d1', 'd2']);
    // The promote reads nothing: it decides on the state the rollback's append left (kept, version 10).
    expect(t.releaseReads).toEqual([1]);
    expect(await t.release()).toEqual(['AliasShifted', 'RolledBack', 'AliasShifted', 'Promoted']);
  });

  it('as the sole alias writer, a move for an older version of the stream than the alias was moved for changes nothing', async () => {
    const t = await setup('rb-order', { d1: ok, d2: ok }, { soleAliasWriter: true });
    await t.request(t.s.rollbackRequested(t.id.d1));
    await t.request(t.s.promoteRequested(t.id.d2));
    expect(t.aliases.get('production')).toBe(t.id.d2);
    // A handler that ran late, holding the state the rollback left (version 10, d1 live).
    const history = await store.readStream(streams.release('rb-order', 'production'));
    const stale = { state: fold(releaseDecider, history.slice(0, 10)), version: 10 };
    expect(stale.state.live).toBe(t.id.d1);
    await t.deploy.applyAlias('rb-order', 'production', stale);
    expect(t.shifts).toEqual(['d1', 'd2']);
    expect(t.aliases.get('production')).toBe(t.id.d2);
    // A later state moves it again.
    await t.deploy.applyAlias('rb-order', 'production', { state: { ...stale.state }, version: 13 });
    expect(t.shifts).toEqual(['d1', 'd2', 'd1']);
  });

  it('decides again when the release stream changes after its early read: another writer rolled back first', async () => {
    // The release stream is read while the target is probed; during that probe another writer
    // appends its own rollback to d1, so the state read first is stale by the time of the append.
    let other: (() => Promise<void>) | undefined;
    const t = await setup('rb-raced', { d1: ok, d2: ok }, {
      soleAliasWriter: true,
      duringProbe: async () => {
        const run = other;
        other = undefined;
        await run?.();
      },
    });
    other = async () => {
      // Only once the early read has its answer.
      await vi.waitFor(() => expect(t.releaseReads).toHaveLength(1));
      const before = t.s.events.length;
      t.s.rolledBack(t.id.d1);
      await put(t.s.events.slice(before));
    };
    await t.request(t.s.rollbackRequested(t.id.d1));
    // The append conflicted, the stream was read again, and the rollback was refused: d1 is live.
    const after = (await store.readStream(streams.release('rb-raced', 'production'))).slice(8);
    expect(after.map((e) => e.type)).toEqual(['AliasShifted', 'RolledBack', 'RollbackRejected']);
    expect(after[2]).toMatchObject({ data: { reason: `${t.id.d1} is already live` } });
    // The alias follows the state the handler's own (second) decision read.
    expect(t.aliases.get('production')).toBe(t.id.d1);
    expect(t.releaseReads).toEqual([1, 9]);
  });

  // The kept state (version 8, d2 live) is stale once another writer has made d1 live: a request
  // that names d2 is not probed on it (d2 is live there), but is decided again on the stream as it is.
  const staleKept = async (projectId: string) => {
    const t = await setup(projectId, { d1: ok, d2: failing }, { soleAliasWriter: true });
    // Decides nothing (d2 is live), and keeps the state it read.
    await t.request(t.s.promoteRequested(t.id.d2));
    expect(await t.release()).toEqual([]);
    const before = t.s.events.length;
    t.s.promoted(t.id.d1);
    await put(t.s.events.slice(before));
    t.aliases.set('production', t.id.d1);
    return t;
  };

  it('as the sole alias writer, a promote decided again on a fresh read is held to the health gate (the kept state had its target live)', async () => {
    const t = await staleKept('pr-kept-stale');
    await t.request(t.s.promoteRequested(t.id.d2));
    const after = (await store.readStream(streams.release('pr-kept-stale', 'production'))).slice(10);
    expect(after).toMatchObject([{ type: 'DeploymentRejected', data: { deploymentId: t.id.d2, reason: 'unhealthy' } }]);
    expect(t.aliases.get('production')).toBe(t.id.d1);
    expect(t.shifts).toEqual([]);
  });

  it('as the sole alias writer, a rollback decided again after a conflict is held to the health gate (the kept state had its target live)', async () => {
    const t = await staleKept('rb-kept-stale');
    await t.request(t.s.rollbackRequested(t.id.d2));
    const after = (await store.readStream(streams.release('rb-kept-stale', 'production'))).slice(10);
    expect(after).toMatchObject([{ type: 'RollbackRejected', data: { toDeploymentId: t.id.d2, reason: expect.stringContaining('failed its health check') } }]);
    expect(t.aliases.get('production')).toBe(t.id.d1);
    expect(t.shifts).toEqual([]);
  });

  it('without the sole writer, every move reads the stream under the lock', async () => {
    const t = await setup('rb-shared', { d1: ok, d2: ok });
    await t.request(t.s.rollbackRequested(t.id.d1));
    expect(t.shifts).toEqual(['d1']);
    // The decision's read, then the alias's read of the tail after the rollback's append.
    expect(t.releaseReads).toEqual([1, 11]);
  });

  it.each([
    ['names its target', false], ['names its target', true],
    ['names none', false], ['names none', true],
  ])('a rollback that %s, delivered again after its alias move failed, is recorded once and moves the alias where it said (sole alias writer: %s)', async (named, sole) => {
    const t = await setup(`rb-retry-${named.length}-${sole}`, { d1: ok, d2: ok }, { soleAliasWriter: sole, failShifts: 1 });
    const request = t.s.rollbackRequested(named === 'names its target' ? t.id.d1 : undefined);
    await expect(t.request(request)).rejects.toThrow('the alias store is down');
    await t.redeliver(request);
    expect(await t.release()).toEqual(['AliasShifted', 'RolledBack']);
    expect(t.aliases.get('production')).toBe(t.id.d1);
    expect(t.shifts).toEqual(['d1']);
  });

  it.each([false, true])('a rollback delivered twice at once is answered once: the copy that loses the append finds the answer (sole alias writer: %s)', async (sole) => {
    const t = await setup(`rb-twice-${sole}`, { d1: ok, d2: ok }, { soleAliasWriter: sole });
    const request = t.s.rollbackRequested(t.id.d1);
    await put([request]);
    const stored = (await store.readStream(request.metadata.streamId)).at(-1)!;
    await Promise.all([t.redeliver(stored), t.redeliver(stored)]);
    expect(await t.release()).toEqual(['AliasShifted', 'RolledBack']);
    expect(t.aliases.get('production')).toBe(t.id.d1);
    expect(t.shifts).toEqual(['d1']);
  });

  describe('with the probe started as the API received the request (expectRelease)', () => {
    // The release state the service keeps: a promote of the live d2 decides nothing and keeps
    // it (d2 live, d1 before it). That promote's own early probe of d2 is forgotten here.
    const kept = async (projectId: string, opts: Parameters<typeof setup>[2] & { answers?: Record<string, HealthObservation> } = {}) => {
      const { answers, ...rest } = opts;
      const t = await setup(projectId, { d1: ok, d2: ok, ...answers }, { soleAliasWriter: true, ...rest });
      await t.request(t.s.promoteRequested(t.id.d2));
      expect(await t.release()).toEqual([]);
      await vi.waitFor(() => expect(t.checks.map((c) => c.deploymentId)).toEqual(['d2']));
      t.checks.length = 0;
      return t;
    };

    it('a rollback that names its target is decided on the probe started before it was appended, and probes nothing more', async () => {
      const t = await kept('ex-named');
      t.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-named', to: t.id.d1 });
      await vi.waitFor(() => expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1']));
      await t.request(t.s.rollbackRequested(t.id.d1));
      expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1']);
      expect(t.shifts).toEqual(['d1']);
      // Taken once: a second rollback request to d1, which nobody announced, probes as before
      // (and is refused: d1 is live).
      await t.request(t.s.rollbackRequested(t.id.d1));
      expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1', 'd1']);
      expect(await t.release()).toEqual(['AliasShifted', 'RolledBack', 'RollbackRejected']);
    });

    it('an early probe that fails refuses the rollback, as a probe of the handler would', async () => {
      const t = await kept('ex-sick', { answers: { d1: failing } });
      t.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-sick', to: t.id.d1 });
      await t.request(t.s.rollbackRequested(t.id.d1));
      expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1']);
      expect(t.shifts).toEqual([]);
      expect(await t.release()).toEqual(['RollbackRejected']);
    });

    it('a rollback that names none probes the target its kept release state derives', async () => {
      const t = await kept('ex-derived');
      t.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-derived' });
      await vi.waitFor(() => expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1']));
      await t.request(t.s.rollbackRequested());
      expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1']);
      expect(t.shifts).toEqual(['d1']);
    });

    it('a promote names only its deployment: the project and alias are found from its request, then it is probed', async () => {
      const t = await kept('ex-promote');
      await t.request(t.s.rollbackRequested(t.id.d1));
      t.deploy.expectRelease({ kind: 'promote', deploymentId: t.id.d2 });
      await vi.waitFor(() => expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1', 'd2']));
      expect(t.checks[1]).toMatchObject({ projectId: 'ex-promote', path: '/' });
      await t.request(t.s.promoteRequested(t.id.d2));
      expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1', 'd2']);
      expect(t.shifts).toEqual(['d1', 'd2']);
    });

    it('a probe started more than 5 s before its request arrives is not used: the handler probes again', async () => {
      let clock = Date.parse('2026-12-06T09:00:00.000Z');
      const t = await kept('ex-stale', { now: () => new Date(clock).toISOString() });
      t.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-stale', to: t.id.d1 });
      clock += 5_001;
      await t.request(t.s.rollbackRequested(t.id.d1));
      expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1', 'd1']);
      expect(t.shifts).toEqual(['d1']);
    });

    it('starts nothing for a target the kept release state would not probe, nor for names it cannot use, and throws nothing', async () => {
      const fresh = await setup('ex-bad-cold', { d1: ok, d2: ok }, { soleAliasWriter: true });
      // No kept state yet.
      fresh.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-bad-cold', to: fresh.id.d1 });
      await new Promise((r) => setTimeout(r, 100));
      expect(fresh.checks).toEqual([]);
      const t = await kept('ex-bad');
      // Kept now (d2 live): the live d2, an unknown deployment, an alias with no kept state.
      t.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-bad', to: t.id.d2 });
      t.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-bad', to: newId() });
      t.deploy.expectRelease({ kind: 'rollback', projectId: 'ex-bad', alias: 'preview-x', to: t.id.d1 });
      expect(() => t.deploy.expectRelease({ kind: 'rollback', projectId: 'Not a project!', to: 'x' })).not.toThrow();
      expect(() => t.deploy.expectRelease({ kind: 'promote', deploymentId: newId() })).not.toThrow();
      // The promote's lookup reads the unknown deployment's build stream and finds no request.
      await new Promise((r) => setTimeout(r, 100));
      expect(t.checks).toEqual([]);
      await t.request(t.s.rollbackRequested(t.id.d1));
      expect(t.checks.map((c) => c.deploymentId)).toEqual(['d1']);
    });
  });
});
