import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../local/dynamodb-local.ts';

/**
 * A running moto server: the AWS control planes (and S3, SQS, SSM, logs…) of the AWS box.
 *
 * @example
 * const moto = await startMoto();
 * new S3Client({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS, forcePathStyle: true });
 * await moto.stop();
 */
export interface Moto {
  endpoint: string;
  port: number;
  pid(): number;
  /** Answers `/moto-api/` now. */
  usable(): Promise<boolean>;
  stop(): Promise<void>;
}

/** The account moto answers as (its default), the same one the Pulumi-mocked declaration uses. */
export const BOX_ACCOUNT = '123456789012';
/** The region of the box. */
export const BOX_REGION = 'eu-west-1';
/** Credentials moto accepts (any); never real ones. */
export const BOX_CREDENTIALS = { accessKeyId: 'shiplogbox', secretAccessKey: 'shiplogbox' }; // DynamoDB Local takes letters and digits only

/**
 * Why moto cannot run here, or undefined when it can (`python3 -c 'import moto.server'`).
 *
 * @example
 * const missing = motoUnavailable(); if (missing) throw new Error(missing);
 */
export const motoUnavailable = (): string | undefined => {
  const r = spawnSync('python3', ['-c', 'import moto, moto.server, flask; print(moto.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return `moto is not installed for python3 (pip install 'moto[server]'): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
};

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts `python3 -m moto.server` on a free loopback port (or `port`) and waits until it answers.
 * The process is killed when this one exits.
 *
 * @example
 * const moto = await startMoto({ log: console.error });
 */
export const startMoto = async (opts: { port?: number; log?: (line: string) => void; startTimeoutMs?: number } = {}): Promise<Moto> => {
  const missing = motoUnavailable();
  if (missing) throw new Error(missing);
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ACCOUNT_ID: BOX_ACCOUNT, AWS_DEFAULT_REGION: BOX_REGION },
  });
  live.add(child);
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString('utf8')).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  const usable = async (): Promise<boolean> => {
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (!(await usable())) {
    if (exited) throw new Error(`moto exited at start: ${tail.trim().split('\n').slice(-5).join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto did not answer on ${endpoint} within ${opts.startTimeoutMs ?? 60_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    port,
    pid: () => child.pid ?? -1,
    usable,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
};

/**
 * The queue URL of an SQS queue ARN at an endpoint (what SendMessage takes), or `undefined` for
 * another ARN. A `queue/`-prefixed name (the mocked declaration's form) counts by its last part.
 *
 * @example
 * sqsQueueUrl('arn:aws:sqs:eu-west-1:123456789012:shiplog-box-x-dlq', 'http://127.0.0.1:4566'); // 'http://127.0.0.1:4566/123456789012/shiplog-box-x-dlq'
 */
export const sqsQueueUrl = (arn: string | undefined, endpoint: string): string | undefined => {
  const queue = /^arn:aws:sqs:[^:]*:([^:]*):(.+)$/.exec(arn ?? '');
  return queue ? `${endpoint}/${queue[1]}/${queue[2]!.split('/').pop()}` : undefined;
};
