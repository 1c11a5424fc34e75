import { fileURLToPath } from 'node:url';
import { EventType, type EventData, streams } from '../../events/index.ts';
import type { EventMetadata, EmitContext } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { defineHandler, execute, fold, type IdempotencyOptions } from '../shell/index.ts';
import { releaseDecider, type DeployCommand, type ReleaseState } from './decider.ts';
import type { SiteHost } from './ports.ts';

export interface DeployServiceDeps {
  store: EventStore;
  host: SiteHost;
  ids: () => string;
  now: () => string;
  /** Serializes work on one alias (locally an in-process mutex). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  idempotency?: IdempotencyOptions;
}

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
  const run = (projectId: string, alias: string, cmd: (s: ReleaseState) => DeployCommand | undefined, cause: EventMetadata) =>
    execute(deps.store, streams.release(projectId, alias), decider, cmd, ctx(cause));

  // The alias follows the release stream: under the alias lock, read what the stream says is
  // live and point the host there. Whoever runs last sets the latest state, whatever the order.
  const applyAlias = (projectId: string, alias: string) =>
    deps.withLock(`${projectId}#${alias}`, async () => {
      const history = await deps.store.readStream(streams.release(projectId, alias));
      const { live } = fold(decider, history);
      if (live && (await deps.host.aliasTarget(projectId, alias)) !== live) {
        await deps.host.shiftAlias({ projectId, alias, deploymentId: live });
      }
    });

  const onBuildSucceeded = defineHandler({
    name: 'DeployOnBuildSucceeded',
    accepts: [EventType.BuildSucceeded],
    ...idem,
    handle: async (e, { logger }) => {
      const b = e.data;
      const urls = deps.host.urls({ projectId: b.projectId, deploymentId: b.deploymentId });
      // 1. publish (idempotent), then record it
      const t0 = Date.now();
      const published = await deps.host.publish({ projectId: b.projectId, deploymentId: b.deploymentId, artifactDir: b.artifact.uri.startsWith('file:') ? fileURLToPath(b.artifact.uri) : b.artifact.uri });
      await run(b.projectId, b.alias, () => ({
        type: 'Publish',
        build: b,
        assets: { uri: urls.deployment, fileCount: published.assets, totalBytes: b.artifact.sizeBytes, durationMs: Date.now() - t0 },
        fn: { functionName: `${b.projectId}-server`, version: published.functionVersion, codeSha256: b.artifact.sha256 },
      }), e.metadata);
      // 2. decide whether it goes live, then move the alias
      const { appended } = await run(b.projectId, b.alias, () => ({
        type: 'GoLive',
        deploymentId: b.deploymentId,
        url: urls.deployment,
        aliasUrls: b.alias === 'production' ? [urls.production] : [],
        now: deps.now(),
      }), e.metadata);
      await applyAlias(b.projectId, b.alias);
      logger.info('release decided', { outcome: appended.map((x) => x.type) });
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
    ...idem,
    handle: async (e) => {
      const d = e.data;
      const cmd: DeployCommand =
        e.type === EventType.RollbackRequested
          ? { type: 'Rollback', projectId: d.projectId, alias: d.alias, ...(e.data.toDeploymentId ? { to: e.data.toDeploymentId } : {}), requestedBy: d.requestedBy, reason: e.data.reason }
          : { type: 'Promote', projectId: d.projectId, alias: d.alias, deploymentId: e.data.deploymentId, requestedBy: d.requestedBy };
      await run(d.projectId, d.alias, () => cmd, e.metadata);
      await applyAlias(d.projectId, d.alias);
    },
  });

  return { onBuildSucceeded, onBuildEnded, onReleaseRequest, applyAlias };
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
