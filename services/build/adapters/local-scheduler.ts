import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogStore } from '../log-store.ts';
import type { BuildRunner, RunningBuild } from '../ports.ts';
import type { BuildScheduler, ScheduledBuild, SchedulerEvents } from '../scheduler.ts';

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
  state: 'queued' | 'running' | 'done';
  run?: RunningBuild;
  supersededBy?: string;
}

/**
 * The local build queue: a concurrency limit, lanes in which a newer request supersedes older
 * ones, and a small on-disk journal so a restart resumes unfinished builds.
 *
 * @example
 * const scheduler = localScheduler({ dataDir, runner, logs, envFor, events });
 */
export const localScheduler = (opts: LocalSchedulerOptions): BuildScheduler => {
  const concurrency = opts.concurrency ?? 1;
  const now = opts.now ?? Date.now;
  const dir = join(opts.dataDir, 'builds', 'queue');
  mkdirSync(dir, { recursive: true });
  const entries = new Map<string, Entry>();
  const pending = new Set<Promise<unknown>>();
  let stopped = false;

  const journalFile = (id: string) => join(dir, `${id}.json`);
  const report = (p: Promise<unknown>) => {
    const tracked = p.catch((err: unknown) => opts.onError?.(err)).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };

  const finish = (e: Entry) => {
    e.state = 'done';
    rmSync(journalFile(e.b.deploymentId), { force: true });
  };

  const running = () => [...entries.values()].filter((e) => e.state === 'running').length;

  const start = (e: Entry) => {
    e.state = 'running';
    report(
      (async () => {
        const env = await opts.envFor(e.b);
        const run = opts.runner.start({ ...e.b.job, env }, (line, stream) => opts.logs.append(e.b.deploymentId, stream, line));
        e.run = run;
        if (e.supersededBy) run.cancel(`superseded by ${e.supersededBy}`);
        await opts.events.started(e.b, {
          runnerBuildId: `local-${e.b.deploymentId}`,
          deadlineAt: new Date(now() + e.b.job.timeoutMs).toISOString(),
        });
        const outcome = await run.outcome;
        // Stopping: the build stays journaled and unfinished, and is resumed on the next start.
        if (stopped) return;
        opts.logs.close(e.b.deploymentId);
        finish(e);
        if (!outcome.ok && outcome.reason === 'canceled' && e.supersededBy) await opts.events.superseded(e.b, e.supersededBy);
        else await opts.events.finished(e.b, outcome);
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
      finish(older);
      opts.logs.append(older.b.deploymentId, 'system', `Canceled before it started: superseded by ${by}`);
      opts.logs.close(older.b.deploymentId);
      report(opts.events.superseded(older.b, by));
    } else if (older.state === 'running') {
      older.run?.cancel(`superseded by ${by}`);
    }
  };

  const submit = async (b: ScheduledBuild) => {
    if (entries.has(b.deploymentId)) return;
    const entry: Entry = { b, state: 'queued' };
    entries.set(b.deploymentId, entry);
    writeFileSync(journalFile(b.deploymentId), JSON.stringify(b));
    const lane = [...entries.values()].filter((e) => e !== entry && e.b.lane === b.lane && e.state !== 'done');
    const newer = lane.find((e) => e.b.requestedAt > b.requestedAt);
    if (newer) return supersede(entry, newer.b.deploymentId);
    for (const older of lane) supersede(older, b.deploymentId);
    opts.logs.append(b.deploymentId, 'system', `Queued (${running()} running, limit ${concurrency})`);
    pump();
  };

  return {
    submit,
    active: () =>
      [...entries.values()]
        .filter((e): e is Entry & { state: 'queued' | 'running' } => e.state !== 'done')
        .map((e) => ({ deploymentId: e.b.deploymentId, state: e.state })),
    resume: async () => {
      const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      for (const f of files) await submit(JSON.parse(readFileSync(join(dir, f), 'utf8')) as ScheduledBuild);
      return files.length;
    },
    stop: async () => {
      stopped = true;
      // Unfinished builds stay in the journal and are resumed on the next start.
      for (const e of entries.values()) if (e.state === 'running') e.run?.cancel('shiplog is stopping');
      await Promise.allSettled([...pending]);
    },
  };
};
