import { fileURLToPath } from 'node:url';
import { EventType, type EventData, streams } from '../../events/index.ts';
import type { EventMetadata, EmitContext } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { defineHandler, execute, keepRecent, streamStates, type IdempotencyOptions, type Loaded } from '../shell/index.ts';
import { isAnswered, releaseDecider, rollbackTarget, type DeployCommand, type HealthReport, type ReleaseState } from './decider.ts';
import type { HealthProbe, SiteHost } from './ports.ts';

export interface DeployServiceDeps {
  store: EventStore;
  host: SiteHost;
  ids: () => string;
  now: () => string;
  /** Serializes work on one alias (locally an in-process mutex). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  idempotency?: IdempotencyOptions;
  /**
   * The health gate: before an alias moves (deploy, promote, rollback) the target version must
   * answer its health path (the project's `healthPath`, `/` by default) with a non-5xx within
   * `healthTimeoutMs`. Without a probe there is no gate.
   */
  probe?: HealthProbe;
  /** 30 s by default: the first request also starts the version's function. */
  healthTimeoutMs?: number;
  /**
   * This process is the only one that appends to release streams and moves the host's aliases
   * (the local runtime, where one `shiplog dev` owns its data dir). A handler then moves the alias
   * to the state its own command left the stream in, without reading the stream again; the alias
   * remembers the stream version it was moved for, so an older state never replaces a newer one.
   * Off (AWS: many Lambdas), every move reads the stream under the lock.
   */
  soleAliasWriter?: boolean;
}

/** A rollback or promote request as the API receives it, before it is appended (`expectRelease`). */
export type ReleaseExpected =
  | { kind: 'rollback'; projectId: string; alias?: string | undefined; to?: string | undefined }
  | { kind: 'promote'; deploymentId: string };

const decider = releaseDecider;
const actor = { kind: 'service', id: 'deploy' } as const;

/**
 * The deploy service: publishes a successful build, makes it live on its alias unless it is
 * stale, rolls back and promotes without rebuilding, and records failed deployments.
 *
 * @example
 * const deploy = deployService(deps);
 * bus subscribers: deploy.onBuildSucceeded, deploy.onBuildEnded, deploy.onReleaseRequest
 */
export const deployService = (deps: DeployServiceDeps) => {
  const ctx = (cause: EventMetadata): EmitContext => ({ ids: deps.ids, now: deps.now, cause, actor });
  const idem = deps.idempotency ? { idempotency: deps.idempotency } : {};
  // Release streams grow by a few events per deployment, rollback and promote: their folded
  // states are kept, and each load reads only what came after (a rollback reads its tail, not the history).
  const states = streamStates(deps.store, decider);
  // `loaded`: the release state as the caller has just loaded it (the first decision uses it).
  // A sole writer decides on the kept state without reading the tail (`trustKept`): the append's
  // expected version still catches anything it did not know of.
  const trustKept = deps.soleAliasWriter === true;
  const run = (projectId: string, alias: string, cmd: (s: ReleaseState) => DeployCommand | undefined, cause: EventMetadata, loaded?: Loaded<ReleaseState>) =>
    execute(deps.store, streams.release(projectId, alias), decider, cmd, ctx(cause), { states, trustKept, ...(loaded ? { loaded } : {}) });

  // The alias follows the release stream: under the alias lock, read what the stream says is
  // live and point the host there. Whoever runs last sets the latest state, whatever the order.
  // A sole writer moves it to `after` (the state a command of this process left the stream in)
  // unless the alias was already moved for a later version of the stream (the last 1,000 aliases).
  const movedFor = new Map<string, number>();
  const applyAlias = (projectId: string, alias: string, after?: Loaded<ReleaseState>) => {
    const key = `${projectId}#${alias}`;
    return deps.withLock(key, async () => {
      const known = deps.soleAliasWriter ? after : undefined;
      if (known && (movedFor.get(key) ?? -1) >= known.version) return;
      const { state: { live }, version } = known ?? (await states.load(streams.release(projectId, alias)));
      if (live && (await deps.host.aliasTarget(projectId, alias)) !== live) {
        await deps.host.shiftAlias({ projectId, alias, deploymentId: live });
      }
      if (deps.soleAliasWriter) keepRecent(movedFor, key, version, 1000);
    });
  };

  // The project, alias and health path a deployment was requested with (its build settings'
  // snapshot, `/` by default). A deployment's BuildQueued never changes, so it is read once per
  // deployment and kept (the last 1,000): a rollback or promote to it then probes without reading its build stream.
  interface Queued { projectId: string; alias: string; healthPath: string }
  const queuedWith = new Map<string, Queued>();
  const requestedWith = async (deploymentId: string): Promise<Queued | undefined> => {
    const known = queuedWith.get(deploymentId);
    if (known !== undefined) return known;
    const queued = (await deps.store.readStream(streams.build(deploymentId))).find((x) => x.type === EventType.BuildQueued);
    if (!queued) return undefined;
    const data = queued.data as EventData<'BuildQueued'>;
    const found = { projectId: data.projectId, alias: data.alias, healthPath: data.buildSettings.healthPath ?? '/' };
    keepRecent(queuedWith, deploymentId, found, 1000);
    return found;
  };
  const checkHealth = async (projectId: string, deploymentId: string | undefined): Promise<{ health?: HealthReport }> => {
    if (!deps.probe || !deploymentId) return {};
    const path = (await requestedWith(deploymentId))?.healthPath ?? '/';
    const timeoutMs = deps.healthTimeoutMs ?? 30_000;
    const observation = await deps.probe.check({ projectId, deploymentId, path, timeoutMs }).catch((e: unknown) => ({ kind: 'no-response' as const, error: e instanceof Error ? e.message : String(e) }));
    return { health: { deploymentId, path, timeoutMs, observation } };
  };
  // The same check started early, for a target named before the state is read: the report is
  // used only if the state then says that target is to be checked (else it is dropped).
  const healthAhead = (projectId: string, deploymentId: string | undefined) => {
    if (!deps.probe || !deploymentId) return undefined;
    const report = checkHealth(projectId, deploymentId);
    report.catch(() => {});
    return { deploymentId, report };
  };
  const releaseState = async (projectId: string, alias: string) => (await states.load(streams.release(projectId, alias))).state;
  // The deployment a release state has probed for a request that names `named` (a promote's
  // deployment, a rollback's target, or none: the one the state derives): none if there is no
  // probe, or if the decider refuses that target in this state anyway (live, or not published).
  const targetToProbe = (s: ReleaseState, named: string | undefined): string | undefined => {
    const target = rollbackTarget(s, named);
    return deps.probe && target !== undefined && target !== s.live && s.deployments[target]?.published === true ? target : undefined;
  };

  // Probes started as the API received a rollback or promote (`expectRelease`), by project and
  // target: the deploy handler of that request takes its probe from here, once, if it started
  // within the last 5 s (else it probes as before).
  const expected = new Map<string, { startedAt: number; ahead: NonNullable<ReturnType<typeof healthAhead>> }>();
  const EXPECTED_FOR_MS = 5_000;
  const takeExpected = (projectId: string, deploymentId: string | undefined) => {
    if (deploymentId === undefined) return undefined;
    const key = `${projectId}#${deploymentId}`;
    const found = expected.get(key);
    expected.delete(key);
    return found && Date.parse(deps.now()) - found.startedAt <= EXPECTED_FOR_MS ? found.ahead : undefined;
  };
  /**
   * Told of a rollback or promote request as it arrives, before it is appended: its target's
   * health probe starts now, while the request is appended and delivered, and its handler waits
   * for that probe instead of starting one. Only a process that keeps the release states and
   * handles the requests gains from it (the local runtime). A target is probed early only if the
   * kept release state of its alias would have it probed (published, not live): a rollback's
   * named target on the alias the request names (production by default), or the one that state
   * derives; a promote's deployment on the alias it was requested for, found from its request.
   * Anything else starts nothing, and the handler probes as before. Never throws.
   */
  const expectRelease = (r: ReleaseExpected): void => {
    if (!deps.probe) return;
    const start = (projectId: string, alias: string, named: string | undefined) => {
      const kept = states.peek(streams.release(projectId, alias));
      const target = kept && targetToProbe(kept.state, named);
      if (!target) return;
      keepRecent(expected, `${projectId}#${target}`, { startedAt: Date.parse(deps.now()), ahead: healthAhead(projectId, target)! }, 100);
    };
    try {
      if (r.kind === 'rollback') return start(r.projectId, r.alias ?? 'production', r.to);
      requestedWith(r.deploymentId).then((found) => found && start(found.projectId, found.alias, r.deploymentId), () => undefined);
    } catch {
      // A name the request's own command will refuse (the stream id cannot be made): nothing to start.
    }
  };

  const onBuildSucceeded = defineHandler({
    name: 'DeployOnBuildSucceeded',
    accepts: [EventType.BuildSucceeded],
    ...idem,
    handle: async (e, { logger }) => {
      const b = e.data;
      const urls = deps.host.urls({ projectId: b.projectId, deploymentId: b.deploymentId, alias: b.alias });
      // 1. publish (idempotent), then record it
      const t0 = Date.now();
      const published = await deps.host.publish({ projectId: b.projectId, deploymentId: b.deploymentId, artifactDir: b.artifact.uri.startsWith('file:') ? fileURLToPath(b.artifact.uri) : b.artifact.uri });
      // The health check starts now (its first request starts the version's function), while the
      // publish is recorded and the release state read; it is used only if the deployment can still go live.
      const ahead = healthAhead(b.projectId, b.deploymentId);
      await run(b.projectId, b.alias, () => ({
        type: 'Publish',
        build: b,
        assets: { uri: urls.deployment, fileCount: published.assets, totalBytes: b.artifact.sizeBytes, durationMs: Date.now() - t0 },
        fn: { functionName: `${b.projectId}-server`, version: published.functionVersion, codeSha256: b.artifact.sha256 },
      }), e.metadata);
      // 2. the health gate (only when the deployment could still go live), then decide, then move the alias
      const s = await releaseState(b.projectId, b.alias);
      const candidate = s.deployments[b.deploymentId]?.status === 'ready' && !s.history.includes(b.deploymentId);
      const health = candidate ? await (ahead?.report ?? checkHealth(b.projectId, b.deploymentId)) : {};
      if (health.health) logger.info('health checked', { path: health.health.path, observation: health.health.observation.kind, status: health.health.observation.kind === 'response' ? health.health.observation.status : null });
      const decided = await run(b.projectId, b.alias, () => ({
        type: 'GoLive',
        deploymentId: b.deploymentId,
        alias: b.alias,
        url: urls.deployment,
        // The production URL, or a preview branch's stable URL where the host gives one.
        aliasUrls: b.alias === 'production' ? [urls.production] : urls.alias ? [urls.alias] : [],
        now: deps.now(),
        ...health,
      }), e.metadata);
      await applyAlias(b.projectId, b.alias, decided);
      logger.info('release decided', { outcome: decided.appended.map((x) => x.type) });
    },
  });

  const onBuildEnded = defineHandler({
    name: 'DeployOnBuildEnded',
    accepts: [EventType.BuildFailed, EventType.BuildTimedOut],
    ...idem,
    handle: async (e) => {
      const queued = (await deps.store.readStream(streams.build(e.data.deploymentId))).find((x) => x.type === EventType.BuildQueued);
      const alias = (queued?.data as EventData<'BuildQueued'> | undefined)?.alias ?? 'production';
      const message = e.type === EventType.BuildFailed ? `build failed (${e.data.reason}): ${e.data.message}` : `build timed out after ${e.data.limitSeconds} s`;
      await run(e.data.projectId, alias, () => ({
        type: 'Fail', projectId: e.data.projectId, deploymentId: e.data.deploymentId, stage: 'build', message, buildId: e.data.buildId,
      }), e.metadata);
    },
  });

  const onReleaseRequest = defineHandler({
    name: 'DeployOnReleaseRequest',
    accepts: [EventType.RollbackRequested, EventType.PromoteRequested],
    // No idempotency record: the release stream is the record. Its state holds every request it
    // answered, so a request delivered again is answered with nothing (the alias is only moved
    // where the stream says), and a copy handled at the same time loses the append's expected
    // version and finds the answer when it reads again. A record's write would sit between the
    // delivery and the decision, on every rollback's and promote's way to the alias.
    // The target is checked like a new deployment; the decider refuses it if it is unhealthy.
    handle: async (e) => {
      const d = e.data;
      const named = e.type === EventType.RollbackRequested ? e.data.toDeploymentId : e.data.deploymentId;
      const stream = streams.release(d.projectId, d.alias);
      // A sole writer with a kept state reads nothing here; else the stream is read while the
      // target is probed. A state read this early is checked by the append's expected version
      // like any other: a writer in between makes `execute` read again.
      const kept = trustKept ? states.peek(stream) : undefined;
      const loading = kept ? undefined : states.load(stream);
      // The probe the API started as the request arrived (for the target named, or the one the
      // kept state derives), else one started now for a target the request names.
      const ahead = takeExpected(d.projectId, named ?? (kept ? rollbackTarget(kept.state) : undefined)) ?? healthAhead(d.projectId, named);
      // The deployment a state says is to be probed (none once the request is answered).
      const toCheck = (s: ReleaseState): string | undefined => (isAnswered(s, e.metadata.eventId) ? undefined : targetToProbe(s, named));
      let loaded = kept ?? (await loading!);
      let health: { health?: HealthReport } = {};
      for (let pass = 1; ; pass++) {
        const target = toCheck(loaded.state);
        if (target !== undefined && health.health?.deploymentId !== target) {
          health = ahead?.deploymentId === target ? await ahead.report : await checkHealth(d.projectId, target);
        }
        const cmd: DeployCommand =
          e.type === EventType.RollbackRequested
            ? { type: 'Rollback', projectId: d.projectId, alias: d.alias, ...(e.data.toDeploymentId ? { to: e.data.toDeploymentId } : {}), requestedBy: d.requestedBy, reason: e.data.reason, requestId: e.metadata.eventId, ...health }
            : { type: 'Promote', projectId: d.projectId, alias: d.alias, deploymentId: e.data.deploymentId, requestedBy: d.requestedBy, requestId: e.metadata.eventId, ...health };
        // Decided only on a state that needs no probe but the one made: a state read (or kept)
        // before the decision's may have said the target needed none (it was live, or not yet
        // published), and one decided on after a conflict may need another.
        const decided = await run(d.projectId, d.alias, (s) => {
          const needed = toCheck(s);
          return needed === undefined || needed === health.health?.deploymentId ? cmd : undefined;
        }, e.metadata, pass === 1 && kept ? undefined : loaded);
        // A kept state goes to `execute` as unread (trusted) the first time, a read one as read.
        if (decided.command !== undefined) return applyAlias(d.projectId, d.alias, decided);
        if (pass >= 3) throw new Error(`the ${d.alias} release of ${d.projectId} changed while its target was being checked, three times; trying again`);
        loaded = { state: decided.before, version: decided.version };
      }
    },
  });

  // The project's mounts as its stream says now, whatever order the changes arrive in (each
  // change carries the whole list; a late one must not win over a newer one).
  const onMountsChanged = defineHandler({
    name: 'DeployOnMountsChanged',
    accepts: [EventType.ProjectMountsChanged],
    ...idem,
    handle: async (e, { logger }) => {
      if (!deps.host.routeMounts) return logger.info('the site host routes mounts from the read model');
      const history = await deps.store.readStream(streams.project(e.data.projectId));
      const last = history.findLast((x) => x.type === EventType.ProjectMountsChanged);
      await deps.host.routeMounts(e.data.projectId, (last?.data as EventData<'ProjectMountsChanged'> | undefined)?.mounts ?? []);
    },
  });

  return { onBuildSucceeded, onBuildEnded, onReleaseRequest, onMountsChanged, applyAlias, expectRelease };
};

/**
 * A keyed mutex for one process: calls with the same key run one after another.
 *
 * @example
 * const withLock = keyedLock();
 * await withLock('web#production', () => shift());
 */
export const keyedLock = () => {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return next;
  };
};
