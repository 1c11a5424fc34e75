import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backoff } from '../../../../events/index.ts';
import type { LogStore } from '../../log-store.ts';
import type { BuildRunner, RunningBuild } from '../../ports.ts';
import type { BuildScheduler, ScheduledBuild, SchedulerEvents } from '../../scheduler.ts';

export interface LocalSchedulerOptions {
  dataDir: string;
  runner: BuildRunner;
  logs: LogStore;
  /** The env vars of the build's deployment (the versions it was requested with), decrypted only for the build. */
  envFor(b: ScheduledBuild): Promise<Record<string, string>>;
  events: SchedulerEvents;
  /** Builds at once; default 1 (a 2-core machine builds one Next.js app at a time well). */
  concurrency?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

interface Entry {
  b: ScheduledBuild;
  /** `done` once its end is stored (its journal entry is removed after that). */
  state: 'queued' | 'running' | 'done';
  interruptions: number;
  run?: RunningBuild;
  supersededBy?: string;
}

/**
 * A journaled build: what a previous run of this process left unfinished, and how many restarts
 * interrupted it so far.
 *
 * @example
 * for (const { build, interruptions } of scheduler.journaled()) console.log(build.deploymentId, interruptions);
 */
export interface JournaledBuild {
  build: ScheduledBuild;
  interruptions: number;
}

/**
 * The local scheduler: the port, plus what reconciliation needs of its on-disk journal.
 *
 * @example
 * const s: LocalScheduler = localScheduler(opts);
 * await s.resubmit(build, 1);
 */
export interface LocalScheduler extends BuildScheduler {
  /** The builds in the journal (unfinished as far as this scheduler knows). */
  journaled(): JournaledBuild[];
  /** Submits a build again after a restart, recording that it was interrupted `interruptions` times. */
  resubmit(b: ScheduledBuild, interruptions: number): Promise<void>;
  /** Drops a journal entry whose build reconciliation ended (or found ended). */
  forget(deploymentId: string): void;
}

/** Stopping: a store write that was being retried gives up; the journal keeps the build. */
class SchedulerStoppedError extends Error {
  override name = 'SchedulerStoppedError';
}

const retryDelay = backoff({ baseMs: 250, maxMs: 10_000 });

/**
 * The local build queue: a concurrency limit, lanes in which a newer request supersedes older
 * ones, and a small on-disk journal so a restart finds unfinished builds. A build leaves the
 * journal only after its end is stored (retried while the store is unreachable), so a crash at
 * any point loses no completion: reconciliation finds the build again.
 *
 * @example
 * const scheduler = localScheduler({ dataDir, runner, logs, envFor, events });
 */
export const localScheduler = (opts: LocalSchedulerOptions): LocalScheduler => {
  const concurrency = opts.concurrency ?? 1;
  const now = opts.now ?? Date.now;
  const dir = join(opts.dataDir, 'builds', 'queue');
  mkdirSync(dir, { recursive: true });
  const entries = new Map<string, Entry>();
  const pending = new Set<Promise<unknown>>();
  let stopped = false;

  const journalFile = (id: string) => join(dir, `${id}.json`);
  const writeJournal = (e: Entry) => {
    const file = journalFile(e.b.deploymentId);
    writeFileSync(`${file}.new`, JSON.stringify({ build: e.b, interruptions: e.interruptions }));
    renameSync(`${file}.new`, file);
  };
  const forget = (id: string) => rmSync(journalFile(id), { force: true });
  const report = (p: Promise<unknown>) => {
    const tracked = p.catch((err: unknown) => {
      if (!(err instanceof SchedulerStoppedError)) opts.onError?.(err);
    }).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };

  // A store write that must happen (a build's start or end): retried until it succeeds, e.g.
  // while DynamoDB Local restarts; given up only when the scheduler stops.
  const persist = async <T>(what: string, write: () => Promise<T>, attempts = Infinity): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      if (stopped) throw new SchedulerStoppedError(`stopped before ${what} was stored`);
      try {
        return await write();
      } catch (err) {
        if (attempt + 1 >= attempts) throw err;
        opts.onError?.(new Error(`${what}: ${(err as Error).message} (retrying)`));
        await new Promise((r) => setTimeout(r, retryDelay(attempt)));
      }
    }
  };

  const running = () => [...entries.values()].filter((e) => e.state === 'running').length;

  const start = (e: Entry) => {
    e.state = 'running';
    const id = e.b.deploymentId;
    report(
      (async () => {
        // The env vars come from the store: retried a while (a database restart), then the build fails.
        const env = await persist(`the env vars of ${id}`, () => opts.envFor(e.b), 8).catch((err: unknown) => err as Error);
        const run: RunningBuild = env instanceof Error
          ? { outcome: Promise.resolve({ ok: false, reason: 'infrastructure', exitCode: null, message: `could not read the build's env vars: ${env.message}`, logTail: [] }), cancel: () => undefined }
          : opts.runner.start({ ...e.b.job, env }, (line, stream) => opts.logs.append(id, stream, line));
        e.run = run;
        if (e.supersededBy) run.cancel(`superseded by ${e.supersededBy}`);
        const started = persist(`BuildStarted of ${id}`, () =>
          opts.events.started(e.b, { runnerBuildId: `local-${id}`, deadlineAt: new Date(now() + e.b.job.timeoutMs).toISOString() }));
        started.catch(() => undefined);
        const outcome = await run.outcome;
        // Stopping: the build stays journaled and unfinished; the next start reconciles it.
        if (stopped) return;
        await started;
        // The end is stored first, the journal entry removed after: never the other way round.
        if (!outcome.ok && outcome.reason === 'canceled' && e.supersededBy) {
          const by = e.supersededBy;
          await persist(`BuildCanceled of ${id}`, () => opts.events.superseded(e.b, by));
        } else {
          await persist(`the end of ${id}`, () => opts.events.finished(e.b, outcome));
        }
        e.state = 'done';
        opts.logs.close(id);
        forget(id);
      })().finally(pump),
    );
  };

  function pump() {
    if (stopped) return;
    const queued = [...entries.values()].filter((e) => e.state === 'queued').sort((a, b) => (a.b.requestedAt < b.b.requestedAt ? -1 : 1));
    for (const e of queued) {
      if (running() >= concurrency) return;
      start(e);
    }
  }

  const supersede = (older: Entry, by: string) => {
    older.supersededBy = by;
    if (older.state === 'queued') {
      older.state = 'done';
      opts.logs.append(older.b.deploymentId, 'system', `Canceled before it started: superseded by ${by}`);
      opts.logs.close(older.b.deploymentId);
      report(persist(`BuildCanceled of ${older.b.deploymentId}`, () => opts.events.superseded(older.b, by)).then(() => forget(older.b.deploymentId)));
    } else if (older.state === 'running') {
      older.run?.cancel(`superseded by ${by}`);
    }
  };

  const submitWith = async (b: ScheduledBuild, interruptions: number) => {
    if (entries.has(b.deploymentId)) return;
    const entry: Entry = { b, state: 'queued', interruptions };
    entries.set(b.deploymentId, entry);
    writeJournal(entry);
    const lane = [...entries.values()].filter((e) => e !== entry && e.b.lane === b.lane && e.state !== 'done');
    const newer = lane.find((e) => e.b.requestedAt > b.requestedAt);
    if (newer) return supersede(entry, newer.b.deploymentId);
    for (const older of lane) supersede(older, b.deploymentId);
    opts.logs.append(
      b.deploymentId,
      'system',
      interruptions > 0 ? `Resumed after shiplog restarted (interruption ${interruptions}); queued again` : `Queued (${running()} running, limit ${concurrency})`,
    );
    pump();
  };

  const journaled = (): JournaledBuild[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => {
        try {
          const j = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { build?: ScheduledBuild; interruptions?: number } & Partial<ScheduledBuild>;
          // Older journals held the bare ScheduledBuild.
          const build = j.build ?? (j as ScheduledBuild);
          return [{ build, interruptions: j.interruptions ?? 0 }];
        } catch {
          return [];
        }
      });

  return {
    submit: (b) => submitWith(b, 0),
    resubmit: submitWith,
    journaled,
    forget,
    active: () =>
      [...entries.values()]
        .filter((e): e is Entry & { state: 'queued' | 'running' } => e.state !== 'done')
        .map((e) => ({ deploymentId: e.b.deploymentId, state: e.state })),
    resume: async () => {
      const found = journaled();
      for (const j of found) await submitWith(j.build, j.interruptions + 1);
      return found.length;
    },
    stop: async () => {
      stopped = true;
      // Unfinished builds stay in the journal and are reconciled on the next start.
      for (const e of entries.values()) if (e.state === 'running') e.run?.cancel('shiplog is stopping');
      await Promise.allSettled([...pending]);
    },
  };
};
