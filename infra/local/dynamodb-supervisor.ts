import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { backoff } from '../../events/index.ts';
import { dynamoClient, startDynamoLocal, type DynamoLocal, type DynamoLocalOptions } from './dynamodb-local.ts';

/**
 * DynamoDB Local kept alive: when the JVM dies it is started again on the same port with the
 * same data dir, so every client (the SDK clients, the outbox, the dashboard, the CLI) finds it
 * where it was. Clients see connection errors meanwhile and retry.
 *
 * @example
 * const db = await superviseDynamoLocal({ dataDir: '.shiplog/dynamodb', loopbackOnly: true, log: console.error });
 * if (!(await db.usable())) console.log('database unavailable');
 * await db.stop();
 */
export interface SupervisedDynamoLocal {
  endpoint: string;
  port: number;
  /** The current JVM's pid. */
  pid(): number;
  /** `up` while a JVM runs and answered at start; `restarting` between a death and an answer. */
  state(): 'up' | 'restarting' | 'stopped';
  /** How many times it was started again. */
  restarts(): number;
  /** Up and answering a `ListTables` now (within `timeoutMs`). */
  usable(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

export interface SupervisorOptions extends DynamoLocalOptions {
  log?: (line: string) => void;
  /** First wait before a failed restart is tried again; doubles up to 10 s. */
  retryBaseMs?: number;
  /** Tries of the first start before giving up (each failure is logged with the JVM's output); default 3. */
  startAttempts?: number;
}

export const superviseDynamoLocal = async (opts: SupervisorOptions): Promise<SupervisedDynamoLocal> => {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const delay = backoff({ baseMs: opts.retryBaseMs ?? 500, maxMs: 10_000, jitter: 'equal' });
  const attempts = Math.max(1, opts.startAttempts ?? 3);
  const first = async (): Promise<DynamoLocal> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startDynamoLocal({ ...opts, onWarning: attempt === 1 ? (opts.onWarning ?? log) : () => {} });
      } catch (err) {
        if (attempt >= attempts) throw err;
        log(`shiplog: DynamoDB Local did not start (try ${attempt} of ${attempts}): ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, delay(attempt - 1)));
      }
    }
  };
  let current: DynamoLocal = await first();
  const port = current.port;
  let state: 'up' | 'restarting' | 'stopped' = 'up';
  let restarts = 0;
  let restarting: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const probe = dynamoClient(current.endpoint);

  const restart = async (): Promise<void> => {
    for (let attempt = 0; state === 'restarting'; attempt++) {
      try {
        const next = await startDynamoLocal({ ...opts, port, onWarning: () => {} });
        if (state !== 'restarting') {
          await next.stop();
          return;
        }
        current = next;
        restarts++;
        state = 'up';
        log(`shiplog: DynamoDB Local is back on 127.0.0.1:${port} (restart ${restarts})`);
        watch(next);
        return;
      } catch (err) {
        log(`shiplog: DynamoDB Local did not start again: ${(err as Error).message}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay(attempt));
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    }
  };

  const watch = (db: DynamoLocal) => {
    void db.exited.then(({ code, signal }) => {
      if (state !== 'up' || current !== db) return;
      state = 'restarting';
      log(`shiplog: DynamoDB Local exited (${signal ?? `code ${code}`}); starting it again on the same port and data`);
      restarting = restart().finally(() => (restarting = undefined));
    });
  };
  watch(current);

  return {
    endpoint: current.endpoint,
    port,
    pid: () => current.pid,
    state: () => state,
    restarts: () => restarts,
    usable: async (timeoutMs = 2000) => {
      if (state !== 'up') return false;
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
        return state === 'up';
      } catch {
        return false;
      }
    },
    stop: async () => {
      state = 'stopped';
      wake?.();
      await restarting;
      probe.destroy();
      await current.stop();
    },
  };
};
