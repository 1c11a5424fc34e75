import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { processTree } from '../support/processes.ts';

/**
 * Shared bench vocabulary. Every suite returns rows; `run.ts` prints them as a table and
 * writes them to `test/bench/results/latest.json`.
 *
 * @example
 * const samples = await sample(200, () => store.append(...));
 * rows.push(latencyRow('append 1 event (store)', samples, baselineSamples));
 */
export interface BenchRow {
  name: string;
  unit: string;
  p50: number | null;
  p99: number | null;
  value: number | null;
  baseline: number | null;
  ratio: number | null;
}

export interface BenchContext {
  /**
   * The endpoint of a DynamoDB Local of this suite's own (in memory): started on the first call
   * (later calls get the same one) and stopped when the suite is over. A suite that never calls
   * it starts no JVM.
   */
  dynamo(): Promise<string>;
  /**
   * CPU seconds (user + system) that this suite's DynamoDB Local has used so far, its JVM and
   * any process under it (from `/proc`). Refuses before `dynamo()` was called.
   */
  dynamoCpuSeconds(): Promise<number>;
}

export type BenchSuite = (ctx: BenchContext) => Promise<BenchRow[]>;

let clockTicks: number | undefined;
/**
 * CPU seconds (user + system) used so far by a process and every process under it that is still
 * running, read from `/proc` (Linux).
 *
 * @example
 * const before = treeCpuSeconds(db.pid); await work(); treeCpuSeconds(db.pid) - before;
 */
export const treeCpuSeconds = (pid: number): number => {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  if (!existsSync(`/proc/${pid}/stat`)) throw new Error(`no process ${pid} in /proc`);
  let ticks = 0;
  for (const id of processTree(pid)) {
    try {
      // Fields after the command (which may hold spaces, so read after its closing parenthesis):
      // utime is the 12th, stime the 13th.
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / clockTicks;
};

export const percentile = (sorted: number[], p: number): number => {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
};

export const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

/** Runs `fn` `n` times sequentially and returns each duration in milliseconds, sorted. */
export const sample = async (n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
};

/** A latency row: p50/p99 of `samples` in ms, with the baseline's p50 and the ratio p50 / baseline p50. */
export const latencyRow = (name: string, samples: number[], baseline?: number[]): BenchRow => {
  const p50 = percentile(samples, 50);
  const base = baseline ? percentile(baseline, 50) : null;
  return {
    name,
    unit: 'ms',
    p50: round(p50),
    p99: round(percentile(samples, 99)),
    value: null,
    baseline: base === null ? null : round(base),
    ratio: base === null || base === 0 ? null : round(p50 / base),
  };
};

/** A rate row (per second), with an optional baseline rate and the ratio value / baseline. */
export const rateRow = (name: string, unit: string, value: number, baseline?: number): BenchRow => ({
  name,
  unit,
  p50: null,
  p99: null,
  value: round(value, 1),
  baseline: baseline === undefined ? null : round(baseline, 1),
  ratio: baseline === undefined || baseline === 0 ? null : round(value / baseline),
});
