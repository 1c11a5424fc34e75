import {
  catalog, parseDetail, streams, type Actor, type EventData, type EventStore, type EventType, type StoredEvent, type Target,
} from '../../events/index.ts';
import { toNewEvent } from '../property/generator.ts';

/**
 * Test helper: appends events made elsewhere (a scenario's, a generated history's) one at a time,
 * each at the version it carries, as their writers stored them; returns the events as stored
 * (with their positions). A version already taken fails the append, as it would for the writer.
 *
 * @example
 * const stored = await appendAsStored(store, s.events);
 */
export const appendAsStored = async (store: Pick<EventStore, 'append'>, events: readonly StoredEvent[]): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  for (const e of events) out.push(...(await store.append(e.metadata.streamId, [toNewEvent(e)], { expectedVersion: e.metadata.version - 1 })).events);
  return out;
};

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let counter = 0;
// Deterministic, increasing ULIDs: the time part from the scenario clock, then a counter.
const ulidAt = (ms: number): string => {
  let time = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32]! + time;
  let rest = '';
  for (let i = 0, c = ++counter; i < 16; i++, c = Math.floor(c / 32)) rest = CROCKFORD[c % 32]! + rest;
  return time + rest;
};

const ada: Actor = { kind: 'user', id: 'ada' };
const svc = (id: string): Actor => ({ kind: 'service', id });
const sha = (n: number): string => n.toString(16).padStart(40, 'a');
const buildSettings = { framework: 'nextjs' as const, rootDirectory: '.', nodeVersion: '20.x' as const };
const repository = { source: 'github' as const, fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' };

/**
 * Test helper: a scenario of one project that builds valid stored events (checked against the
 * catalog) with stream versions, positions and a clock that moves a second per event.
 * Only for tests.
 *
 * @example
 * const s = scenario('web');
 * s.created(); s.requested('d1'); s.queued('d1'); s.started('d1'); s.succeeded('d1'); s.live('d1');
 * foldEvents(deploymentsProjection, s.events);
 */
export const scenario = (projectId = 'web', start = '2026-11-22T10:00:00.000Z') => {
  let clock = Date.parse(start);
  const versions = new Map<string, number>();
  const events: StoredEvent[] = [];
  const requests = new Map<string, { target: Target; alias: string; requestedAt: string; sha: string }>();
  const live = new Map<string, string>();

  const emit = <T extends EventType>(type: T, streamId: string, data: EventData<T>, meta: { actor?: Actor; deploymentId?: string; causationId?: string | null } = {}): StoredEvent => {
    clock += 1000;
    const version = (versions.get(streamId) ?? 0) + 1;
    versions.set(streamId, version);
    const occurredAt = new Date(clock).toISOString();
    const eventId = ulidAt(clock);
    const metadata = {
      eventId, streamId, version, occurredAt, schemaVersion: catalog[type].schemaVersion,
      correlationId: meta.deploymentId ?? projectId, causationId: meta.causationId ?? events.at(-1)?.metadata.eventId ?? null,
      projectId, actor: meta.actor ?? svc('test'), ...(meta.deploymentId ? { deploymentId: meta.deploymentId } : {}),
    };
    parseDetail(type, { metadata, data });
    const e: StoredEvent = { type, data, metadata, position: `${occurredAt}#00#${eventId}`, recordedAt: occurredAt };
    events.push(e);
    return e;
  };
  const req = (d: string) => {
    const r = requests.get(d);
    if (!r) throw new Error(`scenario: ${d} was not requested`);
    return r;
  };
  const ref = (d: string, buildId: string) => ({ projectId, deploymentId: d, buildId });
  const dm = (d: string, actor = svc('build')) => ({ deploymentId: d, actor });
  const p = projectId;

  return {
    events,
    now: () => new Date(clock).toISOString(),
    /** Moves the clock (ms). */
    wait: (ms: number) => { clock += ms; },
    created: () => emit('ProjectCreated', streams.project(p), {
      projectId: p, name: 'Web', repository, settings: { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: buildSettings },
    }, { actor: ada }),
    envSet: (name: string, target: Target, version: number) =>
      emit('EnvVarSet', streams.project(p), { projectId: p, name, target, version, sensitive: false }, { actor: ada }),
    /** The project's mounts after a change (`op` of the last one). */
    mountsChanged: (mounts: { prefix: string; project: string }[], op: 'add' | 'remove', change: { prefix: string; project: string }) =>
      emit('ProjectMountsChanged', streams.project(p), { projectId: p, mounts, change: { op, ...change } }, { actor: ada }),
    envRemoved: (name: string, target: Target, version: number) =>
      emit('EnvVarRemoved', streams.project(p), { projectId: p, name, target, version }, { actor: ada }),
    pushed: (branch = 'main', n = 1) => emit('PushReceived', streams.project(p), {
      projectId: p, deliveryId: `gh-${n}`, source: 'github', repository: 'acme/web', ref: `refs/heads/${branch}`, branch, before: '0'.repeat(40), after: sha(n),
      headCommit: { sha: sha(n), message: `Commit ${n}`, author: { name: 'Ada Lovelace', username: 'ada' } }, pusher: { name: 'Ada Lovelace', username: 'ada' }, forced: false,
    }, { actor: { kind: 'github', id: 'webhook' } }),
    requested: (d: string, o: { branch?: string; n?: number; trigger?: 'push' | 'manual' | 'redeploy'; env?: { name: string; target: Target; version: number }[]; commitAt?: string } = {}) => {
      const branch = o.branch ?? 'main';
      const target: Target = branch === 'main' ? 'production' : 'preview';
      const alias = branch === 'main' ? 'production' : `preview-${branch}`;
      const requestedAt = new Date(clock + 1000).toISOString();
      requests.set(d, { target, alias, requestedAt, sha: sha(o.n ?? 1) });
      return emit('DeploymentRequested', streams.deployment(d), {
        projectId: p, deploymentId: d, target, alias, trigger: o.trigger ?? 'push', branch,
        commit: { sha: sha(o.n ?? 1), message: `Commit ${o.n ?? 1}\n\nbody`, author: { name: 'Ada Lovelace', username: 'ada' }, ...(o.commitAt ? { timestamp: o.commitAt } : {}) },
        repository, buildSettings, env: o.env ?? [], requestedBy: o.trigger === 'manual' ? ada : { kind: 'github', id: 'ada' }, requestedAt,
      }, { ...dm(d, svc('ingest')), actor: o.trigger === 'manual' ? ada : svc('ingest') });
    },
    queued: (d: string, buildId = `${d}-b1`) => {
      const r = req(d);
      return emit('BuildQueued', streams.build(d), { ...ref(d, buildId), target: r.target, alias: r.alias, branch: 'main', sha: r.sha, repository, buildSettings, env: [], requestedAt: r.requestedAt }, dm(d));
    },
    started: (d: string, buildId = `${d}-b1`) => emit('BuildStarted', streams.build(d), {
      ...ref(d, buildId), runner: 'local', runnerBuildId: '42', logUri: `file:///logs/${buildId}.log`, startedAt: new Date(clock + 1000).toISOString(), deadlineAt: '2030-01-01T00:00:00.000Z',
    }, dm(d)),
    succeeded: (d: string, buildId = `${d}-b1`) => {
      const r = req(d);
      return emit('BuildSucceeded', streams.build(d), {
        ...ref(d, buildId), target: r.target, alias: r.alias, sha: r.sha, requestedAt: r.requestedAt,
        artifact: { uri: `file:///artifacts/${d}.zip`, sha256: 'a'.repeat(64), sizeBytes: 1024 },
        durations: { queuedMs: 1000, buildMs: 60_000, totalMs: 61_000 }, versions: { next: '15.1.0', opennext: '3.4.0', node: '20.19.0' },
      }, dm(d));
    },
    failed: (d: string, buildId = `${d}-b1`, reason: 'build-failed' | 'infrastructure' = 'build-failed') => emit('BuildFailed', streams.build(d), {
      ...ref(d, buildId), reason, exitCode: reason === 'infrastructure' ? null : 1, message: 'next build exited with code 1', logTail: ['Type error: x'],
    }, dm(d)),
    canceled: (d: string, supersededBy: string, buildId = `${d}-b1`) =>
      emit('BuildCanceled', streams.build(d), { ...ref(d, buildId), reason: 'superseded', supersededBy }, dm(d)),
    timedOut: (d: string, buildId = `${d}-b1`) =>
      emit('BuildTimedOut', streams.build(d), { ...ref(d, buildId), limitSeconds: 1800, startedAt: new Date(clock - 1_800_000).toISOString(), detectedBy: 'reconciliation' }, dm(d)),
    assets: (d: string) => {
      const r = req(d);
      return emit('AssetsUploaded', streams.release(p, r.alias), {
        projectId: p, deploymentId: d, sha: r.sha, requestedAt: r.requestedAt, assetsUri: `file:///assets/${d}/`, fileCount: 12, totalBytes: 4096, durationMs: 300,
      }, dm(d, svc('deploy')));
    },
    published: (d: string) => emit('FunctionVersionPublished', streams.release(p, req(d).alias), {
      projectId: p, deploymentId: d, role: 'server', functionName: `shiplog-${p}-server`, version: '7', codeSha256: 'abc',
    }, dm(d, svc('deploy'))),
    /** `AliasShifted` and `DeploymentLive`. */
    live: (d: string) => {
      const r = req(d);
      const from = live.get(r.alias) ?? null;
      emit('AliasShifted', streams.release(p, r.alias), { projectId: p, alias: r.alias, fromDeploymentId: from, toDeploymentId: d, reason: 'deploy' }, dm(d, svc('deploy')));
      live.set(r.alias, d);
      return emit('DeploymentLive', streams.release(p, r.alias), {
        projectId: p, deploymentId: d, target: r.target, alias: r.alias, sha: r.sha, url: `http://${d}-${p}.localhost:3001`, aliasUrls: [],
        previousDeploymentId: from, totalMs: clock - Date.parse(r.requestedAt) + 1000,
      }, dm(d, svc('deploy')));
    },
    deployFailed: (d: string, stage: 'build' | 'upload' | 'publish' | 'alias' = 'publish') =>
      emit('DeploymentFailed', streams.release(p, req(d).alias), { projectId: p, deploymentId: d, stage, message: `${stage} failed` }, dm(d, svc('deploy'))),
    rejected: (d: string, reason: 'stale' | 'pinned-by-rollback' | 'not-ready' = 'stale') =>
      emit('DeploymentRejected', streams.release(p, req(d).alias), { projectId: p, deploymentId: d, alias: req(d).alias, reason, liveDeploymentId: live.get(req(d).alias) ?? null }, dm(d, svc('deploy'))),
    rollbackRequested: (to?: string) =>
      emit('RollbackRequested', streams.project(p), { projectId: p, alias: 'production', ...(to ? { toDeploymentId: to } : {}), reason: '500s', requestedBy: ada }, { actor: ada }),
    promoteRequested: (d: string) =>
      emit('PromoteRequested', streams.project(p), { projectId: p, deploymentId: d, alias: 'production', requestedBy: ada }, { actor: ada, deploymentId: d }),
    /** `AliasShifted` and `RolledBack`, as the deploy service emits them. */
    rolledBack: (to: string) => {
      const from = live.get('production')!;
      emit('AliasShifted', streams.release(p, 'production'), { projectId: p, alias: 'production', fromDeploymentId: from, toDeploymentId: to, reason: 'rollback' }, dm(to, svc('deploy')));
      live.set('production', to);
      return emit('RolledBack', streams.release(p, 'production'), { projectId: p, alias: 'production', fromDeploymentId: from, toDeploymentId: to, requestedBy: ada, reason: '500s' }, dm(to, svc('deploy')));
    },
    promoted: (d: string) => {
      const from = live.get('production') ?? null;
      emit('AliasShifted', streams.release(p, 'production'), { projectId: p, alias: 'production', fromDeploymentId: from, toDeploymentId: d, reason: 'promote' }, dm(d, svc('deploy')));
      live.set('production', d);
      return emit('Promoted', streams.release(p, 'production'), { projectId: p, deploymentId: d, alias: 'production', fromDeploymentId: from, requestedBy: ada }, dm(d, svc('deploy')));
    },
    alarm: (d: string, alarmId = 'a1', severity: 'critical' | 'warning' = 'critical') => emit('AlarmRaised', streams.alarm(p, alarmId), {
      projectId: p, alarmId, alias: 'production', deploymentId: d, metric: '5xx-rate', severity, threshold: 0.05, observed: 0.2, windowSeconds: 300, since: new Date(clock + 1000).toISOString(),
    }, dm(d, svc('observability'))),
    cleared: (d: string, raised: StoredEvent, alarmId = 'a1') => emit('AlarmCleared', streams.alarm(p, alarmId), {
      projectId: p, alarmId, alias: 'production', deploymentId: d, metric: '5xx-rate', observed: 0.01, raisedAt: (raised.data as { since: string }).since,
    }, dm(d, svc('observability'))),
    domainAdded: (host: string) => emit('DomainAdded', streams.domain(host), { projectId: p, host, alias: 'production' }, { actor: ada }),
    domainPending: (host: string) => emit('DomainValidationPending', streams.domain(host), {
      projectId: p, host, certificateId: 'local:1', records: [{ purpose: 'routing', name: host, type: 'CNAME', value: 'sites.local' }],
    }, { actor: svc('domains') }),
    domainActive: (host: string) => emit('DomainActive', streams.domain(host), { projectId: p, host, alias: 'production', certificateId: 'local:1' }, { actor: svc('domains') }),
    domainRemoved: (host: string) => emit('DomainRemoved', streams.domain(host), { projectId: p, host }, { actor: ada }),
    /** An event of a type this code does not know (a newer producer), on the project stream. */
    unknown: () => {
      clock += 1000;
      const streamId = streams.project(p);
      const version = (versions.get(streamId) ?? 0) + 1;
      versions.set(streamId, version);
      const occurredAt = new Date(clock).toISOString();
      const eventId = ulidAt(clock);
      const e: StoredEvent = {
        type: 'ProjectArchived', data: { projectId: p }, position: `${occurredAt}#00#${eventId}`, recordedAt: occurredAt,
        metadata: { eventId, streamId, version, occurredAt, schemaVersion: 1, correlationId: p, causationId: null, projectId: p, actor: ada },
      };
      events.push(e);
      return e;
    },
  };
};

export type Scenario = ReturnType<typeof scenario>;

/**
 * Test helper: deployment `d` from its request to live, every step as its service emits it.
 *
 * @example
 * ship(s, 'd1'); // requested, queued, started, succeeded, assets, published, live
 */
export const ship = (s: Scenario, d: string): void => {
  s.requested(d); s.queued(d); s.started(d); s.succeeded(d); s.assets(d); s.published(d); s.live(d);
};

/**
 * Test helper: a project whose deployments d1 and d2 went live in turn, then `cycles` times a
 * rollback to d1 and a promotion of d2 (a long-lived deployment's timeline).
 *
 * @example
 * const s = rolledBackAgainAndAgain(300); // d2 is live, d1 was rolled back to 300 times
 */
export const rolledBackAgainAndAgain = (cycles: number): Scenario => {
  const s = scenario();
  s.created();
  for (const d of ['d1', 'd2']) ship(s, d);
  for (let i = 0; i < cycles; i++) {
    s.rolledBack('d1');
    s.promoted('d2');
  }
  return s;
};
