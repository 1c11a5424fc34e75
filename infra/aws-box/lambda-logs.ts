import { createHash } from 'node:crypto';
import type { CloudWatchLogsClient} from '@aws-sdk/client-cloudwatch-logs';
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

// Lambda sends what a function writes, and a report of each invocation, to CloudWatch Logs
// (`/aws/lambda/<function>`, one log stream per execution environment). moto keeps log groups but
// runs no function, so nothing would write them: this is that delivery for the Lambda stand-in.
// It writes Lambda's two formats: Text (`START`/`END`/`REPORT` lines and tab-separated
// application lines) and JSON (`{"timestamp","level","requestId","message"}` application records
// and `platform.start`/`platform.report` system records), chosen by the function's LoggingConfig.

/**
 * A function version as its logs name it. `logFormat` and `logGroup` come from its LoggingConfig
 * (Text and `/aws/lambda/<name>` by default, as on Lambda).
 *
 * @example
 * const fn: LoggedFunction = { name: 'shiplog-site-web', version: '3', memoryMb: 1024, logFormat: 'JSON' };
 */
export interface LoggedFunction {
  name: string;
  version: string;
  memoryMb: number;
  logFormat?: 'JSON' | 'Text';
  logGroup?: string;
}

/**
 * How an invocation ended: `success`, an error the handler threw (`error`), or the timeout.
 *
 * @example
 * end({ status: 'error', durationMs: 35, errorType: 'Error', errorMessage: 'boom' });
 */
export interface InvocationEnd {
  status: 'success' | 'error' | 'timeout';
  durationMs: number;
  errorType?: string;
  errorMessage?: string;
}

interface Running {
  requestId: string;
  fn: LoggedFunction;
}

interface Stream {
  group: string;
  name: string;
  ready?: Promise<void>;
  pending: { timestamp: number; message: string }[];
}

/**
 * Log events cut into PutLogEvents calls: at most 10 000 events and 1 MiB each (26 bytes of
 * overhead per event); kept well under both.
 *
 * @example
 * for (const logEvents of logEventBatches(lines)) await cwl.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents }));
 */
export const logEventBatches = <E extends { message: string }>(events: readonly E[]): E[][] => {
  const batches: E[][] = [];
  for (let i = 0; i < events.length;) {
    let bytes = 0;
    let j = i;
    while (j < events.length && j - i < 5000 && bytes < 800_000) bytes += Buffer.byteLength(events[j++]!.message) + 26;
    batches.push(events.slice(i, j));
    i = j;
  }
  return batches;
};

/** The application log level of a line, as Lambda's Node runtime records a console method. */
const levelOf = (text: string, stream: 'stdout' | 'stderr'): string => {
  if (/^\s*\{/.test(text)) {
    try {
      const level = (JSON.parse(text) as { level?: unknown }).level;
      if (typeof level === 'string') return level.toUpperCase();
    } catch {
      // not JSON: by stream
    }
  }
  return stream === 'stderr' ? 'ERROR' : 'INFO';
};

/**
 * The CloudWatch Logs delivery of the Lambda stand-in. `begin` when an invocation starts, `line`
 * for each line the environment writes (attributed to the invocation it is serving, or last
 * served: an environment serves one at a time, and a line can arrive after its result), `end`
 * when it ends. Writes are batched (every `flushMs`). A line an environment writes before its
 * first invocation (start-up output) carries no request id.
 *
 * @example
 * const logs = lambdaLogs({ logs: motoLogs });
 * const end = logs.begin('fn:3@ab12', { name: 'fn', version: '3', memoryMb: 1024, logFormat: 'JSON' }, requestId);
 * logs.line('fn:3@ab12', 'hello', 'stdout');
 * end({ status: 'success', durationMs: 12 });
 * await logs.flush();
 */
export const lambdaLogs = (opts: { logs: CloudWatchLogsClient; flushMs?: number; log?: (line: string) => void; now?: () => number }) => {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const flushMs = opts.flushMs ?? 200;
  const running = new Map<string, Running>();
  const started = new Set<string>();
  const fns = new Map<string, LoggedFunction>();
  const streams = new Map<string, Stream>();
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();

  const streamOf = (key: string, fn: LoggedFunction): Stream => {
    let s = streams.get(key);
    if (!s) {
      const day = new Date(now()).toISOString().slice(0, 10).replace(/-/g, '/');
      const env = createHash('sha256').update(key).digest('hex').slice(0, 32);
      s = { group: fn.logGroup ?? `/aws/lambda/${fn.name}`, name: `${day}/[${fn.version}]${env}`, pending: [] };
      streams.set(key, s);
    }
    return s;
  };

  const exists = (err: Error) => {
    if (err.name !== 'ResourceAlreadyExistsException') throw err;
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    chain = chain.then(async () => {
      for (const s of streams.values()) {
        if (s.pending.length === 0) continue;
        s.ready ??= (async () => {
          await opts.logs.send(new CreateLogGroupCommand({ logGroupName: s.group })).catch(exists);
          await opts.logs.send(new CreateLogStreamCommand({ logGroupName: s.group, logStreamName: s.name })).catch(exists);
        })();
        const batch = s.pending.splice(0, s.pending.length);
        try {
          await s.ready;
          for (const logEvents of logEventBatches(batch)) {
            await opts.logs.send(new PutLogEventsCommand({ logGroupName: s.group, logStreamName: s.name, logEvents }));
          }
        } catch (err) {
          s.ready = undefined;
          log(`lambda logs: ${batch.length} lines of ${s.group} lost: ${(err as Error).message}`);
        }
      }
    });
    return chain;
  };

  const write = (key: string, fn: LoggedFunction, message: string) => {
    // A batch must be in time order, even if the clock steps back.
    last = Math.max(last, now());
    streamOf(key, fn).pending.push({ timestamp: last, message: message.slice(0, 250_000) || ' ' });
    timer ??= setTimeout(() => void flush(), flushMs).unref();
  };
  const iso = () => new Date(Math.max(last, now())).toISOString();
  const json = (fn: LoggedFunction) => fn.logFormat === 'JSON';

  const begin = (key: string, fn: LoggedFunction, requestId: string): ((end: InvocationEnd) => void) => {
    const cold = !started.has(key);
    started.add(key);
    fns.set(key, fn);
    running.set(key, { requestId, fn });
    write(key, fn, json(fn)
      ? JSON.stringify({ time: iso(), type: 'platform.start', record: { requestId, version: fn.version } })
      : `START RequestId: ${requestId} Version: ${fn.version}`);
    let ended = false;
    return (end) => {
      if (ended) return;
      ended = true;
      // The invocation's entry stays until the next one begins: its last lines may reach us after
      // its result (the worker's pipes and its IPC channel are read independently), and on Lambda
      // every line written while it ran carries its request id.
      const durationMs = Math.round(end.durationMs * 100) / 100;
      const billed = Math.max(1, Math.ceil(end.durationMs));
      if (end.status !== 'success' && end.errorMessage !== undefined) {
        write(key, fn, json(fn)
          ? JSON.stringify({ timestamp: iso(), level: 'ERROR', requestId, message: { errorType: end.errorType ?? 'Error', errorMessage: end.errorMessage } })
          : `${iso()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify({ errorType: end.errorType ?? 'Error', errorMessage: end.errorMessage })}`);
      }
      if (json(fn)) {
        const metrics = { durationMs, billedDurationMs: billed, memorySizeMB: fn.memoryMb, maxMemoryUsedMB: 0, ...(cold ? { initDurationMs: 0 } : {}) };
        write(key, fn, JSON.stringify({ time: iso(), type: 'platform.report', record: { requestId, metrics, status: end.status } }));
      } else {
        write(key, fn, `END RequestId: ${requestId}`);
        write(key, fn, `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${fn.memoryMb} MB\tMax Memory Used: 0 MB${cold ? '\tInit Duration: 0.00 ms' : ''}${end.status === 'timeout' ? '\tStatus: timeout' : ''}`);
      }
    };
  };

  const line = (key: string, text: string, stream: 'stdout' | 'stderr') => {
    const fn = fns.get(key);
    if (!fn) return;
    const requestId = running.get(key)?.requestId;
    const level = levelOf(text, stream);
    if (json(fn)) {
      // A line the function already wrote as JSON keeps its fields; Lambda adds what is missing.
      let fields: Record<string, unknown> = { message: text };
      if (/^\s*\{/.test(text)) {
        try {
          const parsed = JSON.parse(text) as unknown;
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) fields = parsed as Record<string, unknown>;
        } catch {
          // plain text that starts with a brace
        }
      }
      write(key, fn, JSON.stringify({ timestamp: iso(), level, ...(requestId ? { requestId } : {}), ...fields }));
    } else {
      write(key, fn, requestId ? `${iso()}\t${requestId}\t${level}\t${text}` : text);
    }
  };

  return { begin, line, flush };
};

/** The delivery {@link lambdaLogs} returns. */
export type LambdaLogs = ReturnType<typeof lambdaLogs>;
