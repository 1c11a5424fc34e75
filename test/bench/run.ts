import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDynamoLocal, type DynamoLocal } from '../../infra/local/dynamodb-local.ts';
import { killGroup, runProcess } from '../../services/build/adapters/runner/process.ts';
import { treeCpuSeconds, type BenchContext, type BenchRow } from './lib.ts';
import { suites } from './suites/index.ts';

// `npm run bench [-- filter]`: every suite once, in the order of suites/index.ts.
// - filter: a part of a suite's name (`dash`), or suites' names separated by commas
//   (`dashboard,deployments`: exactly those, in that order; `outbox,` names one exactly).
// - Each suite runs in a process of its own: the dashboard suite serves Next.js in-process, and
//   Next replaces process-wide globals for good (fetch, setImmediate, process.nextTick, Date,
//   console, NODE_ENV=production, …). With its fetch, a response body that is cancelled settles
//   only once the garbage collector has run, so the deployments suite after it waited minutes
//   per followed event stream in a shared process (73 s alone).
// - A suite that asks for a database (`ctx.dynamo()`) gets a DynamoDB Local of its own (in
//   memory), stopped after it: what one suite leaves behind (the projections suite's
//   100,000-event store) must not slow the next one down (the release-history suite took over 13
//   minutes after it, 40 s alone). A suite that asks for none starts no JVM.
// - After each suite its rows are printed and test/bench/results/latest.json is written: a
//   filtered run keeps the file's rows of other suites, a whole run keeps none.
// - BENCH_SUITE_TIMEOUT_S (default 1200): a suite still running after that many seconds is
//   killed (its process group: its DynamoDB Local too) and counts as failed (timed out).
// - A suite that fails or times out is named at the end and the run exits 1; the others' rows
//   are still written.

const self = fileURLToPath(import.meta.url);

// The suite's database, started on its first `dynamo()`; after the suite, `dynamo()` refuses.
const suiteContext = (name: string): { ctx: BenchContext; stop: () => Promise<void> } => {
  let db: Promise<DynamoLocal> | undefined;
  let over = false;
  return {
    ctx: {
      dynamo: async () => {
        if (over) throw new Error(`the ${name} suite is over: no database for it any more`);
        db ??= startDynamoLocal({ inMemory: true });
        return (await db).endpoint;
      },
      dynamoCpuSeconds: async () => {
        if (!db) throw new Error(`the ${name} suite has no database yet: call dynamo() first`);
        return treeCpuSeconds((await db).pid);
      },
    },
    stop: async () => {
      over = true;
      await (await db?.catch(() => undefined))?.stop();
    },
  };
};

// `run.ts --suite <name> <rows.json>`: one suite, in this process; its rows go to the file.
const runOne = async (name: string, rowsFile: string): Promise<never> => {
  const { ctx, stop } = suiteContext(name);
  let code = 0;
  try {
    writeFileSync(rowsFile, JSON.stringify(await suites[name]!(ctx)));
  } catch (e) {
    code = 1;
    process.stderr.write(`bench: ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  } finally {
    await stop();
  }
  // What a suite leaves running (Next.js's workers and timers) must not keep its process alive.
  process.exit(code);
};

// The running suite's run: aborting it stops the suite's process group (SIGTERM, then SIGKILL).
let current: AbortController | undefined;

// One suite in a child process, in a process group of its own (runProcess), so a timeout kills its JVM too.
const runChild = async (name: string, timeoutS: number): Promise<{ rows?: BenchRow[]; timedOut: boolean }> => {
  const dir = mkdtempSync(join(tmpdir(), 'shiplog-bench-rows-'));
  const rowsFile = join(dir, 'rows.json');
  const ctl = new AbortController();
  current = ctl;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, timeoutS * 1000);
  let pgid: number | undefined;
  const r = await runProcess(process.execPath, [...process.execArgv, self, '--suite', name, rowsFile], {
    cwd: process.cwd(),
    env: process.env as Record<string, string>,
    signal: ctl.signal,
    killGraceMs: 5000,
    onLine: (line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`),
    onSpawn: (pid) => (pgid = pid),
  });
  clearTimeout(timer);
  current = undefined;
  // Nothing of the suite's group may outlive it: a JVM that ignored SIGTERM, a worker the suite left.
  if (pgid !== undefined) killGroup(pgid, 'SIGKILL');
  if (r.spawnError) process.stderr.write(`bench: ${name}: ${r.spawnError.message}\n`);
  const rows = r.exitCode === 0 && existsSync(rowsFile) ? (JSON.parse(readFileSync(rowsFile, 'utf8')) as BenchRow[]) : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { ...(rows ? { rows } : {}), timedOut };
};

const runAll = async (): Promise<never> => {
  const filter = process.argv[2];
  const names = filter?.includes(',') ? filter.split(',').map((n) => n.trim()).filter((n) => n !== '') : undefined;
  const unknown = names?.filter((n) => !(n in suites)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`bench: no suite named ${unknown.join(', ')} (suites: ${Object.keys(suites).join(', ')})\n`);
    process.exit(2);
  }
  const chosen = names ?? Object.keys(suites).filter((name) => !filter || name.includes(filter));
  const timeoutS = Number(process.env.BENCH_SUITE_TIMEOUT_S ?? 1200);
  if (!(timeoutS > 0)) {
    process.stderr.write(`bench: BENCH_SUITE_TIMEOUT_S must be a number of seconds above 0, not "${process.env.BENCH_SUITE_TIMEOUT_S}"\n`);
    process.exit(2);
  }
  // The children are in process groups of their own: an interrupt stops the one running, and the run.
  let interrupted: NodeJS.Signals | undefined;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      interrupted = signal;
      current?.abort();
    });
  }

  const out = join(dirname(self), 'results', 'latest.json');
  // A filtered run updates its own rows and keeps the others' (as the file had them when it began).
  const previous: BenchRow[] = filter && existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as BenchRow[]) : [];
  const rows: BenchRow[] = [];
  const write = () => {
    mkdirSync(dirname(out), { recursive: true });
    const mine = new Set(rows.map((r) => r.name));
    writeFileSync(out, `${JSON.stringify([...previous.filter((r) => !mine.has(r.name)), ...rows], null, 2)}\n`);
  };
  const fmt = (n: number | null) => (n === null ? '' : String(n));
  const header = ['name', 'unit', 'p50', 'p99', 'value', 'baseline', 'ratio'];
  const print = (suiteRows: BenchRow[]) => {
    const table = [header, ...suiteRows.map((r) => [r.name, r.unit, fmt(r.p50), fmt(r.p99), fmt(r.value), fmt(r.baseline), fmt(r.ratio)])];
    const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) process.stdout.write(`${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`);
  };

  // A suite that fails or times out is named at the end (and the run exits 1).
  const failed: string[] = [];
  for (const name of chosen) {
    if (interrupted) break;
    process.stderr.write(`bench: ${name}\n`);
    const t0 = performance.now();
    const { rows: suiteRows, timedOut } = await runChild(name, timeoutS);
    const took = `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    if (suiteRows) {
      rows.push(...suiteRows);
      print(suiteRows);
      write();
      process.stderr.write(`bench: ${name} done in ${took}\n`);
    } else if (interrupted) {
      process.stderr.write(`bench: ${name} stopped (${interrupted})\n`);
    } else {
      failed.push(timedOut ? `${name} (timed out)` : name);
      process.stderr.write(`bench: ${name} ${timedOut ? `timed out after ${timeoutS} s (BENCH_SUITE_TIMEOUT_S) and was killed` : 'failed'} (${took})\n`);
    }
  }
  // An interrupted run leaves the file as its last finished suite wrote it.
  if (!interrupted) {
    write();
    process.stdout.write(`\n${rows.length} rows written to ${out}\n`);
  }
  if (failed.length > 0) process.stderr.write(`bench: ${failed.length} suite(s) failed: ${failed.join(', ')}\n`);
  if (interrupted) process.exit(128 + osConstants.signals[interrupted]);
  process.exit(failed.length > 0 ? 1 : 0);
};

if (process.argv[2] === '--suite') await runOne(process.argv[3]!, process.argv[4]!);
else await runAll();
