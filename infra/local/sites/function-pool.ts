import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, type Readable } from 'node:stream';
import { revalidationEvent } from './apigw.ts';
import { lineSplitter } from '../../../services/build/adapters/runner/process.ts';
import { sandboxFromEnv, type Sandbox } from '../../../services/build/adapters/runner/sandbox.ts';

/**
 * One deployed function: its directory (the cwd of its execution environment) and the
 * environment variables it runs with, asked for only when an environment starts.
 *
 * @example
 * const fn: FunctionRef = { key: 'web/01JD…/default', dir: '/data/sites/web/01JD…/server-functions/default', env: async () => ({ SERVER_GREETING: 'hi' }) };
 */
export interface FunctionRef {
  key: string;
  dir: string;
  env: () => Promise<Record<string, string>>;
  /**
   * What the function may read (its deployment version's folder); `dir` by default. When it is
   * an OpenNext version (it holds `open-next.output.json`), its `cache/` is also writable: the
   * deployment's ISR cache, kept on disk across restarts (the S3 cache prefix on AWS).
   */
  root?: string;
  /** Lambda's handler setting, `<file>.<export>`; default `index.handler`. */
  handler?: string;
}

/**
 * The head of a streamed response: the prelude of Lambda's HTTP integration stream.
 *
 * @example
 * const head: StreamHead = { statusCode: 200, headers: { 'content-type': 'text/html' }, cookies: ['a=1'] };
 */
export interface StreamHead {
  statusCode: number;
  headers?: Record<string, string | number | boolean | string[]>;
  cookies?: string[];
}

/**
 * What an invocation returned: the handler's result, or a response streamed as it is produced.
 *
 * @example
 * const inv = await pool.invoke(fn, event);
 * if (inv.kind === 'stream') inv.body.pipe(res);
 */
export type Invocation = { kind: 'result'; result: unknown } | { kind: 'stream'; head: StreamHead; body: Readable };

/**
 * An invocation that failed for a reason the caller should answer with `status`: 502 when the
 * function crashed, failed to start or threw, 504 when it ran past its timeout.
 *
 * @example
 * try { await pool.invoke(fn, event); } catch (e) { if (e instanceof FunctionInvocationError) res.writeHead(e.status).end(e.message); }
 */
export class FunctionInvocationError extends Error {
  override readonly name = 'FunctionInvocationError';
  constructor(
    readonly status: 502 | 503 | 504,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Options of {@link functionPool}.
 *
 * @example
 * functionPool({ idleMs: 5 * 60_000, invokeTimeoutMs: 30_000, onLog: (key, line) => console.log(key, line) });
 */
export interface FunctionPoolOptions {
  /** Stop an environment with nothing in flight after this long without requests. */
  idleMs?: number;
  /** Like a Lambda timeout: past it the environment is killed and the request gets a 504. */
  invokeTimeoutMs?: number;
  startTimeoutMs?: number;
  /** Where environments run: bubblewrap by default (`SHIPLOG_UNSAFE_NO_SANDBOX=1`: none). */
  sandbox?: Sandbox;
  /**
   * Most environments alive at once; starting one more stops the least recently used idle one
   * first, and with none idle the request gets a 503. Default `SHIPLOG_MAX_FUNCTIONS`, else 32.
   */
  maxEnvironments?: number;
  onLog?: (key: string, line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Requests a function makes to a site of this router (`<label>.<domain>`, e.g. Next's own fetch
   * of a server action's redirect target): the sandbox's network cannot reach the router, so the
   * worker hands them over IPC and this answers them, as CloudFront would on AWS. Without it those
   * requests fail as any unreachable host does.
   */
  sites?: { domain: string; fetch: (request: SiteFetchRequest) => Promise<SiteFetchResponse> };
}

/**
 * A request a function makes to a site of its router (see {@link FunctionPoolOptions.sites}).
 *
 * @example
 * const r: SiteFetchRequest = { method: 'GET', url: 'http://web.localhost:3001/done?_rsc=1', headers: [['rsc', '1']] };
 */
export interface SiteFetchRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body?: Uint8Array;
}

/**
 * The answer to a {@link SiteFetchRequest}, whole (headers as pairs: set-cookie may repeat).
 *
 * @example
 * const r: SiteFetchResponse = { status: 200, headers: [['content-type', 'text/x-component']], body: Buffer.from('0:…') };
 */
export interface SiteFetchResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

interface Pending {
  resolve: (inv: Invocation) => void;
  reject: (e: Error) => void;
  stream?: PassThrough;
  /** A streamed response is complete; the invocation lasts until 'done' (its waitUntil work). */
  ended?: boolean;
  timer: NodeJS.Timeout;
}

interface Environment {
  child: ChildProcess;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  /** Invocations between their start and their registration in `pending` (waiting for `ready`). */
  starting: number;
  lastUsed: number;
  /** The order of last use (two uses within one millisecond still have an order). */
  useSeq: number;
}

interface WorkerMessage {
  type: 'ready' | 'init-error' | 'result' | 'error' | 'head' | 'chunk' | 'end' | 'done' | 'revalidate' | 'fetch';
  id?: number;
  /** `fetch`: the worker's number for the request, echoed in the `fetch-result`. */
  fetchId?: number;
  fetch?: SiteFetchRequest;
  result?: unknown;
  message?: string;
  head?: StreamHead;
  data?: Uint8Array;
  request?: { host: string; url: string; headers: Record<string, string> };
}

/**
 * The writable ISR cache of an OpenNext version (`<root>/cache`), created and handed to the
 * sandbox user (as root, functions run as nobody) on the first start of one of its functions.
 */
const prepareCache = async (root: string, sandbox: Sandbox, prepared: Set<string>): Promise<string[]> => {
  if (!existsSync(join(root, 'open-next.output.json'))) return [];
  const cache = join(root, 'cache');
  if (!prepared.has(cache)) {
    await mkdir(cache, { recursive: true });
    // What the function wrote there before (a restart) is the function's: never follow a link it
    // planted (chown follows links, and shiplog may run as root). No function of it runs yet.
    if ((await lstat(cache)).isSymbolicLink()) return [];
    await sandbox.own(cache);
    for (const e of await readdir(cache, { recursive: true, withFileTypes: true })) {
      if (e.isFile() || e.isDirectory()) await sandbox.own(join(e.parentPath, e.name));
    }
    prepared.add(cache);
  }
  return [cache];
};

const workerPath = fileURLToPath(new URL('./function-worker.mjs', import.meta.url));

/**
 * Lambda-like execution environments for deployed functions, one child process per function
 * version: started on the first invocation, reused (invocations run concurrently in it), stopped
 * when idle or on `close`. A crash fails what was in flight with a 502 and the next invocation
 * starts a fresh environment. Each environment has the deployment's variables as its whole
 * environment, so deployments never see each other's, nor shiplog's. A streamed response
 * (`awslambda.streamifyResponse`) is handed over at its head and flows as produced; its
 * invocation lasts until the handler returns (work after the response, such as `after()`),
 * a client that leaves mid-stream aborts it in the function, and the timeout cuts it.
 *
 * @example
 * const pool = functionPool({ idleMs: 300_000 });
 * const inv = await pool.invoke(fn, apiGatewayV2Event);
 * await pool.close();
 */
export const functionPool = (opts: FunctionPoolOptions = {}) => {
  const idleMs = opts.idleMs ?? 5 * 60_000;
  const invokeTimeoutMs = opts.invokeTimeoutMs ?? 30_000;
  const sandbox = opts.sandbox ?? sandboxFromEnv();
  const maxEnvironments = opts.maxEnvironments ?? (Number(process.env.SHIPLOG_MAX_FUNCTIONS) || 32);
  const envs = new Map<string, Environment>();
  const startingEnvs = new Map<string, Promise<Environment>>();
  const preparedCaches = new Set<string>();
  /** Revalidations in flight, by function and URL: a page goes stale for every request until one regenerates it. */
  const revalidating = new Set<string>();
  let nextId = 1;
  let closed = false;

  // A STALE page, as OpenNext's revalidation function regenerates it on AWS: the same function
  // invoked with a HEAD carrying the preview id. Its response is not anyone's; its outcome is logged.
  const revalidate = (fn: FunctionRef, request: NonNullable<WorkerMessage['request']>) => {
    const key = `${fn.key} ${request.host}${request.url}`;
    if (closed || revalidating.has(key)) return;
    revalidating.add(key);
    void (async () => {
      try {
        const inv = await invoke(fn, revalidationEvent(request, { requestId: randomUUID(), now: new Date() }));
        if (inv.kind === 'stream') {
          inv.body.resume();
          await new Promise<void>((resolve) => inv.body.once('end', resolve).once('close', resolve).once('error', () => resolve()));
        }
      } catch (e) {
        opts.onLog?.(fn.key, `revalidation of ${request.url} failed: ${e instanceof Error ? e.message : String(e)}`, 'stderr');
      } finally {
        revalidating.delete(key);
      }
    })();
  };

  // A function's request to a site of the router, answered back over IPC (the worker's fetch awaits it).
  const siteFetch = (child: ChildProcess, fetchId: number | undefined, request: SiteFetchRequest) => {
    const reply = (m: object) => (child.connected ? child.send({ type: 'fetch-result', fetchId, ...m }, () => undefined) : undefined);
    if (!opts.sites) return reply({ error: 'no site router to fetch from' });
    opts.sites.fetch(request).then(
      (response) => reply({ response }),
      (e: unknown) => reply({ error: e instanceof Error ? e.message : String(e) }),
    );
  };

  const start = async (fn: FunctionRef): Promise<Environment> => {
    const vars = await fn.env();
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', NODE_ENV: 'production', ...vars };
    const writable = await prepareCache(fn.root ?? fn.dir, sandbox, preparedCaches);
    // In the sandbox: its version's folder read-only (but an OpenNext version's cache/), its own
    // /tmp, the internet but not shiplog. Its own session (detached), so it has no terminal; it
    // dies with the pool's process.
    const child = sandbox.spawn(
      process.execPath,
      [workerPath, fn.handler ?? 'index.handler', ...(opts.sites ? [`--site-domain=${opts.sites.domain}`] : [])],
      { cwd: fn.dir, env: { HOME: '/tmp', ...env }, readOnly: [fn.root ?? fn.dir, workerPath], writable, network: 'outside' },
      { ipc: true, serialization: 'advanced', detached: true },
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      const split = lineSplitter((line) => opts.onLog?.(fn.key, line, stream));
      child[stream]?.on('data', (c: Buffer) => split.write(c)).on('end', () => split.end());
    }
    const pending = new Map<number, Pending>();
    const ready = new Promise<void>((resolve, reject) => {
      const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        reject(new FunctionInvocationError(502, `function ${fn.key} did not start within ${startTimeoutMs} ms`));
        child.kill('SIGKILL');
      }, startTimeoutMs);
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve();
        if (m.type === 'init-error') reject(new FunctionInvocationError(502, `function ${fn.key} failed to start: ${m.message}`));
        if (m.type === 'ready' || m.type === 'init-error') clearTimeout(timer);
      });
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new FunctionInvocationError(502, why));
        for (const p of pending.values()) {
          clearTimeout(p.timer);
          // A response already complete is left to finish (only work after its end, e.g. after(), was lost).
          if (p.stream) {
            if (!p.ended) p.stream.destroy(new FunctionInvocationError(502, why));
          } else p.reject(new FunctionInvocationError(502, why));
        }
        pending.clear();
        if (envs.get(fn.key)?.child === child) envs.delete(fn.key);
      };
      child.on('exit', (code, signal) => fail(`function ${fn.key} exited (${signal ?? `code ${code}`})`));
      child.on('error', (e) => fail(`function ${fn.key} could not run: ${e.message}`));
    });
    ready.catch(() => undefined);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'revalidate' && m.request) return revalidate(fn, m.request);
      if (m.type === 'fetch' && m.fetch) return siteFetch(child, m.fetchId, m.fetch);
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p) return;
      const settle = () => {
        clearTimeout(p.timer);
        pending.delete(m.id!);
        environment.lastUsed = Date.now();
        environment.useSeq = ++uses;
      };
      switch (m.type) {
        case 'result':
          settle();
          return p.resolve({ kind: 'result', result: m.result });
        case 'error': {
          settle();
          const err = new FunctionInvocationError(502, `function ${fn.key} failed: ${m.message}`);
          // Failed mid-stream: the head is gone, so the client sees the response cut short.
          if (p.stream) return void (p.ended ? undefined : p.stream.destroy(err));
          return p.reject(err);
        }
        case 'head': {
          const stream = (p.stream = new PassThrough());
          // The consumer attaches after the head resolves (a microtask later); an 'error' or 'done'
          // arriving in the same IPC read would destroy the stream first and, with no listener, crash
          // the process. The error stays on the stream: async iteration, pipeline() and finished()
          // still see it.
          stream.on('error', () => undefined);
          // The client left before the end: tell the function, as `next start` would by closing its response.
          stream.once('close', () => {
            if (!p.ended && pending.get(m.id!) === p && child.connected) child.send({ type: 'abort', id: m.id }, () => undefined);
          });
          return p.resolve({ kind: 'stream', head: m.head ?? { statusCode: 200 }, body: stream });
        }
        case 'chunk':
          if (m.data && p.stream && !p.stream.destroyed) p.stream.write(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
          return;
        case 'end':
          // The response is complete; the invocation goes on until 'done' (e.g. after() callbacks),
          // still under its timeout and keeping its environment from being reaped as idle.
          p.ended = true;
          p.stream?.end();
          return;
        case 'done':
          settle();
          if (!p.stream) return p.reject(new FunctionInvocationError(502, `function ${fn.key} returned without a response`));
          if (!p.ended) p.stream.destroy();
          return;
      }
    });
    const environment: Environment = { child, ready, pending, starting: 0, lastUsed: Date.now(), useSeq: ++uses };
    envs.set(fn.key, environment);
    return environment;
  };

  const stop = (child: ChildProcess): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 2000).unref();
        });

  let uses = 0;
  // The cap: before an environment starts, the least recently used idle ones stop.
  const makeRoom = () => {
    while (envs.size + startingEnvs.size >= maxEnvironments) {
      const idle = [...envs].filter(([, e]) => e.starting === 0 && e.pending.size === 0).sort((a, b) => a[1].useSeq - b[1].useSeq)[0];
      if (!idle) throw new FunctionInvocationError(503, `${maxEnvironments} functions are running and none is idle (SHIPLOG_MAX_FUNCTIONS)`);
      envs.delete(idle[0]);
      void stop(idle[1].child);
    }
  };

  const reaper = setInterval(() => {
    for (const [key, env] of envs) {
      if (env.starting === 0 && env.pending.size === 0 && Date.now() - env.lastUsed > idleMs) {
        envs.delete(key);
        void stop(env.child);
      }
    }
  }, Math.min(idleMs, 30_000));
  reaper.unref();

  /** Invokes a function with an event; starts its environment if none is running. */
  const invoke = async (fn: FunctionRef, event: unknown): Promise<Invocation> => {
    if (closed) throw new FunctionInvocationError(502, 'the router is shutting down');
    let env = envs.get(fn.key);
    if (!env) {
      // Concurrent first requests share one start.
      let starting = startingEnvs.get(fn.key);
      if (!starting) {
        makeRoom();
        starting = start(fn).finally(() => startingEnvs.delete(fn.key));
        startingEnvs.set(fn.key, starting);
      }
      env = await starting;
    }
    env.lastUsed = Date.now();
    env.useSeq = ++uses;
    env.starting++;
    try {
      await env.ready;
    } finally {
      env.starting--;
    }
    const { child, pending } = env;
    const id = nextId++;
    return new Promise<Invocation>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new FunctionInvocationError(504, `function ${fn.key} timed out after ${invokeTimeoutMs} ms`);
        const p = pending.get(id);
        // A stream still open (an endless event stream) is cut, as Lambda cuts it at its timeout.
        if (p?.stream && !p.ended) p.stream.destroy(err);
        reject(err);
        pending.delete(id);
        // As Lambda does: a timed-out environment is not reused (not even while it is dying).
        if (envs.get(fn.key)?.child === child) envs.delete(fn.key);
        child.kill('SIGKILL');
      }, invokeTimeoutMs);
      pending.set(id, { resolve, reject, timer });
      child.send({ type: 'invoke', id, event, deadline: Date.now() + invokeTimeoutMs }, (err) => {
        if (!err) return;
        clearTimeout(timer);
        pending.delete(id);
        reject(new FunctionInvocationError(502, `function ${fn.key} is unreachable: ${err.message}`));
      });
    });
  };

  return {
    invoke,
    /** The keys of the functions with a running environment. */
    running: (): string[] => [...envs.keys()],
    /** Stops every environment and waits for them to exit. */
    async close(): Promise<void> {
      closed = true;
      clearInterval(reaper);
      await Promise.allSettled(startingEnvs.values());
      const all = [...envs.values()];
      envs.clear();
      await Promise.all(all.map((env) => stop(env.child)));
    },
  };
};

/**
 * The pool {@link functionPool} returns.
 *
 * @example
 * const pool: FunctionPool = functionPool();
 */
export type FunctionPool = ReturnType<typeof functionPool>;
