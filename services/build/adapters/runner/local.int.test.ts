import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildJob, LogStream } from '../../ports.ts';
import { installKey } from './build-cache.ts';
import { chooseInstall, installShellCommand, readInstallSite } from './install-command.ts';
import { localBuildRunner, removeAside } from './local.ts';
import { customDistDirMessage, noNextBuildMessage, staticExportMessage } from './build-output.ts';
import { groupMembers, killRecordedGroup, readProcessRecord } from './process-record.ts';

// A tiny repository with no Next app: these tests exercise the runner's process handling
// (environment, failures, cancel, timeout). The real build is in test/e2e/serving.e2e.test.ts.
let root: string;
let repo: string;
let sha: string;

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=test@shiplog.dev', '-c', 'user.name=test', ...args], { cwd: repo, encoding: 'utf8' }).trim();

const printEnv = (label: string) =>
  `node -e 'for (const [k, v] of Object.entries(process.env)) console.log("${label} " + k + "=" + v)'`;

const job = (over: Partial<BuildJob>): BuildJob => ({
  deploymentId: `d${Math.random().toString(36).slice(2, 10)}`,
  projectId: 'web',
  repo,
  sha,
  rootDir: '.',
  installCommand: 'true',
  buildCommand: 'true',
  env: {},
  timeoutMs: 60_000,
  ...over,
});

const run = async (j: BuildJob) => {
  const lines: { line: string; stream: LogStream }[] = [];
  const runner = localBuildRunner({ workRoot: join(root, 'work'), killGraceMs: 500 });
  const running = runner.start(j, (line, stream) => lines.push({ line, stream }));
  return { running, lines };
};

/** Alive and not a zombie: an orphan killed with its group may wait a moment for init to reap it. */
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : undefined;
  return stat === undefined ? true : stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-runner-'));
  repo = join(root, 'repo');
  execFileSync('git', ['init', '--quiet', repo]);
  await writeFile(join(repo, 'package.json'), '{ "name": "tiny", "private": true }\n');
  await writeFile(join(repo, 'package-lock.json'), '{ "lockfileVersion": 3, "packages": {} }\n');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'tiny');
  sha = git('rev-parse', 'HEAD');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('localBuildRunner', () => {
  it('gives commands the project env and basics, and nothing of shiplog\'s own', async () => {
    const leaks = { AWS_SECRET_ACCESS_KEY: 'leak', AWS_REGION: 'leak', SHIPLOG_ADMIN_TOKEN: 'leak', npm_package_name: 'shiplog', npm_config_local_prefix: '/work/main' };
    Object.assign(process.env, leaks);
    try {
      const j = job({ env: { PROJECT_VAR: 'yes', DATABASE_URL: 'postgres://app' }, installCommand: printEnv('INSTALL'), buildCommand: printEnv('BUILD') });
      const { running, lines } = await run(j);
      const outcome = await running.outcome;
      // No Next app in the tiny repo: nothing in .next to package.
      expect(outcome).toMatchObject({ ok: false, reason: 'build-failed', message: noNextBuildMessage });
      const envOf = (label: string) =>
        Object.fromEntries(lines.filter((l) => l.line.startsWith(`${label} `)).map((l) => l.line.slice(label.length + 1).split(/=(.*)/s).slice(0, 2)));
      for (const label of ['INSTALL', 'BUILD']) {
        const env = envOf(label);
        expect(env).toMatchObject({ PROJECT_VAR: 'yes', DATABASE_URL: 'postgres://app', CI: '1', NEXT_TELEMETRY_DISABLED: '1', PATH: process.env.PATH });
        expect(env).toMatchObject({ SHIPLOG_DEPLOYMENT_ID: j.deploymentId, SHIPLOG_PROJECT_ID: 'web', SHIPLOG_GIT_COMMIT_SHA: sha });
        for (const name of Object.keys(leaks)) expect(env).not.toHaveProperty(name);
        expect(env.TMPDIR).toBe(join(root, 'work', j.deploymentId, 'tmp'));
        expect(Object.keys(env).filter((k) => k.startsWith('AWS_') || k.startsWith('npm_package_'))).toEqual([]);
      }
      expect(envOf('INSTALL')).not.toHaveProperty('NODE_ENV');
      expect(envOf('BUILD')).toMatchObject({ NODE_ENV: 'production', NEXT_PRIVATE_STANDALONE: 'true' });
    } finally {
      for (const name of Object.keys(leaks)) delete process.env[name];
    }
  });

  it('reports a failing build command as build-failed with the log tail', async () => {
    const script = 'for i in $(seq 1 80); do echo "line $i"; done; echo "Type error: nope" >&2; exit 1';
    const { running } = await run(job({ buildCommand: script }));
    const outcome = await running.outcome;
    expect(outcome).toMatchObject({ ok: false, reason: 'build-failed', exitCode: 1 });
    if (outcome.ok) return;
    expect(outcome.message).toContain('exited with code 1');
    expect(outcome.logTail.length).toBeLessThanOrEqual(50);
    expect(outcome.logTail).toContain('Type error: nope');
    expect(outcome.logTail).toContain('line 80');
    expect(outcome.logTail).not.toContain('line 1');
  });

  it("runs the app's build script with its package manager when the project sets no build command", async () => {
    // A repository of its own: package.json has a build script (which fails, so nothing is packaged).
    const scripted = join(root, 'scripted');
    execFileSync('git', ['init', '--quiet', scripted]);
    await writeFile(join(scripted, 'package.json'), JSON.stringify({ name: 'scripted', private: true, scripts: { build: 'echo "script standalone=$NEXT_PRIVATE_STANDALONE" && exit 3' } }));
    await writeFile(join(scripted, 'package-lock.json'), '{ "lockfileVersion": 3, "packages": {} }\n');
    const g = (...args: string[]) => execFileSync('git', ['-c', 'user.email=test@shiplog.dev', '-c', 'user.name=test', ...args], { cwd: scripted, encoding: 'utf8' }).trim();
    g('add', '-A');
    g('commit', '--quiet', '-m', 'scripted');
    const { running, lines } = await run(job({ repo: scripted, sha: g('rev-parse', 'HEAD'), buildCommand: '' }));
    const outcome = await running.outcome;
    expect(outcome).toMatchObject({ ok: false, reason: 'build-failed', exitCode: 3, message: 'build command "npm run build" exited with code 3' });
    const text = lines.map((l) => l.line);
    expect(text).toContain('build: the build script of package.json ("echo \\"script standalone=$NEXT_PRIVATE_STANDALONE\\" && exit 3"), run with npm: npm run build');
    expect(text).toContain('$ npm run build');
    expect(text).toContain('script standalone=true');
  });

  it('refuses a static export with why and what to change, before OpenNext packages anything', async () => {
    // What next build leaves for output: 'export' (the real build is checked by hand; see the closing note).
    const { running, lines } = await run(job({ buildCommand: 'mkdir -p .next out && echo \'{"version":1,"success":true}\' > .next/export-detail.json && echo "<h1>hi</h1>" > out/index.html' }));
    const outcome = await running.outcome;
    expect(outcome).toMatchObject({ ok: false, reason: 'build-failed', exitCode: null, message: staticExportMessage });
    expect(lines.map((l) => l.line)).toContain(`build failed (build-failed): ${staticExportMessage}`);
    expect(lines.some((l) => l.line.includes('open-next.config.ts'))).toBe(false);
    // The same build without the export's marker goes on to OpenNext.
    const plain = await (await run(job({ buildCommand: 'mkdir -p .next out && echo b1 > .next/BUILD_ID && echo "<h1>hi</h1>" > out/index.html' }))).running.outcome;
    expect(plain).toMatchObject({ ok: false, reason: 'package-failed' });
  });

  it('refuses a build in a custom distDir, or none in .next, with why, before OpenNext packages anything', async () => {
    // What next build leaves with distDir: 'build' (OpenNext failed on a missing .next/server/middleware-manifest.json).
    const custom = await run(job({ buildCommand: 'mkdir -p .next/cache build && echo b1 > build/BUILD_ID && echo {} > build/required-server-files.json' }));
    const outcome = await custom.running.outcome;
    const message = customDistDirMessage.replaceAll('<distDir>', 'build');
    expect(outcome).toMatchObject({ ok: false, reason: 'build-failed', exitCode: null, message });
    expect(message).toContain("next.config sets distDir: 'build' (the build went to build/)");
    expect(custom.lines.some((l) => l.line.includes('open-next.config.ts'))).toBe(false);
    // A build command that ran no next build at all.
    expect(await (await run(job({ buildCommand: 'echo built nothing' }))).running.outcome).toMatchObject({ ok: false, reason: 'build-failed', message: noNextBuildMessage });
  });

  it('reports install and checkout failures as such', async () => {
    const install = await (await run(job({ installCommand: 'exit 7' }))).running.outcome;
    expect(install).toMatchObject({ ok: false, reason: 'install-failed', exitCode: 7 });
    const checkout = await (await run(job({ sha: 'f'.repeat(40) }))).running.outcome;
    expect(checkout).toMatchObject({ ok: false, reason: 'checkout-failed' });
    const escape = await (await run(job({ rootDir: '../..' }))).running.outcome;
    expect(escape).toMatchObject({ ok: false, reason: 'checkout-failed' });
    const unsafe = await (await run(job({ deploymentId: '..' }))).running.outcome;
    expect(unsafe).toMatchObject({ ok: false, reason: 'infrastructure' });
    expect(existsSync(repo)).toBe(true);
  });

  it('streams lines as they come, and cancel kills the whole process group', async () => {
    // The build runs in a sandbox with its own PID namespace: the host finds the grandchild by a marker argument.
    const marker = `grandchild-${Math.random().toString(36).slice(2)}`;
    const hostPid = () =>
      readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).find((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker);
        } catch {
          return false;
        }
      });
    const hang = `node -e 'setInterval(() => {}, 1000)' ${marker}`;
    const j = job({ buildCommand: `echo started; ${hang}; echo never` });
    const { running, lines } = await run(j);
    await expect.poll(() => lines.some((l) => l.line === 'started') && hostPid() !== undefined, { timeout: 20_000 }).toBe(true);
    const grandchild = hostPid()!;
    expect(isAlive(grandchild)).toBe(true);
    running.cancel('superseded by d2');
    const outcome = await running.outcome;
    expect(outcome).toMatchObject({ ok: false, reason: 'canceled', exitCode: null, message: 'canceled: superseded by d2' });
    await expect.poll(() => isAlive(grandchild), { timeout: 5_000 }).toBe(false);
    expect(lines.map((l) => l.line)).not.toContain('never');
    expect(existsSync(join(root, 'work', j.deploymentId))).toBe(false);
  });

  it('reports a successful build with only its artifact left in its folder, and removes its scratch after', async () => {
    // A stand-in for `open-next build`: it writes the output OpenNext would.
    const bin = join(root, 'node_modules', 'fake-open-next', 'index.js');
    await mkdir(dirname(bin), { recursive: true });
    await writeFile(bin, 'const fs = require("node:fs"); fs.mkdirSync(".open-next/assets", { recursive: true }); fs.writeFileSync(".open-next/open-next.output.json", "{}");\n');
    const j = job({ buildCommand: 'mkdir -p .next/standalone && echo x > .next/standalone/server.js && echo b1 > .next/BUILD_ID' });
    const runner = localBuildRunner({ workRoot: join(root, 'work'), killGraceMs: 500, openNextBin: bin, cacheRoot: false });
    const outcome = await runner.start(j, () => undefined).outcome;
    expect(outcome).toMatchObject({ ok: true, artifactDir: join(root, 'work', j.deploymentId, 'artifact') });
    expect(readdirSync(join(root, 'work', j.deploymentId))).toEqual(['artifact']);
    expect(readdirSync(join(root, 'work', j.deploymentId, 'artifact')).sort()).toEqual(['assets', 'open-next.output.json']);
    await expect.poll(() => readdirSync(join(root, 'work', '.trash')), { timeout: 10_000 }).toEqual([]);
  });

  // next build waits on a FIFO in its checkout until the test writes to it: meanwhile OpenNext's packager,
  // started ahead, waits for its word to build.
  const gatedBuild = 'mkfifo gate && echo waiting && read go < gate && exit 3';
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return [];
    }
  };
  /** Once next build waits: the groups the build's process record names, the packager's among them. */
  const whileNextBuildWaits = async (id: string, lines: { line: string }[]) => {
    const dir = join(root, 'work', id);
    let found: { build: number; packager: number } | undefined;
    await expect.poll(() => {
      const r = readProcessRecord(dir);
      const packager = r?.ahead?.find((g) => groupMembers(g).some((pid) => cmdline(pid).some((a) => a.endsWith('open-next-packager.mjs'))));
      found = r?.phase === 'build' && r.pgid && packager ? { build: r.pgid, packager } : undefined;
      return found !== undefined && lines.some((l) => l.line === 'waiting');
    }, { timeout: 20_000 }).toBe(true);
    return { dir, ...found! };
  };

  it('starts OpenNext\'s packager during next build, and kills it when next build fails', async () => {
    const j = job({ buildCommand: gatedBuild });
    const { running, lines } = await run(j);
    const { dir, build, packager } = await whileNextBuildWaits(j.deploymentId, lines);
    expect(packager).not.toBe(build);
    writeFileSync(join(dir, 'src', 'gate'), 'go\n');
    const outcome = await running.outcome;
    expect(outcome).toMatchObject({ ok: false, reason: 'build-failed', exitCode: 3 });
    // Nothing of the packager ran on, or printed a line, and the build's folder is gone.
    await expect.poll(() => groupMembers(packager), { timeout: 5_000 }).toEqual([]);
    expect(groupMembers(build)).toEqual([]);
    expect(lines.filter((l) => l.line.includes('open-next'))).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('records the waiting packager\'s group beside next build\'s: a restart\'s recovery of the folder ends both', async () => {
    const j = job({ buildCommand: gatedBuild });
    const { running, lines } = await run(j);
    const { dir, build, packager } = await whileNextBuildWaits(j.deploymentId, lines);
    // What a restarted shiplog does with a build folder it finds (infra/local/reconcile.ts).
    expect(await killRecordedGroup(dir)).toBeGreaterThanOrEqual(2);
    expect(groupMembers(build)).toEqual([]);
    expect(groupMembers(packager)).toEqual([]);
    expect(await running.outcome).toMatchObject({ ok: false, reason: 'build-failed' });
    expect(existsSync(dir)).toBe(false);
  });

  it('runs the Node check beside the build command when node_modules come from the cache, its lines logged together', async () => {
    // The repository's own `node` (first on PATH) stands in for the build's Node: it opens a FIFO
    // that only the build command opens from the other end, so it cannot end before the build
    // command has started. A runner that waited for the check first would wait for ever (the
    // build's limit ends it: timed-out).
    const checked = join(root, 'node-check-repo');
    execFileSync('git', ['init', '--quiet', checked]);
    await writeFile(join(checked, 'package.json'), '{ "name": "checked", "private": true }\n');
    await writeFile(join(checked, 'package-lock.json'), '{ "lockfileVersion": 3, "packages": {} }\n');
    await mkdir(join(checked, 'bin'));
    await writeFile(join(checked, 'bin', 'node'), '#!/bin/sh\nmkfifo "$TMPDIR/gate" 2>/dev/null; read go < "$TMPDIR/gate"; echo "node: v0.0.0 (the build command said $go)"\n', { mode: 0o755 });
    const g = (...args: string[]) => execFileSync('git', ['-c', 'user.email=test@shiplog.dev', '-c', 'user.name=test', ...args], { cwd: checked, encoding: 'utf8' }).trim();
    g('add', '-A');
    g('commit', '--quiet', '-m', 'checked');
    // The project's cache holds node_modules for exactly this lockfile and install: restored, no install runs.
    const cacheRoot = join(root, 'node-check-cache');
    const key = installKey(checked, installShellCommand(chooseInstall(readInstallSite(checked, checked).inputs)));
    await mkdir(join(cacheRoot, 'web', 'modules', 'tree', 'node_modules'), { recursive: true });
    await writeFile(join(cacheRoot, 'web', 'modules', 'record.json'), JSON.stringify({ key, dirs: ['node_modules'] }));
    const j = job({ repo: checked, sha: g('rev-parse', 'HEAD'), installCommand: '', buildCommand: 'mkfifo "$TMPDIR/gate" 2>/dev/null; echo started > "$TMPDIR/gate"; exit 4', timeoutMs: 30_000 });
    const path = process.env.PATH;
    process.env.PATH = `${join(root, 'work', j.deploymentId, 'src', 'bin')}:${path}`;
    try {
      const lines: string[] = [];
      const runner = localBuildRunner({ workRoot: join(root, 'work'), killGraceMs: 500, cacheRoot });
      const outcome = await runner.start(j, (line) => lines.push(line)).outcome;
      expect(outcome).toMatchObject({ ok: false, reason: 'build-failed', exitCode: 4 });
      expect(lines).toContain('install: skipped, node_modules restored for this exact lockfile');
      const check = lines.findIndex((l) => /^\$ node \S+node-check\.mjs report /.test(l));
      expect(lines[check + 1]).toBe('node: v0.0.0 (the build command said started)');
      // Logged once it ended, and before what follows the build command.
      expect(check).toBeLessThan(lines.findIndex((l) => l.startsWith('build failed (build-failed)')));
    } finally {
      process.env.PATH = path;
    }
  });

  it('times out a build that runs too long', async () => {
    // Stopped by its limit, not waited for: the command would run 30 s and then print `never`.
    const { running, lines } = await run(job({ buildCommand: 'sleep 30; echo never', timeoutMs: 1500 }));
    const outcome = await running.outcome;
    expect(outcome).toMatchObject({ ok: false, reason: 'timed-out', exitCode: null, message: 'build exceeded its 1500 ms limit' });
    expect(lines.map((l) => l.line)).not.toContain('never');
    if (!outcome.ok) expect(outcome.logTail.at(-1)).toContain('timed-out');
  });
});

describe('removeAside', () => {
  it('removes a tree put aside (read-only folders too) without following its links, and resolves when there is nothing to remove', async () => {
    const keep = join(root, 'keep');
    await mkdir(keep, { recursive: true });
    await writeFile(join(keep, 'file'), 'kept');
    const aside = join(root, 'aside');
    await mkdir(join(aside, 'a', 'b'), { recursive: true });
    await writeFile(join(aside, 'a', 'b', 'f.js'), 'x');
    symlinkSync(keep, join(aside, 'a', 'out'));
    chmodSync(join(aside, 'a', 'b'), 0o555);
    await removeAside(aside);
    expect(existsSync(aside)).toBe(false);
    expect(readFileSync(join(keep, 'file'), 'utf8')).toBe('kept');
    await expect(removeAside(join(root, 'never-there'))).resolves.toBeUndefined();
  });
});
