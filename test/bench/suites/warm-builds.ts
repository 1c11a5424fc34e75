import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentOfHead, gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../../support/local-shiplog.ts';
import { latencyRow, type BenchRow, type BenchSuite } from '../lib.ts';

// Cold vs warm push → live of the same app on a real `shiplog dev`: each pair is a new project
// (nothing in its build cache) pushed twice with the same lockfile; the second push restores
// node_modules, the package store and .next/cache (services/build/adapters/runner/build-cache.ts).
// BENCH_WARM_PAIRS pairs (2 by default: four real Next.js builds, a few minutes).
const fixture = new URL('../../fixtures/next-app/', import.meta.url).pathname;
const PAIRS = Number(process.env.BENCH_WARM_PAIRS ?? 2);

const setMarker = (dir: string, marker: string) => {
  const file = join(dir, 'app', 'marker.js');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/BUILD_MARKER = '[^']*'/, `BUILD_MARKER = '${marker}'`));
};

// "build succeeded in checkout 419 ms, install 16652 ms, build 22750 ms, package 16077 ms"
const installMs = (log: string): number => {
  const m = /build succeeded in checkout \d+ ms, install (\d+) ms/.exec(log);
  if (!m) throw new Error('no phase timings in the build log');
  return Number(m[1]);
};

const pushAndTime = async (sl: LocalShiplog, project: string, work: string, remote: string, message: string) => {
  gitCommitAll(work, message);
  const t0 = performance.now();
  gitPush(work, remote);
  const id = await deploymentOfHead(sl, project, work);
  const wait = sl.cli(['deployments', 'wait', id, '--timeout', '600'], 700_000);
  if (wait.status !== 0) throw new Error(`deployment ${id} did not go live: ${wait.stderr}`);
  const total = performance.now() - t0;
  const log = sl.cli(['logs', id]).stdout;
  return { total, install: installMs(log), log };
};

export const warmBuildsBench: BenchSuite = async () => {
  const sl = await startShiplog();
  const cold: { total: number; install: number }[] = [];
  const warm: { total: number; install: number }[] = [];
  try {
    for (let i = 0; i < PAIRS; i++) {
      const project = `warm-${i}`;
      const work = mkdtempSync(join(tmpdir(), 'shiplog-bench-warm-'));
      try {
        cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
        spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work });
        const { gitRemote } = sl.json<{ gitRemote: string }>(['projects', 'create', project]);
        setMarker(work, `${project}-cold`);
        cold.push(await pushAndTime(sl, project, work, gitRemote, 'cold'));
        setMarker(work, `${project}-warm`);
        const second = await pushAndTime(sl, project, work, gitRemote, 'warm');
        if (!second.log.includes('install: skipped, node_modules restored')) throw new Error(`the warm push of ${project} did not restore node_modules:\n${second.log.slice(-3000)}`);
        warm.push(second);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  } finally {
    await sl.stop();
  }
  const sorted = (xs: { total: number; install: number }[], k: 'total' | 'install') => xs.map((x) => x[k]).sort((a, b) => a - b);
  const rows: BenchRow[] = [
    latencyRow(`push → live, cold build cache: first push of a project (n=${PAIRS})`, sorted(cold, 'total')),
    latencyRow(`push → live, warm build cache: same lockfile pushed again (n=${PAIRS}; vs cold)`, sorted(warm, 'total'), sorted(cold, 'total')),
    latencyRow(`install phase, warm build cache (n=${PAIRS}; vs cold)`, sorted(warm, 'install'), sorted(cold, 'install')),
  ];
  return rows;
};
