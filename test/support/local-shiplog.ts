import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAdminToken } from '../../infra/local/access.ts';
import { freePort } from '../../infra/local/dynamodb-local.ts';

/**
 * A real `shiplog dev` in a child process with its own data dir and ports, driven through the
 * CLI as a user would.
 *
 * @example
 * const sl = await startShiplog();
 * const project = sl.cli(['projects', 'create', 'web', '--json']);
 * await sl.stop();
 */
export interface LocalShiplog {
  dataDir: string;
  port: number;
  sitesPort: number;
  env: NodeJS.ProcessEnv;
  /** Runs a CLI command; returns stdout, stderr and the exit status. */
  cli(args: string[], timeoutMs?: number): { stdout: string; stderr: string; status: number | null };
  /** `cli` with `--json`, parsed; throws with stderr when the command fails. */
  json<T>(args: string[], timeoutMs?: number): T;
  /** GET on the site router with a Host header (`<project>.localhost`). */
  site(host: string, path: string): Promise<PlainResponse>;
  output(): string;
  /** The pid of the `shiplog dev` process (the root of its process tree). */
  pid: number;
  /** The admin API token the first start wrote to `<dataDir>/admin-token` (what the CLI sends). */
  adminToken(): string;
  stop(): Promise<void>;
}

export const startShiplog = async (opts: { dashboard?: boolean; runtime?: 'local' | 'aws-box'; env?: NodeJS.ProcessEnv } = {}): Promise<LocalShiplog> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-e2e-'));
  const port = await freePort();
  const sitesPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, SHIPLOG_DATA_DIR: dataDir, SHIPLOG_PORT: String(port), SHIPLOG_SITES_PORT: String(sitesPort) };
  // The dashboard builds itself on first start: only the suites that drive it pay for that.
  if (!opts.dashboard) env.SHIPLOG_DASHBOARD = 'off';
  // User code runs sandboxed in every suite, whatever the shell that started the tests says.
  delete env.SHIPLOG_UNSAFE_NO_SANDBOX;
  let output = '';
  // `npm start`, or `npm run start:aws-box` (the AWS composition on moto: docs/aws-box.md)
  const command = opts.runtime === 'aws-box' ? ['--import', 'tsx', 'infra/aws-box/start.ts'] : ['cli/shiplog.mjs', 'dev'];
  const child: ChildProcess = spawn(process.execPath, command, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const stop = async () => {
    // A child killed by a signal has no exit code, only a signal code: it has exited too.
    const running = () => child.exitCode === null && child.signalCode === null;
    if (running()) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (running()) child.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  // /healthz answers 200 only once the dashboard serves, and its first start builds it; the box
  // starts moto and creates the declared stack first, which takes minutes on a loaded machine.
  const deadline = Date.now() + (opts.dashboard ? 15 * 60_000 : opts.runtime === 'aws-box' ? 300_000 : 90_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`shiplog (${command.join(' ')}) exited with ${child.exitCode}:\n${output}`);
    }
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      // Thrown before the caller holds a handle to stop it: stopped here, or it would outlive the suite.
      await stop();
      throw new Error(`shiplog (${command.join(' ')}) did not answer /healthz:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const cli = (args: string[], timeoutMs = 60_000) => {
    const r = spawnSync(process.execPath, ['cli/shiplog.mjs', ...args], { env, encoding: 'utf8', timeout: timeoutMs });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  return {
    dataDir, port, sitesPort, env, cli,
    json: <T>(args: string[], timeoutMs?: number): T => {
      const r = cli([...args, '--json'], timeoutMs);
      if (r.status !== 0) throw new Error(`shiplog ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    site: (host, path) => getFrom(sitesPort, host, path),
    output: () => output,
    pid: child.pid ?? -1,
    adminToken: () => {
      const token = readAdminToken(dataDir);
      if (!token) throw new Error(`shiplog dev wrote no admin token in ${dataDir}`);
      return token;
    },
    stop,
  };
};

/** A git working copy of a fixture, committed on `main`. */
export const gitCommitAll = (dir: string, message: string): void => {
  for (const args of [['add', '-A'], ['-c', 'user.email=dev@example.com', '-c', 'user.name=Dev Eloper', 'commit', '-qm', message]]) {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  }
};

export const gitPush = (dir: string, remote: string, branch = 'main'): string => {
  const r = spawnSync('git', ['push', remote, `HEAD:refs/heads/${branch}`], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git push failed: ${r.stderr}`);
  return r.stderr;
};

/**
 * The id of the newest deployment of `dir`'s HEAD commit. Deployment lists come from the read
 * models, which fold a push a moment after `git push` returns: poll until it is there.
 *
 * @example
 * gitPush(work, remote);
 * const id = await deploymentOfHead(sl, 'web', work);
 */
export const deploymentOfHead = async (sl: LocalShiplog, project: string, dir: string, timeoutMs = 60_000): Promise<string> => {
  const sha = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).stdout.trim();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = sl.json<{ id: string; sha: string }[]>(['deployments', 'list', project]).find((r) => r.sha === sha);
    if (row) return row.id;
    if (Date.now() > deadline) throw new Error(`no deployment of ${sha} in ${project} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/**
 * A fixture app pushed to a new project and live: copied without its build output into a new git
 * repository (`prepare` may change it first), the project created, the commit pushed, and the
 * deployment of that commit waited for. Throws with the build log's tail when it does not go live.
 *
 * @example
 * const { work, deploymentId } = await pushFixtureLive(sl, { project: 'isr', fixtureDir, message: 'first', prepare: (dir) => writeFileSync(join(dir, 'x.js'), '') });
 */
export const pushFixtureLive = async (
  sl: LocalShiplog,
  opts: { project: string; fixtureDir: string; message: string; prepare?: (work: string) => void },
): Promise<{ work: string; deploymentId: string }> => {
  const work = mkdtempSync(join(tmpdir(), `shiplog-${opts.project}-`));
  cpSync(opts.fixtureDir, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
  opts.prepare?.(work);
  if (spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status !== 0) throw new Error(`git init failed in ${work}`);
  const { gitRemote } = sl.json<{ gitRemote: string }>(['projects', 'create', opts.project]);
  gitCommitAll(work, opts.message);
  gitPush(work, gitRemote);
  const deploymentId = await deploymentOfHead(sl, opts.project, work, 120_000);
  const wait = sl.cli(['deployments', 'wait', deploymentId, '--timeout', '900'], 960_000);
  if (wait.status !== 0) throw new Error(`${deploymentId} did not go live:\n${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', deploymentId]).stdout.slice(-4000)}`);
  return { work, deploymentId };
};

/** A response as the e2e suites compare them. */
export interface PlainResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A GET on 127.0.0.1:`port` naming `host` (Node does not resolve `*.localhost`), on a fresh
 * connection each time.
 *
 * @example
 * const home = await getFrom(sl.sitesPort, 'web.localhost', '/');
 */
export const getFrom = (port: number, host: string, path: string): Promise<PlainResponse> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host: `${host}:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
