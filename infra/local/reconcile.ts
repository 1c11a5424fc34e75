import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventStore } from '../../events/store/index.ts';
import type { LogStore, ReconcileSighting } from '../../services/build/index.ts';
import { killRecordedGroup, phaseLabel, readProcessRecord } from '../../services/build/adapters/runner/process-record.ts';
import type { LocalScheduler } from '../../services/build/adapters/scheduler/local.ts';

const ended = new Set(['BuildSucceeded', 'BuildFailed', 'BuildCanceled', 'BuildTimedOut']);

/**
 * Options of {@link buildReconciler}.
 *
 * @example
 * buildReconciler({ store, build, scheduler, logs, workRoot, maxResumes: 1, log: console.error });
 */
export interface BuildReconcilerDeps {
  store: EventStore;
  build: { reconcileBuild(deploymentId: string, seen: ReconcileSighting): Promise<'none' | 'resume' | 'interrupt'> };
  scheduler: LocalScheduler;
  logs: LogStore;
  /** The runner's `<dataDir>/builds/work`. */
  workRoot: string;
  /** Restarts a build survives before it fails; default 1. */
  maxResumes?: number;
  /**
   * Points a host alias where its release stream says (the deploy service's `applyAlias`): a run
   * killed between `AliasShifted` and the pointer's rename left the host behind the store.
   */
  aliases?: { applyAlias(projectId: string, alias: string): Promise<void> };
  log: (line: string) => void;
}

/**
 * Reconciliation of the local runtime: finds every build that has not ended (an incremental
 * scan of the store, plus the scheduler's journal) and, for each one no runner of this process
 * holds, lets the build service decide: resume it or fail it as interrupted. Run once at start
 * and then on a timer, so no deployment stays "building".
 *
 * @example
 * const reconciler = buildReconciler(deps);
 * await reconciler.pass(); // { resumed: 1, interrupted: 0 }
 * const timer = reconciler.every(60_000);
 */
export const buildReconciler = (deps: BuildReconcilerDeps) => {
  const maxResumes = deps.maxResumes ?? 1;
  const open = new Set<string>();
  const releases = new Map<string, { projectId: string; alias: string }>();
  let cursor: string | null = null;
  let running: Promise<{ resumed: number; interrupted: number }> | undefined;

  // The builds that have not ended, folded from the store's global order from where we left off.
  const scan = async () => {
    for (;;) {
      const page = await deps.store.readAll({ cursor, limit: 500 });
      for (const e of page.events) {
        const { streamId, projectId } = e.metadata;
        if (e.type === 'AliasShifted' && projectId && streamId.startsWith(`release#${projectId}#`)) {
          releases.set(streamId, { projectId, alias: streamId.slice(`release#${projectId}#`.length) });
        }
        if (!streamId.startsWith('build#') || !e.metadata.deploymentId) continue;
        if (e.type === 'BuildQueued') open.add(e.metadata.deploymentId);
        else if (ended.has(e.type)) open.delete(e.metadata.deploymentId);
      }
      cursor = page.cursor ?? cursor;
      if (page.events.length < 500) return;
    }
  };

  const once = async () => {
    await scan();
    for (const { projectId, alias } of deps.aliases ? releases.values() : []) {
      await deps.aliases!.applyAlias(projectId, alias).catch((err: unknown) => deps.log(`shiplog: could not point ${projectId}/${alias} where its release stream says: ${(err as Error).message}`));
    }
    // Taken before the streams are read: a build a runner held then is left alone, and one that
    // started since is queued already (a resubmit of it does nothing).
    const active = new Set(deps.scheduler.active().map((a) => a.deploymentId));
    const journal = new Map(deps.scheduler.journaled().map((j) => [j.build.deploymentId, j]));
    let resumed = 0;
    let interrupted = 0;
    for (const id of new Set([...open, ...journal.keys()])) {
      if (active.has(id)) continue;
      const j = journal.get(id);
      const dir = join(deps.workRoot, id);
      const phase = phaseLabel(readProcessRecord(dir)?.phase);
      const logTail = (await deps.logs.read(id)).slice(-30).map((l) => l.text.slice(0, 1000));
      const action = await deps.build.reconcileBuild(id, {
        active: false, interruptions: j?.interruptions ?? 0, maxResumes, phase, logTail,
        ...(j ? { journaled: j.build } : {}),
        resubmit: (b, n) => deps.scheduler.resubmit(b, n),
      });
      if (action === 'resume') {
        resumed++;
        deps.log(`shiplog: resumed the build of ${id} (interrupted during ${phase})`);
        continue;
      }
      if (action === 'interrupt') {
        interrupted++;
        deps.log(`shiplog: failed the build of ${id}: interrupted during ${phase}, ${j?.interruptions ?? 0} resume(s) already`);
        deps.logs.append(id, 'system', `interrupted: shiplog restarted during ${phase}; not resumed again`);
        deps.logs.close(id);
        await killRecordedGroup(dir);
        await rm(dir, { recursive: true, force: true });
      }
      // Ended (now or before): nothing to run, nothing to keep in the journal.
      open.delete(id);
      deps.scheduler.forget(id);
    }
    return { resumed, interrupted };
  };

  /** One reconciliation; concurrent calls share it. */
  const pass = () => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    pass,
    /** Reconciles every `ms`; returns the timer (unref'd) to clear on stop. */
    every: (ms: number): NodeJS.Timeout => {
      const timer = setInterval(() => {
        pass().catch((err: unknown) => deps.log(`shiplog: reconciliation failed: ${(err as Error).message}`));
      }, ms);
      timer.unref();
      return timer;
    },
  };
};
