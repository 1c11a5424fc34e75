import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAdminCredential } from '../../dashboard/lib/auth/credential.ts';
import { runProcess, type ProcessResult } from '../../services/build/adapters/runner/process.ts';

const FINGERPRINT = 'shiplog-fingerprint';
// What the dashboard's build is made of: its own sources and the repository code it imports.
const SOURCES = ['app', 'components', 'lib', 'next.config.mjs', 'tsconfig.json', 'package.json'];
const SHARED = ['events', 'projections', 'services/build/log-store.ts'];

const walk = (path: string, out: string[]): void => {
  if (!existsSync(path)) return;
  if (statSync(path).isFile()) {
    if (!/\.test\.ts$/.test(path)) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name === '.next' || name === 'schemas') continue;
    walk(join(path, name), out);
  }
};

/**
 * A hash of everything a dashboard build is made from, so a build made from other sources
 * (after a `git pull`) is rebuilt, and an up-to-date one is reused.
 *
 * @example
 * sourceFingerprint('/repo/dashboard'); // 'sha256:…'
 */
export const sourceFingerprint = (dashboardDir: string): string => {
  const root = join(dashboardDir, '..');
  const files: string[] = [];
  for (const p of SOURCES) walk(join(dashboardDir, p), files);
  for (const p of SHARED) walk(join(root, p), files);
  const hash = createHash('sha256');
  hash.update(createRequire(join(dashboardDir, 'package.json'))('next/package.json').version as string);
  for (const f of files) hash.update(`\0${relative(root, f)}\0`).update(readFileSync(f));
  return `sha256:${hash.digest('hex')}`;
};

/** Whether `dashboard/.next` holds a production build of the current sources. */
export const isBuildCurrent = (dashboardDir: string): boolean => {
  const dist = join(dashboardDir, '.next');
  if (!existsSync(join(dist, 'BUILD_ID'))) return false;
  try {
    return readFileSync(join(dist, FINGERPRINT), 'utf8').trim() === sourceFingerprint(dashboardDir);
  } catch {
    return false;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One build at a time per dashboard folder, across processes (parallel test files each start one).
const withLock = async <T>(dashboardDir: string, fn: () => Promise<T>): Promise<T> => {
  const lock = join(tmpdir(), `shiplog-dashboard-build-${createHash('sha256').update(dashboardDir).digest('hex').slice(0, 12)}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      else await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
};

/**
 * Runs `next build` in the dashboard folder unless its build is current, logging progress.
 * Returns how long the build took (0 when none was needed).
 *
 * @example
 * const ms = await ensureDashboardBuild('/repo/dashboard', (l) => console.error(l));
 */
export const ensureDashboardBuild = async (dashboardDir: string, log: (line: string) => void): Promise<number> =>
  withLock(dashboardDir, async () => {
    if (isBuildCurrent(dashboardDir)) return 0;
    const fingerprint = sourceFingerprint(dashboardDir);
    log('dashboard: building (next build; the first start takes a while)…');
    const started = Date.now();
    const bin = createRequire(join(dashboardDir, 'package.json')).resolve('next/dist/bin/next');
    const tail: string[] = [];
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'build'], {
        cwd: dashboardDir,
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const onData = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          const l = line.trimEnd();
          if (!l.trim()) continue;
          tail.push(l);
          if (tail.length > 40) tail.shift();
          if (/Compiled|Creating|Collecting|Generating static pages.*in|Finalizing|Failed|Error|error/.test(l)) log(`dashboard build: ${l.trim()}`);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new Error(`next build failed (exit ${code}):\n${tail.join('\n')}`);
    writeFileSync(join(dashboardDir, '.next', FINGERPRINT), `${fingerprint}\n`);
    const ms = Date.now() - started;
    log(`dashboard: built in ${(ms / 1000).toFixed(1)} s`);
    return ms;
  });

/**
 * What the local dashboard needs from the runtime that mounts it.
 *
 * @example
 * { dataDir, apiUrl: 'http://localhost:3000', dynamoEndpoint, tables: localTables, sitesPort: 3001 }
 */
export interface DashboardOptions {
  dataDir: string;
  /** The platform API the dashboard sends commands to (and reads build logs from). */
  apiUrl: string;
  dynamoEndpoint: string;
  tables: { events: string; views: string };
  sitesPort: number;
  /**
   * The dashboard's own API token (kind `dashboard`: it may name the signed-in user as the actor);
   * absent when `environment` names the SSM parameter holding it (`SHIPLOG_DASHBOARD_API_TOKEN_PARAM`).
   */
  apiToken?: string;
  log?: (line: string) => void;
  /** `SHIPLOG_ADMIN_PASSWORD` sets the admin password; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The Next.js app; default the repository's `dashboard/`. */
  dir?: string;
  /**
   * More of the dashboard's environment, over the local defaults: another sign-in adapter
   * (`SHIPLOG_DASHBOARD_AUTH=cognito` and its `SHIPLOG_DASHBOARD_OIDC_*`, as the AWS box's hosted
   * dashboard has it). Without the local admin, no admin credential is made or printed.
   */
  environment?: Record<string, string>;
}

/**
 * The dashboard, served by Next.js in a process of its own (`dashboard-server.mjs`, on a unix
 * socket in a private folder) so that Next's replacements of process-wide globals (`fetch`,
 * timers, `Date`, `console`, `NODE_ENV`, …) never reach the platform's process. `handle`
 * proxies every request the API does not answer (mount it as the API server's fallback),
 * streaming both ways; until the first build is done and Next serves it answers 503 with a page
 * that reloads itself, and 502 with the reason once that process has died. `ready` settles when
 * Next serves (or the build or the start failed); `usable()` says whether it serves now.
 * `close()` stops that process (its process group: SIGTERM, then SIGKILL).
 *
 * @example
 * const dashboard = startDashboard({ dataDir, apiUrl, dynamoEndpoint, tables: localTables, sitesPort });
 * createServer((req, res) => routeOr(req, res, () => dashboard.handle(req, res)));
 */
export interface LocalDashboard {
  handle(req: IncomingMessage, res: ServerResponse): void;
  ready: Promise<void>;
  /** Whether the dashboard's process serves (false while it starts, and after it died). */
  usable(): boolean;
  /** The pid of the dashboard's process (its process group's id) while it runs. */
  pid(): number | undefined;
  close(): Promise<void>;
}

/** The header this mount sets to the socket's peer address (a client's own is dropped). */
export const PEER_HEADER = 'x-shiplog-peer';

const defaultDir = fileURLToPath(new URL('../../dashboard/', import.meta.url));
const serverEntry = fileURLToPath(new URL('./dashboard-server.mjs', import.meta.url));

const page = (status: number, title: string, body: string, refresh: boolean) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${refresh ? '<meta http-equiv="refresh" content="3">' : ''}<title>${title} · shiplog</title>` +
  `<style>body{font:15px/1.5 system-ui,sans-serif;background:#fafafa;color:#171717;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}main{max-width:460px;padding:32px;background:#fff;border:1px solid #e6e6e6;border-radius:12px}pre{white-space:pre-wrap;font-size:12px;color:#6b6b6b}</style>` +
  `</head><body><main data-status="${status}"><h1>${title}</h1>${body}</main></body></html>`;

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

// Headers of one connection, not of the message: never passed on by a proxy (RFC 9110 7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
const hopByHop = (connection: string | string[] | undefined): Set<string> => {
  const named = (Array.isArray(connection) ? connection.join(',') : (connection ?? '')).split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return new Set([...HOP_BY_HOP, ...named]);
};

export const startDashboard = (opts: DashboardOptions): LocalDashboard => {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = opts.env ?? process.env;
  const dir = opts.dir ?? defaultDir;
  const authDir = join(opts.dataDir, 'dashboard');
  const startedAt = Date.now();
  // Everything the dashboard's server side reads comes from the environment, as on AWS: its
  // process gets these (the API token among them: in its environment, never in argv or a log).
  const settings: Record<string, string> = {
    SHIPLOG_DASHBOARD_AUTH: 'local',
    SHIPLOG_DASHBOARD_AUTH_DIR: authDir,
    SHIPLOG_DASHBOARD_API_URL: opts.apiUrl,
    SHIPLOG_DASHBOARD_DYNAMO_ENDPOINT: opts.dynamoEndpoint,
    SHIPLOG_DASHBOARD_EVENTS_TABLE: opts.tables.events,
    SHIPLOG_DASHBOARD_VIEWS_TABLE: opts.tables.views,
    SHIPLOG_DASHBOARD_SITES_PORT: String(opts.sitesPort),
    ...(opts.apiToken ? { SHIPLOG_DASHBOARD_API_TOKEN: opts.apiToken } : {}),
    SHIPLOG_DASHBOARD_PEER_HEADER: PEER_HEADER,
    ...opts.environment,
  };
  // Also set here, as when Next ran in this process: callers read the dashboard's settings from it
  // (the AWS box's test checks that its dashboard got the token's parameter name, not a token).
  Object.assign(process.env, settings);
  const localAdmin = settings.SHIPLOG_DASHBOARD_AUTH === 'local';

  // The socket, in a folder only this user may enter: nothing else reaches Next around this mount
  // (which sets the peer header the sign-in throttle trusts).
  const socketDir = mkdtempSync(join(tmpdir(), 'shiplog-dashboard-'));
  const socketPath = join(socketDir, 'next.sock');
  const agent = new Agent({ keepAlive: true });
  const stopper = new AbortController();
  let child: ChildProcess | undefined;
  let serving = false;
  let servedOnce = false;
  let failure: Error | undefined;
  let exited: Promise<ProcessResult> = Promise.resolve({ exitCode: null, signal: null });
  // The last lines the dashboard's process wrote, for the error page when it died.
  const tail: string[] = [];

  const ready = (async () => {
    // 1. the admin: printed once, when first created; only its scrypt hash is kept
    const admin = localAdmin
      ? await ensureAdminCredential(authDir, { ...(env.SHIPLOG_ADMIN_PASSWORD ? { password: env.SHIPLOG_ADMIN_PASSWORD } : {}) })
      : undefined;
    if (!admin) {
      log(`dashboard: signs in through ${settings.SHIPLOG_DASHBOARD_AUTH}`);
    } else if (admin.created) {
      log(`dashboard: ${opts.apiUrl}  sign in as ${admin.username} with password ${admin.created}`);
      log('dashboard: the password is shown this once (only its hash is kept); set SHIPLOG_ADMIN_PASSWORD to choose another');
    } else {
      log(`dashboard: ${opts.apiUrl}  (sign in as ${admin.username})`);
    }
    // 2. the build, when there is none of the current sources
    await ensureDashboardBuild(dir, log);
    if (stopper.signal.aborted) throw new Error('the dashboard was stopped while it started');
    // 3. Next.js in a process of its own (and its own process group, which close() kills whole)
    const childEnv: Record<string, string> = { NEXT_TELEMETRY_DISABLED: '1' };
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) childEnv[k] = v;
    Object.assign(childEnv, settings, { NODE_ENV: 'production' });
    const started = new Promise<void>((resolve, reject) => {
      exited = runProcess(process.execPath, [serverEntry, dir, socketPath], {
        cwd: dir, env: childEnv, signal: stopper.signal, killGraceMs: 5000,
        spawn: (command, args, o) => {
          child = spawn(command, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
          child.on('message', (m: { type?: string; message?: string }) => {
            if (m.type === 'ready') resolve();
            if (m.type === 'error') reject(new Error(`next start failed: ${m.message}`));
          });
          return child;
        },
        onLine: (line) => {
          tail.push(line);
          if (tail.length > 40) tail.shift();
          log(`dashboard: ${line}`);
        },
      });
      void exited.then((r) => {
        serving = false;
        child = undefined;
        // Stopped by close(), perhaps before it served: `ready` settles either way.
        if (stopper.signal.aborted) return reject(new Error('the dashboard was stopped while it started'));
        const how = r.spawnError ? `could not run: ${r.spawnError.message}` : r.signal ? `was killed (${r.signal})` : `exited with code ${r.exitCode}`;
        failure = new Error(`the dashboard's process ${how}${tail.length ? `:\n${tail.join('\n')}` : ''}`);
        reject(failure);
        log(`dashboard: its process ${how}; the dashboard is unavailable until shiplog is started again`);
      });
    });
    await started;
    serving = servedOnce = true;
    log(`dashboard: ready after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  })().catch((err: unknown) => {
    failure ??= err as Error;
    if (!stopper.signal.aborted) log(`dashboard: could not start: ${failure.message}`);
  });

  const unavailable = (res: ServerResponse) => {
    const status = failure ? (servedOnce ? 502 : 500) : 503;
    const html = failure
      ? page(status, servedOnce ? 'The dashboard stopped' : 'The dashboard did not start', `<p>See the output of <code>shiplog dev</code>.</p><pre>${escapeHtml(failure.message.slice(-2000))}</pre>`, false)
      : page(503, 'The dashboard is starting', `<p>Building it for the first time; this page reloads itself. (${Math.round((Date.now() - startedAt) / 1000)} s so far)</p>`, true);
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...(failure ? {} : { 'retry-after': '3' }) });
    res.end(html);
  };

  const proxy = (req: IncomingMessage, res: ServerResponse) => {
    const drop = hopByHop(req.headers.connection);
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!drop.has(k) && v !== undefined) headers[k] = v;
    // The sign-in throttle keys on the socket's address: set here, never taken from the client.
    headers[PEER_HEADER] = req.socket.remoteAddress ?? 'unknown';
    const upstream = request({ socketPath, agent, method: req.method, path: req.url, headers });
    const fail = (err: Error) => {
      if (res.headersSent) return void res.destroy(err);
      // Its process died under this request (the page then says why), or the request failed alone.
      if (failure) return unavailable(res);
      log(`dashboard: ${req.method} ${(req.url ?? '/').split('?')[0]}: ${err.message}`);
      const html = page(502, 'The dashboard did not answer', `<p>See the output of <code>shiplog dev</code>.</p><pre>${escapeHtml(err.message)}</pre>`, false);
      res.writeHead(502, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    };
    upstream.on('error', fail);
    upstream.on('response', (up) => {
      const dropUp = hopByHop(up.headers.connection);
      const raw: string[] = [];
      // rawHeaders keep every Set-Cookie, and each header's own spelling.
      for (let i = 0; i < up.rawHeaders.length; i += 2) if (!dropUp.has(up.rawHeaders[i]!.toLowerCase())) raw.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!);
      res.writeHead(up.statusCode ?? 502, up.statusMessage, raw);
      // A stream (server-sent events) shows its headers at once, not with its first event.
      if (up.headers['content-length'] === undefined) res.flushHeaders();
      up.on('error', (err) => res.destroy(err));
      up.pipe(res);
    });
    // The client left (a closed event stream, a cancelled navigation): so does the request to Next.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const usable = () => serving && child !== undefined;
  return {
    handle: (req, res) => (usable() ? proxy(req, res) : unavailable(res)),
    ready: ready.then(() => (failure ? Promise.reject(failure) : undefined)),
    usable,
    pid: () => child?.pid,
    close: async () => {
      stopper.abort();
      await ready;
      await exited;
      agent.destroy();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
};
