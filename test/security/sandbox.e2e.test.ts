import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sandboxUid, sandboxUnavailable } from '../../services/build/adapters/runner/sandbox.ts';
import { gitCommitAll, gitPush, startShiplog, type LocalShiplog, deploymentOfHead } from '../support/local-shiplog.ts';

// A probe app pushed through a real `shiplog dev`: at build time (next.config.mjs) and at run
// time (a route handler in the deployed function) it tries to read shiplog's data dir and to call
// DynamoDB Local, the API and the router, and reports every attempt. One build serves both.
const missing = sandboxUnavailable();
if (missing) throw new Error(`the sandbox suite needs the sandbox tools: ${missing} (CI installs them: bash .ci/run)`);

const fixture = new URL('../fixtures/probe-app/', import.meta.url).pathname;

interface Attempt { ok: boolean; got?: string; error?: string }
interface Report { uid: number; ownEnv: string | null; ownFile: Attempt; files: Record<string, Attempt>; dirs: Record<string, Attempt>; urls: Record<string, Attempt> }

describe('user code is sandboxed', () => {
  let sl: LocalShiplog;
  let work: string;
  let files: string[];
  let dirs: string[];
  let urls: string[];
  let build: Report;
  let run: Report;

  beforeAll(async () => {
    sl = await startShiplog();
    expect(sl.env.SHIPLOG_UNSAFE_NO_SANDBOX).toBeUndefined();
    const planted = join(sl.dataDir, 'planted-secret');
    writeFileSync(planted, 'planted by the sandbox suite');
    await vi.waitFor(() => expect(existsSync(join(sl.dataDir, 'runtime.json'))).toBe(true), { timeout: 30_000 });
    const runtime = JSON.parse(readFileSync(join(sl.dataDir, 'runtime.json'), 'utf8')) as { dynamoEndpoint: string };
    const dynamoPort = new URL(runtime.dynamoEndpoint).port;
    const created = sl.json<{ gitRemote: string }>(['projects', 'create', 'probe']);

    files = [planted, join(sl.dataDir, 'secrets.key'), join(sl.dataDir, 'admin-token'), join(sl.dataDir, 'runtime.json'), join(sl.dataDir, 'dynamodb', 'shared-local-instance.db')];
    for (const f of files) expect(existsSync(f), `${f} is there to be probed`).toBe(true);
    dirs = [sl.dataDir, join(sl.dataDir, 'git'), join(sl.dataDir, 'dynamodb'), join(sl.dataDir, 'sites'), '/root'];
    // Every internal port on loopback, on slirp's host alias, and on this host's own addresses.
    const hosts = ['127.0.0.1', '10.0.2.2', ...Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address)];
    urls = hosts.flatMap((h) => [dynamoPort, String(sl.port), String(sl.sitesPort)].map((p) => `http://${h}:${p}/`));
    expect(sl.cli(['env', 'set', 'probe', `PROBE_TARGETS=${JSON.stringify({ files, dirs, urls })}`]).status).toBe(0);
    expect(sl.cli(['env', 'set', 'probe', 'PROBE_OWN=own-value', '--secret']).status).toBe(0);

    work = mkdtempSync(join(tmpdir(), 'shiplog-probe-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
    gitCommitAll(work, 'probe');
    gitPush(work, created.gitRemote);
    const id = await deploymentOfHead(sl, 'probe', work);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '480'], 500_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', id]).stdout.slice(-4000)}`).toBe(0);

    const fromBuild = await sl.site('probe.localhost', '/build-probe.json');
    expect(fromBuild.status).toBe(200);
    build = JSON.parse(fromBuild.body) as Report;
    const fromRun = await sl.site('probe.localhost', '/api/probe');
    expect(fromRun.status, fromRun.body).toBe(200);
    run = JSON.parse(fromRun.body) as Report;
    for (const [when, r] of [['build', build], ['run', run]] as const) {
      const errors = [...Object.values(r.files), ...Object.values(r.urls)].map((a) => a.error ?? 'ok');
      console.log(`${when} time: uid ${r.uid}, ${errors.length} attempts: ${[...new Set(errors)].map((e) => `${e} ×${errors.filter((x) => x === e).length}`).join(', ')}`);
    }
  }, 600_000);

  afterAll(async () => {
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const shiplogNames = /secrets|admin-token|runtime|dynamodb|planted|git|shared-local/;

  for (const when of ['build', 'run'] as const) {
    const report = () => (when === 'build' ? build : run);

    it(`at ${when} time, reads its own env var and files, as an unprivileged user`, () => {
      expect(report().ownEnv).toBe('own-value');
      expect(report().ownFile.ok, JSON.stringify(report().ownFile)).toBe(true);
      if (process.getuid?.() === 0) expect(report().uid).toBe(sandboxUid);
    });

    it(`at ${when} time, reads nothing of the data dir`, () => {
      expect(Object.keys(report().files)).toEqual(files);
      for (const [f, r] of Object.entries(report().files)) expect(r, f).toMatchObject({ ok: false });
      // It sees the path down to its own folder (made for the mount: builds/ or sites/), nothing beside it.
      for (const [d, r] of Object.entries(report().dirs)) {
        expect(r.ok ? r.got!.split(',').length : 0, `${d}: ${r.got}`).toBeLessThanOrEqual(1);
        expect(r.ok ? r.got : '', d).not.toMatch(shiplogNames);
      }
    });

    it(`at ${when} time, reaches neither DynamoDB Local, nor the API, nor the router`, () => {
      expect(Object.keys(report().urls)).toEqual(urls);
      for (const [u, r] of Object.entries(report().urls)) expect(r, u).toMatchObject({ ok: false });
    });
  }
});
