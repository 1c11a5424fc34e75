import {
  catalog, parseDetail, streams, type Actor, type EnvVarRef, type EventData, type EventType, type NewEvent, type StoredEvent,
} from '../../events/index.ts';
import { seeded, type Random } from './random.ts';

/**
 * Random, valid shiplog histories for property tests and benchmarks: projects with env vars and
 * domains, pushes that deploy to production and previews, builds that fail, retry, time out or are
 * superseded, deployments that go live or are rejected as stale, rollbacks, promotions and
 * alarms, interleaved as concurrent services would produce them. Every event is checked against
 * its catalog schema (`parseDetail`) as it is made.
 *
 * @example
 * const h = generateHistory({ seed: 7, prefix: 'h7' });
 * h.events.length;           // ~100
 * h.events[0].type;          // 'ProjectCreated'
 */
export interface History {
  seed: number;
  projects: string[];
  deployments: string[];
  /** In the order they happened: also a valid commit order (each stream's versions ascend). */
  events: StoredEvent[];
}

export interface HistoryOptions {
  seed: number;
  /** Prefix of project ids and hosts, so histories can share a store. */
  prefix: string;
  projects?: [min: number, max: number];
  deploymentsPerProject?: [min: number, max: number];
  /** Start of the history's clock (ms since the epoch). */
  startMs?: number;
}

interface AliasState { deploymentId: string; requestedAt: string; pinned: boolean }
interface ProjectWorld {
  id: string;
  repo: string;
  env: Map<string, EnvVarRef & { removed: boolean }>;
  aliases: Map<string, AliasState>;
  /** Deployments that were live on each alias, oldest first. */
  liveHistory: Map<string, string[]>;
  latestRequested: Map<string, string>;
  ready: string[];
}

const SHA0 = '0'.repeat(40);
const users: Actor[] = [{ kind: 'user', id: 'ada' }, { kind: 'user', id: 'grace' }, { kind: 'user', id: 'linus' }];
const people = [{ name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' }, { name: 'Grace Hopper', username: 'grace' }, { name: 'Linus', email: 'l@example.com' }];
const buildSettings = { framework: 'nextjs' as const, rootDirectory: '.', nodeVersion: '20.x' as const };
const settings = { productionBranch: 'main', previewBranches: 'all' as const, autoDeploy: true, build: buildSettings };

const service = (id: string): Actor => ({ kind: 'service', id });
const aliasOf = (branch: string): string => (branch === 'main' ? 'production' : `preview-${branch.replace(/[^A-Za-z0-9_-]/g, '-')}`);

export const generateHistory = (opts: HistoryOptions): History => {
  const r: Random = seeded(opts.seed);
  let clock = opts.startMs ?? Date.parse('2026-01-05T09:00:00.000Z');
  const versions = new Map<string, number>();
  const events: StoredEvent[] = [];
  const deployments: string[] = [];
  const now = () => new Date(clock).toISOString();
  const id = () => r.ulid(clock);

  const emit = <T extends EventType>(
    type: T, streamId: string, data: EventData<T>,
    meta: { projectId: string; causationId: string | null; correlationId: string; actor: Actor; deploymentId?: string },
  ): string => {
    clock += r.int(1, 40);
    const version = (versions.get(streamId) ?? 0) + 1;
    versions.set(streamId, version);
    const eventId = id();
    const metadata = {
      eventId, streamId, version, occurredAt: now(), schemaVersion: catalog[type].schemaVersion,
      correlationId: meta.correlationId, causationId: meta.causationId, projectId: meta.projectId, actor: meta.actor,
      ...(meta.deploymentId ? { deploymentId: meta.deploymentId } : {}),
    };
    parseDetail(type, { metadata, data });
    events.push({ type, data, metadata, position: `${metadata.occurredAt}#00#${eventId}`, recordedAt: metadata.occurredAt });
    return eventId;
  };

  const processes: Generator<void>[] = [];
  const spawn = (g: Generator<void>) => processes.push(g);

  function* envChurn(w: ProjectWorld, cause: string): Generator<void> {
    for (let i = r.int(1, 5); i > 0; i--) {
      yield;
      const target = r.pick(['production', 'preview'] as const);
      const name = r.pick(['DATABASE_URL', 'API_KEY', 'NEXT_PUBLIC_SITE', 'FEATURE_FLAG']);
      const k = `${target}#${name}`;
      const cur = w.env.get(k);
      const actor = r.pick(users);
      if (cur && !cur.removed && r.chance(0.25)) {
        emit('EnvVarRemoved', streams.project(w.id), { projectId: w.id, name, target, version: cur.version }, { projectId: w.id, causationId: cause, correlationId: w.id, actor });
        w.env.set(k, { ...cur, removed: true });
      } else {
        const version = (cur?.version ?? 0) + 1;
        emit('EnvVarSet', streams.project(w.id), { projectId: w.id, name, target, version, sensitive: name === 'API_KEY' }, { projectId: w.id, causationId: cause, correlationId: w.id, actor });
        w.env.set(k, { name, target, version, removed: false });
      }
    }
  }

  function* domainLifecycle(w: ProjectWorld, host: string, cause: string): Generator<void> {
    yield;
    const m = (c: string | null) => ({ projectId: w.id, causationId: c, correlationId: host, actor: service('domains') });
    const added = emit('DomainAdded', streams.domain(host), { projectId: w.id, host, alias: 'production' }, { ...m(cause), actor: r.pick(users) });
    yield;
    const certificateId = `local-ca:${r.hex(12)}`;
    const req = emit('CertificateRequested', streams.domain(host), { projectId: w.id, host, certificateId, provider: 'local-ca', subjectAlternativeNames: [] }, m(added));
    yield;
    const pending = emit('DomainValidationPending', streams.domain(host), {
      projectId: w.id, host, certificateId, records: [{ purpose: 'routing', name: host, type: 'CNAME', value: 'sites.shiplog.local' }],
    }, m(req));
    yield;
    if (r.chance(0.2)) {
      emit('DomainFailed', streams.domain(host), { projectId: w.id, host, reason: 'validation-timed-out', retryable: true }, m(pending));
    } else {
      const issued = emit('CertificateIssued', streams.domain(host), {
        projectId: w.id, host, certificateId, issuer: 'shiplog local CA', notBefore: now(), notAfter: new Date(clock + 90 * 86_400_000).toISOString(),
      }, m(pending));
      yield;
      emit('DomainActive', streams.domain(host), { projectId: w.id, host, alias: 'production', certificateId }, m(issued));
    }
    if (r.chance(0.3)) {
      yield;
      emit('DomainRemoved', streams.domain(host), { projectId: w.id, host }, { ...m(null), actor: r.pick(users) });
    }
  }

  function* deploymentFlow(w: ProjectWorld, branch: string, trigger: 'push' | 'redeploy'): Generator<void> {
    yield;
    const alias = aliasOf(branch);
    const target = alias === 'production' ? 'production' as const : 'preview' as const;
    const person = r.pick(people);
    const commit = { sha: r.hex(40), message: `${r.pick(['Fix', 'Add', 'Tune', 'Remove'])} ${r.pick(['nav', 'cart', 'login', 'cache'])}\n\nDetails.`, author: person, timestamp: new Date(clock - r.int(60_000, 7_200_000)).toISOString() };
    const deliveryId = `gh-${r.hex(8)}`;
    let cause: string | null = null;
    if (trigger === 'push') {
      cause = emit('PushReceived', streams.project(w.id), {
        projectId: w.id, deliveryId, source: 'github', repository: w.repo, ref: `refs/heads/${branch}`, branch, before: SHA0, after: commit.sha,
        headCommit: commit, pusher: { name: person.name, ...(person.username ? { username: person.username } : {}) }, forced: false,
      }, { projectId: w.id, causationId: null, correlationId: deliveryId, actor: { kind: 'github', id: 'webhook' } });
      if (r.chance(0.08)) {
        yield;
        emit('PushIgnored', streams.project(w.id), { projectId: w.id, deliveryId, ref: `refs/heads/${branch}`, sha: commit.sha, reason: 'skip-ci-in-message' },
          { projectId: w.id, causationId: cause, correlationId: deliveryId, actor: service('ingest') });
        return;
      }
      yield;
    }
    const d = id();
    deployments.push(d);
    const requestedAt = now();
    const env = [...w.env.values()].filter((e) => !e.removed && e.target === target).map(({ name, target: t, version }) => ({ name, target: t, version }));
    const sourceDeploymentId = trigger === 'redeploy' ? w.ready.at(-1) : undefined;
    const requestedBy = trigger === 'push' ? { kind: 'github' as const, id: person.username ?? person.name } : r.pick(users);
    const repository = { source: 'github' as const, fullName: w.repo, cloneUrl: `https://github.com/${w.repo}.git` };
    const dm = (c: string | null, actor: Actor = service('build')) => ({ projectId: w.id, causationId: c, correlationId: d, actor, deploymentId: d });
    let last = emit('DeploymentRequested', streams.deployment(d), {
      projectId: w.id, deploymentId: d, target, alias, trigger, branch, commit, repository, buildSettings, env, requestedBy, requestedAt,
      ...(trigger === 'push' ? { pushDeliveryId: deliveryId } : {}), ...(sourceDeploymentId ? { sourceDeploymentId } : {}),
    }, dm(cause, service('ingest')));
    w.latestRequested.set(alias, d);

    // Build attempts: an infrastructure failure is retried once.
    let built = false;
    for (let attempt = 1; attempt <= 2 && !built; attempt++) {
      yield;
      const buildId = `b-${d}-${attempt}`;
      const ref = { projectId: w.id, deploymentId: d, buildId };
      const queuedAt = clock;
      last = emit('BuildQueued', streams.build(d), { ...ref, target, alias, branch, sha: commit.sha, repository, buildSettings, env, requestedAt }, dm(last));
      yield;
      const startedAt = now();
      last = emit('BuildStarted', streams.build(d), {
        ...ref, runner: 'local', runnerBuildId: String(r.int(1000, 9999)), logUri: `file:///tmp/shiplog/logs/${buildId}.log`,
        startedAt, deadlineAt: new Date(clock + 1_800_000).toISOString(),
      }, dm(last));
      yield;
      clock += r.int(5_000, 90_000);
      if (w.latestRequested.get(alias) !== d && r.chance(0.4)) {
        emit('BuildCanceled', streams.build(d), { ...ref, reason: 'superseded', supersededBy: w.latestRequested.get(alias)! }, dm(last));
        return;
      }
      const roll = r.next();
      if (roll < 0.06) {
        emit('BuildTimedOut', streams.build(d), { ...ref, limitSeconds: 1800, startedAt, detectedBy: 'reconciliation' }, dm(last, service('reconciler')));
        return;
      }
      if (roll < 0.22) {
        const infra = attempt === 1 && r.chance(0.5);
        last = emit('BuildFailed', streams.build(d), {
          ...ref, reason: infra ? 'infrastructure' : 'build-failed', exitCode: infra ? null : 1,
          message: infra ? 'runner lost' : 'next build exited with code 1', logTail: infra ? [] : ['Type error: x is not assignable'],
          durationMs: clock - Date.parse(startedAt),
        }, dm(last));
        if (infra) continue;
        yield;
        emit('DeploymentFailed', streams.release(w.id, alias), { projectId: w.id, deploymentId: d, stage: 'build', message: 'next build exited with code 1', buildId }, dm(last, service('deploy')));
        return;
      }
      const buildMs = clock - Date.parse(startedAt);
      last = emit('BuildSucceeded', streams.build(d), {
        ...ref, target, alias, sha: commit.sha, requestedAt,
        artifact: { uri: `file:///tmp/shiplog/artifacts/${d}.zip`, sha256: r.hex(64), sizeBytes: r.int(10_000, 9_000_000) },
        durations: { queuedMs: Date.parse(startedAt) - queuedAt, buildMs, totalMs: clock - queuedAt },
        versions: { next: r.pick(['15.1.0', '15.2.3']), opennext: r.pick(['3.4.0', '3.5.1']), node: '20.19.0' },
      }, dm(last));
      built = true;
    }
    if (!built) return;

    // Release: assets, function, then live, stale or pinned.
    const release = streams.release(w.id, alias);
    yield;
    last = emit('AssetsUploaded', release, { projectId: w.id, deploymentId: d, sha: commit.sha, requestedAt, assetsUri: `file:///tmp/shiplog/assets/${d}/`, fileCount: r.int(10, 500), totalBytes: r.int(1e4, 1e7), durationMs: r.int(100, 5000) }, dm(last, service('deploy')));
    yield;
    if (r.chance(0.05)) {
      emit('DeploymentFailed', release, { projectId: w.id, deploymentId: d, stage: 'publish', message: 'function version could not be published' }, dm(last, service('deploy')));
      return;
    }
    last = emit('FunctionVersionPublished', release, { projectId: w.id, deploymentId: d, role: 'server', functionName: `shiplog-${w.id}-server`, version: String(r.int(1, 999)), codeSha256: r.hex(16) }, dm(last, service('deploy')));
    yield;
    const current = w.aliases.get(alias);
    if (current?.pinned || (current && current.requestedAt > requestedAt)) {
      emit('DeploymentRejected', release, {
        projectId: w.id, deploymentId: d, alias, reason: current.pinned ? 'pinned-by-rollback' : 'stale', liveDeploymentId: current.deploymentId,
      }, dm(last, service('deploy')));
      return;
    }
    last = emit('AliasShifted', release, { projectId: w.id, alias, fromDeploymentId: current?.deploymentId ?? null, toDeploymentId: d, reason: 'deploy' }, dm(last, service('deploy')));
    emit('DeploymentLive', release, {
      projectId: w.id, deploymentId: d, target, alias, sha: commit.sha, url: `http://${d.toLowerCase()}-${w.id}.localhost:3001`,
      aliasUrls: alias === 'production' ? [`http://${w.id}.localhost:3001`] : [], previousDeploymentId: current?.deploymentId ?? null,
      totalMs: clock - Date.parse(requestedAt),
    }, dm(last, service('deploy')));
    w.aliases.set(alias, { deploymentId: d, requestedAt, pinned: false });
    w.liveHistory.set(alias, [...(w.liveHistory.get(alias) ?? []), d]);
    if (alias === 'production') w.ready.push(d);
  }

  function* rollbackAndPromote(w: ProjectWorld): Generator<void> {
    for (let i = 0; i < 12; i++) yield;
    const current = w.aliases.get('production');
    const earlier = (w.liveHistory.get('production') ?? []).filter((x) => x !== current?.deploymentId);
    const user = r.pick(users);
    if (current && earlier.length === 0) {
      const req = emit('RollbackRequested', streams.project(w.id), { projectId: w.id, alias: 'production', reason: 'smoke test failed', requestedBy: user },
        { projectId: w.id, causationId: null, correlationId: `rb-${current.deploymentId}`, actor: user });
      yield;
      emit('RollbackRejected', streams.release(w.id, 'production'), { projectId: w.id, alias: 'production', reason: 'no earlier deployment', requestedBy: user },
        { projectId: w.id, causationId: req, correlationId: `rb-${current.deploymentId}`, actor: service('deploy') });
      return;
    }
    if (!current || earlier.length === 0 || current.pinned) return;
    const to = r.pick(earlier);
    const reqId = emit('RollbackRequested', streams.project(w.id), { projectId: w.id, alias: 'production', toDeploymentId: to, reason: '500s on /cart', requestedBy: user },
      { projectId: w.id, causationId: null, correlationId: `rb-${to}`, actor: user });
    yield;
    const now2 = w.aliases.get('production')!;
    if (now2.deploymentId === to) return;
    const m = (c: string) => ({ projectId: w.id, causationId: c, correlationId: `rb-${to}`, actor: service('deploy'), deploymentId: to });
    const shifted = emit('AliasShifted', streams.release(w.id, 'production'), { projectId: w.id, alias: 'production', fromDeploymentId: now2.deploymentId, toDeploymentId: to, reason: 'rollback' }, m(reqId));
    emit('RolledBack', streams.release(w.id, 'production'), { projectId: w.id, alias: 'production', fromDeploymentId: now2.deploymentId, toDeploymentId: to, requestedBy: user, reason: '500s on /cart' }, m(shifted));
    w.aliases.set('production', { deploymentId: to, requestedAt: now2.requestedAt, pinned: true });
    if (!r.chance(0.6)) return;
    for (let i = 0; i < 4; i++) yield;
    const pick = w.ready.at(-1)!;
    const pinned = w.aliases.get('production')!;
    if (!pinned.pinned) return;
    const pm = (c: string | null, actor: Actor) => ({ projectId: w.id, causationId: c, correlationId: `pr-${pick}`, actor, deploymentId: pick });
    const preq = emit('PromoteRequested', streams.project(w.id), { projectId: w.id, deploymentId: pick, alias: 'production', requestedBy: user }, pm(null, user));
    yield;
    if (pinned.deploymentId !== pick) {
      const shifted = emit('AliasShifted', streams.release(w.id, 'production'), { projectId: w.id, alias: 'production', fromDeploymentId: pinned.deploymentId, toDeploymentId: pick, reason: 'promote' }, pm(preq, service('deploy')));
      emit('Promoted', streams.release(w.id, 'production'), { projectId: w.id, deploymentId: pick, alias: 'production', fromDeploymentId: pinned.deploymentId, requestedBy: user }, pm(shifted, service('deploy')));
    } else {
      emit('Promoted', streams.release(w.id, 'production'), { projectId: w.id, deploymentId: pick, alias: 'production', fromDeploymentId: pinned.deploymentId, requestedBy: user }, pm(preq, service('deploy')));
    }
    w.aliases.set('production', { deploymentId: pick, requestedAt: pinned.requestedAt, pinned: false });
  }

  function* alarm(w: ProjectWorld, n: number): Generator<void> {
    for (let i = r.int(4, 14); i > 0; i--) yield;
    const live = w.aliases.get('production');
    if (!live) return;
    const alarmId = `a${n}`;
    const stream = streams.alarm(w.id, alarmId);
    const since = now();
    const m = { projectId: w.id, causationId: null, correlationId: alarmId, actor: service('observability'), deploymentId: live.deploymentId };
    const raised = emit('AlarmRaised', stream, {
      projectId: w.id, alarmId, alias: 'production', deploymentId: live.deploymentId, metric: '5xx-rate',
      severity: r.chance(0.7) ? 'critical' : 'warning', threshold: 0.05, observed: 0.12, windowSeconds: 300, since,
    }, m);
    for (let i = r.int(1, 6); i > 0; i--) yield;
    if (r.chance(0.8)) {
      emit('AlarmCleared', stream, { projectId: w.id, alarmId, alias: 'production', deploymentId: live.deploymentId, metric: '5xx-rate', observed: 0.01, raisedAt: since }, { ...m, causationId: raised });
    }
  }

  function* project(n: number): Generator<void> {
    const pid = `${opts.prefix}-p${n}`;
    const w: ProjectWorld = {
      id: pid, repo: `acme/${pid}`, env: new Map(), aliases: new Map(), liveHistory: new Map(), latestRequested: new Map(), ready: [],
    };
    const created = emit('ProjectCreated', streams.project(pid), {
      projectId: pid, name: `Project ${n}`, repository: { source: 'github', fullName: w.repo, cloneUrl: `https://github.com/${w.repo}.git` }, settings,
    }, { projectId: pid, causationId: null, correlationId: pid, actor: r.pick(users) });
    spawn(envChurn(w, created));
    for (let i = r.int(0, 2); i > 0; i--) spawn(domainLifecycle(w, `${opts.prefix}-${n}-${i}.example.com`, created));
    const [dmin, dmax] = opts.deploymentsPerProject ?? [2, 8];
    for (let i = r.int(dmin, dmax); i > 0; i--) {
      spawn(deploymentFlow(w, r.chance(0.7) ? 'main' : r.pick(['feature/login', 'fix-cart']), r.chance(0.1) ? 'redeploy' : 'push'));
    }
    if (r.chance(0.6)) spawn(rollbackAndPromote(w));
    if (r.chance(0.5)) spawn(alarm(w, 1));
    if (r.chance(0.3)) {
      yield;
      emit('ProjectSettingsChanged', streams.project(pid), { projectId: pid, settings: { ...settings, autoDeploy: true, previewBranches: 'all' }, changed: ['build'] },
        { projectId: pid, causationId: null, correlationId: pid, actor: r.pick(users) });
    }
  }

  const [pmin, pmax] = opts.projects ?? [1, 3];
  const projects = Array.from({ length: r.int(pmin, pmax) }, (_, i) => i + 1);
  for (const n of projects) spawn(project(n));
  // Run the processes interleaved: one step of a random one at a time.
  while (processes.length > 0) {
    const i = Math.floor(r.next() * processes.length);
    clock += r.int(50, 4000);
    if (processes[i]!.next().done) processes.splice(i, 1);
  }
  return { seed: opts.seed, projects: projects.map((n) => `${opts.prefix}-p${n}`), deployments, events };
};

/**
 * What the store takes of a generated event (it assigns stream versions and positions itself).
 *
 * @example
 * await store.append(e.metadata.streamId, [toNewEvent(e)], { expectedVersion: e.metadata.version - 1 });
 */
export const toNewEvent = (e: StoredEvent): NewEvent => {
  const { streamId: _s, version: _v, schemaVersion: _sv, ...metadata } = e.metadata;
  return { type: e.type, data: e.data, metadata };
};
