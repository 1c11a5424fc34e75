import { readFile, rename, writeFile } from 'node:fs/promises';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record,
  type DynamoDBStreamsClient,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { z } from 'zod';
import { backoff, pause, type BackoffOptions } from '../../events/index.ts';
import { compilePattern } from '../../events/bus/pattern/index.ts';
import { BOX_ACCOUNT, BOX_REGION } from './moto.ts';

const DeclaredPipeSchema = z.object({
  name: z.string().min(1),
  sourceParameters: z.object({
    dynamodbStreamParameters: z.object({
      startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']),
      batchSize: z.number().int().min(1).max(10_000).default(100),
      maximumRetryAttempts: z.number().int().min(-1).default(-1),
      onPartialBatchItemFailure: z.literal('AUTOMATIC_BISECT').optional(),
      deadLetterConfig: z.object({ arn: z.string() }).optional(),
    }),
    filterCriteria: z.object({ filters: z.array(z.object({ pattern: z.string() })) }).optional(),
  }),
  targetParameters: z.object({
    eventbridgeEventBusParameters: z.object({ source: z.string(), detailType: z.string(), time: z.string(), resources: z.array(z.string()) }).partial().optional(),
    inputTemplate: z.string().optional(),
  }),
});

/**
 * The inputs of an `aws:pipes/pipe:Pipe` as the declaration registered them (resolved values):
 * what the Pipes stand-in runs. Other inputs (role, source and target ARNs…) are ignored.
 *
 * @example
 * const pipe: DeclaredPipe = parseDeclaredPipe(s.ofType('aws:pipes/pipe:Pipe')[0].inputs);
 */
export interface DeclaredPipe {
  name: string;
  sourceParameters: {
    dynamodbStreamParameters: {
      /** `TRIM_HORIZON` or `LATEST`. */
      startingPosition: string;
      batchSize: number;
      /** -1: until the record leaves the stream. */
      maximumRetryAttempts: number;
      onPartialBatchItemFailure?: string;
      deadLetterConfig?: { arn: string };
    };
    filterCriteria?: { filters: { pattern: string }[] };
  };
  targetParameters: {
    eventbridgeEventBusParameters?: { source?: string; detailType?: string; time?: string; resources?: string[] };
    inputTemplate?: string;
  };
}

/**
 * Reads a declared pipe out of registered Pulumi inputs, with the Pipes defaults (batch size
 * 100, retries forever) for what the declaration leaves out. Throws on a shape the stand-in does
 * not run, or on a filter pattern EventBridge would refuse.
 *
 * @example
 * parseDeclaredPipe({ name: 'shiplog-ci-outbox', sourceParameters: { dynamodbStreamParameters: { startingPosition: 'TRIM_HORIZON' } }, targetParameters: {} });
 */
export const parseDeclaredPipe = (inputs: unknown): DeclaredPipe => {
  const pipe: DeclaredPipe = DeclaredPipeSchema.parse(inputs);
  for (const f of pipe.sourceParameters.filterCriteria?.filters ?? []) compilePattern(f.pattern);
  return pipe;
};

/**
 * One entry the pipe hands to its EventBridge bus target (the lead maps it to PutEvents).
 *
 * @example
 * const e: PipeBusEntry = { Source: 'shiplog.build', DetailType: 'BuildStarted', Detail: '{"metadata":{},"data":{}}' };
 */
export interface PipeBusEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  Time?: Date;
  Resources?: string[];
}

/**
 * What the Pipes stand-in needs: the declared pipe and the parts it drives.
 *
 * @example
 * const opts: PipeStandInOptions = { pipe, dynamodb, streams, tableName, checkpointFile, enrich, putEvents, deadLetter };
 */
export interface PipeStandInOptions {
  pipe: DeclaredPipe;
  /** DynamoDB Local: the source table's stream ARN is read from it. */
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  /** Shard positions, rewritten atomically after every batch, so a restart resumes. */
  checkpointFile: string;
  /** Invokes the enrichment with a batch of stream records, as Pipes passes them. */
  enrich: (records: unknown[]) => Promise<unknown[]>;
  putEvents: (entries: PipeBusEntry[]) => Promise<{ failed: number }>;
  /** SendMessage to the declared dead-letter queue. */
  deadLetter: (messageBody: string) => Promise<void>;
  /** The safety-net poll; `wake()` polls at once. Default 500. */
  pollMs?: number;
  /** The wait between retries of a failing batch. Default `{ baseMs: 100, maxMs: 5_000 }`. */
  retryBackoff?: BackoffOptions;
  /** Named in dead letters. Default the box's `arn:aws:pipes:<region>:<account>:pipe/<name>`. */
  pipeArn?: string;
  log?: (line: string) => void;
}

/**
 * The running stand-in.
 *
 * @example
 * await runner.start(); store.append(...); runner.wake(); await runner.idle(); await runner.stop();
 */
export interface PipeStandIn {
  start(): Promise<void>;
  /** A commit happened: poll now rather than at the next interval. */
  wake(): void;
  /** Resolves after a pass that began after this call found nothing new (or when stopped). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

// seq: the last record settled (delivered, filtered out or dead-lettered); latest: none settled
// yet and the shard is read from LATEST; done: the shard is closed and read to its end.
interface Position { seq?: string; latest?: boolean; done: boolean }

/** A record as Pipes passes it on, with what the stand-in keeps beside it. */
interface Polled { record: Record<string, unknown>; seq: string; arrival: Date }

const PIPES_TARGET_MAX_ENTRIES = 10; // an EventBridge bus target takes at most 10 entries a call

// The record as JSON, the way Pipes hands it on: epoch seconds, binary attributes in base64,
// and the stream ARN it came from.
const toPipeRecord = (r: _Record, streamArn: string): Record<string, unknown> => {
  const { ApproximateCreationDateTime: at, ...dynamodb } = r.dynamodb ?? {};
  const record = { ...r, dynamodb: { ...(at ? { ApproximateCreationDateTime: at.getTime() / 1000 } : {}), ...dynamodb }, eventSourceARN: streamArn };
  return JSON.parse(JSON.stringify(record, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))) as Record<string, unknown>;
};

/**
 * Reads a JSONPath of the Pipes subset (`$`, `$.a.b`, `$.a[0]`) from a value.
 *
 * @example
 * readJsonPath({ detail: { n: [1, 2] } }, '$.detail.n[1]'); // 2
 */
export const readJsonPath = (value: unknown, path: string): unknown => {
  if (!/^\$((\.[^.[\]]+)|(\[\d+\]))*$/.test(path)) throw new Error(`unsupported JSONPath ${path}`);
  let at = value;
  for (const [, key, index] of path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key ?? Number(index)];
  }
  return at;
};

const isPath = (param: string) => param === '$' || param.startsWith('$.') || param.startsWith('$[');

/**
 * Renders a Pipes input template for one event: `<$.path>` is the value at that path (JSON text
 * outside a string literal, so `<$.detail>` alone is the object; escaped text inside one),
 * `<aws.pipes.pipe-name>`, `<aws.pipes.pipe-arn>`, `<aws.pipes.event.json>` the pipe's own.
 *
 * @example
 * renderInputTemplate('<$.detail>', { detail: { a: 1 } }, vars); // '{"a":1}'
 * renderInputTemplate('{"id": "<$.id>"}', { id: 'x"y' }, vars); // '{"id": "x\\"y"}'
 */
export const renderInputTemplate = (template: string, event: unknown, vars: { pipeName: string; pipeArn: string }): string => {
  const json = /^\s*[{["<]/.test(template);
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    const placeholder = c === '<' ? /^<(\$[^<>\s]*|aws\.pipes\.[a-z.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder) {
      const name = placeholder[1]!;
      const value =
        name === 'aws.pipes.pipe-name' ? vars.pipeName
        : name === 'aws.pipes.pipe-arn' ? vars.pipeArn
        : name === 'aws.pipes.event.json' ? event
        : name.startsWith('$') ? readJsonPath(event, name)
        : undefined;
      if (value === undefined) throw new Error(`input template: ${name} has no value`);
      const text = typeof value === 'string' && (inString || !json) ? value : JSON.stringify(value);
      out += inString ? JSON.stringify(text).slice(1, -1) : text;
      i += placeholder[0].length - 1;
      continue;
    }
    if (json && c === '\\' && inString) out += template[i++] ?? '';
    else if (json && c === '"') inString = !inString;
    out += template[i] ?? '';
  }
  return out;
};

const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The EventBridge Pipes stand-in of the AWS box: runs one declared pipe with a DynamoDB stream
 * source, a batch enrichment and an EventBridge bus target, as Pipes would. Each shard is read
 * in order (a child after its parent); records matching a declared filter (any of them) go in
 * batches of at most `batchSize` to the enrichment, whose output items become bus entries
 * through the target parameters (JSONPaths, input template). A failing batch (the enrichment
 * throws, or an entry fails) is split in two at once under AUTOMATIC_BISECT (splits are not
 * retries, as for Lambda's bisect); a batch that cannot be split further is retried
 * `maximumRetryAttempts` times with backoff, then its position (not its records) goes to the
 * dead-letter queue and the shard moves on. Positions are checkpointed after every settled
 * batch: a restart resumes there and may deliver a batch twice, never skips one.
 *
 * @example
 * const runner = pipeStandIn({ pipe, dynamodb, streams, tableName: 'shiplog-box-events', checkpointFile, enrich, putEvents, deadLetter });
 * await runner.start();
 */
export const pipeStandIn = (opts: PipeStandInOptions): PipeStandIn => {
  const { pipe } = opts;
  const source = pipe.sourceParameters.dynamodbStreamParameters;
  const target = pipe.targetParameters;
  const filters = (pipe.sourceParameters.filterCriteria?.filters ?? []).map((f) => compilePattern(f.pattern));
  const pipeArn = opts.pipeArn ?? `arn:aws:pipes:${BOX_REGION}:${BOX_ACCOUNT}:pipe/${pipe.name}`;
  const retryDelay = backoff(opts.retryBackoff ?? { baseMs: 100, maxMs: 5_000 });
  const pollMs = opts.pollMs ?? 500;
  const log = (line: string) => opts.log?.(`pipe ${pipe.name}: ${line}`);

  let streamArn: string | undefined;
  let positions = new Map<string, Position>();
  let firstRun = true; // no checkpoint of this stream: LATEST applies to the shards open now
  const iterators = new Map<string, string>();
  let abort = new AbortController();
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let [polling, woken, failed] = [false, false, false];
  let passes = 0;
  let waiters: { after: number; resolve: () => void }[] = [];

  const saveCheckpoint = async () => {
    const tmp = `${opts.checkpointFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ streamArn, shards: Object.fromEntries(positions) }, null, 2));
    await rename(tmp, opts.checkpointFile);
  };

  const loadCheckpoint = async () => {
    const table = await opts.dynamodb.send(new DescribeTableCommand({ TableName: opts.tableName }));
    streamArn = table.Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`table ${opts.tableName} has no stream`);
    const saved = await readFile(opts.checkpointFile, 'utf8').then((t) => JSON.parse(t) as { streamArn: string; shards: Record<string, Position> }, () => undefined);
    // A checkpoint of another stream (the table was recreated) says nothing about this one.
    firstRun = saved?.streamArn !== streamArn;
    positions = new Map(firstRun ? [] : Object.entries(saved!.shards));
    iterators.clear();
  };

  const listShards = async (): Promise<Shard[]> => {
    const out: Shard[] = [];
    let ExclusiveStartShardId: string | undefined;
    do {
      const res = await opts.streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId }));
      out.push(...(res.StreamDescription?.Shards ?? []));
      ExclusiveStartShardId = res.StreamDescription?.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
    return out;
  };

  const iteratorFor = async (shardId: string, at: Position): Promise<string | undefined> => {
    const res = await opts.streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(at.seq ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: at.seq }
          : { ShardIteratorType: at.latest ? 'LATEST' : 'TRIM_HORIZON' }),
      }),
    );
    return res.ShardIterator;
  };

  const toEntry = (item: unknown): PipeBusEntry => {
    const p = target.eventbridgeEventBusParameters ?? {};
    const read = (param: string | undefined, what: string): string | undefined => {
      if (param === undefined || !isPath(param)) return param;
      const v = readJsonPath(item, param);
      if (typeof v !== 'string') throw new Error(`target parameter ${what} (${param}) is not a string in the enrichment output`);
      return v;
    };
    const Source = read(p.source, 'source');
    const DetailType = read(p.detailType, 'detailType');
    if (!Source || !DetailType) throw new Error('a bus entry needs a source and a detail type');
    const time = read(p.time, 'time');
    const Time = time === undefined ? undefined : new Date(time);
    if (Time && Number.isNaN(Time.getTime())) throw new Error(`target parameter time is not a time`);
    const Resources = p.resources?.map((r) => read(r, 'resources')!);
    const Detail = target.inputTemplate === undefined ? JSON.stringify(item)
      : renderInputTemplate(target.inputTemplate, item, { pipeName: pipe.name, pipeArn });
    return { Source, DetailType, Detail, ...(Time ? { Time } : {}), ...(Resources ? { Resources } : {}) };
  };

  // One invocation of the pipe for a batch: enrichment, then the target. The error, if any.
  const invoke = async (batch: Polled[]): Promise<unknown> => {
    try {
      const out: unknown = await opts.enrich(batch.map((p) => p.record));
      const items = Array.isArray(out) ? out : out === undefined || out === null ? [] : [out];
      if (items.length === 0) return undefined;
      if (items.length > PIPES_TARGET_MAX_ENTRIES) throw new Error(`the enrichment returned ${items.length} events, the bus takes ${PIPES_TARGET_MAX_ENTRIES}`);
      const { failed } = await opts.putEvents(items.map(toEntry));
      if (failed > 0) throw new Error(`${failed} of ${items.length} bus entries failed`);
      return undefined;
    } catch (err) {
      return err;
    }
  };

  const sendDeadLetter = async (shardId: string, batch: Polled[]) => {
    const first = batch[0]!;
    const last = batch.at(-1)!;
    if (!source.deadLetterConfig) {
      log(`dropped records ${first.seq}..${last.seq} of ${shardId} (no dead-letter queue declared)`);
      return;
    }
    // What Pipes writes for a stream source: where the records are, not the records.
    const body = {
      context: { partnerResourceArn: pipeArn, condition: 'RetryAttemptsExhausted' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId, startSequenceNumber: first.seq, endSequenceNumber: last.seq,
        approximateArrivalOfFirstRecord: isoSeconds(first.arrival), approximateArrivalOfLastRecord: isoSeconds(last.arrival),
        batchSize: batch.length, streamArn,
      },
    };
    await opts.deadLetter(JSON.stringify(body));
    log(`dead-lettered records ${first.seq}..${last.seq} of ${shardId}`);
  };

  // Delivers a batch or dead-letters it, then moves the shard's position past it. False when
  // stopped before the batch was settled (the position stays before it).
  const settle = async (shardId: string, at: Position, batch: Polled[]): Promise<boolean> => {
    for (let attempt = 0; ; attempt++) {
      const err = await invoke(batch);
      if (err === undefined) break;
      if (abort.signal.aborted) return false;
      const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (source.onPartialBatchItemFailure === 'AUTOMATIC_BISECT' && batch.length > 1) {
        log(`batch of ${batch.length} failed (${why}); bisecting`);
        const half = Math.ceil(batch.length / 2);
        return (await settle(shardId, at, batch.slice(0, half))) && settle(shardId, at, batch.slice(half));
      }
      if (source.maximumRetryAttempts >= 0 && attempt >= source.maximumRetryAttempts) {
        log(`batch of ${batch.length} failed ${attempt + 1} times (${why})`);
        await sendDeadLetter(shardId, batch);
        break;
      }
      await pause(retryDelay(attempt), abort.signal);
      if (abort.signal.aborted) return false;
    }
    Object.assign(at, { seq: batch.at(-1)!.seq, latest: undefined });
    await saveCheckpoint();
    return true;
  };

  // Reads one shard to its current end. Returns how many records it read, or undefined when
  // stopped mid-batch.
  const drainShard = async (shardId: string, at: Position): Promise<number | undefined> => {
    let read = 0;
    for (;;) {
      let iterator = iterators.get(shardId) ?? (await iteratorFor(shardId, at));
      if (!iterator) {
        at.done = true;
        return saveCheckpoint().then(() => read);
      }
      let res;
      try {
        res = await opts.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (err) {
        iterators.delete(shardId);
        if (err instanceof ExpiredIteratorException) continue;
        if (err instanceof TrimmedDataAccessException) {
          if (at.seq !== undefined) log(`records after ${at.seq} of ${shardId} are past the stream's retention; reading from the oldest kept`);
          Object.assign(at, { seq: undefined, latest: undefined });
          continue;
        }
        throw err;
      }
      const records = res.Records ?? [];
      read += records.length;
      const polled = records.map((r) => ({
        record: toPipeRecord(r, streamArn!),
        seq: r.dynamodb!.SequenceNumber!,
        arrival: r.dynamodb?.ApproximateCreationDateTime ?? new Date(),
      }));
      const matching = filters.length === 0 ? polled : polled.filter((p) => filters.some((f) => f(p.record)));
      for (let i = 0; i < matching.length; i += source.batchSize) {
        if (!(await settle(shardId, at, matching.slice(i, i + source.batchSize)))) {
          iterators.delete(shardId);
          return undefined;
        }
      }
      iterator = res.NextShardIterator;
      if (iterator) iterators.set(shardId, iterator);
      else iterators.delete(shardId);
      // Records filtered out after the last batch are settled too.
      if (polled.length > 0) Object.assign(at, { seq: polled.at(-1)!.seq, latest: undefined });
      at.done = !iterator;
      if (polled.length > 0 || at.done) await saveCheckpoint();
      if (records.length === 0 || at.done) return read;
    }
  };

  // One pass over every shard. Returns how many records it read, or undefined when stopped.
  const pass = async (): Promise<number | undefined> => {
    const shards = await listShards();
    const ids = new Set(shards.map((s) => s.ShardId!));
    let read = 0;
    for (const shard of shards) {
      if (abort.signal.aborted) return undefined;
      const id = shard.ShardId!;
      let at = positions.get(id);
      if (!at) {
        // LATEST skips what an open shard held when the pipe was created; later shards are read whole.
        at = { done: false, ...(firstRun && source.startingPosition === 'LATEST' && !shard.SequenceNumberRange?.EndingSequenceNumber ? { latest: true } : {}) };
        positions.set(id, at);
      }
      if (at.done) continue;
      // A child shard waits for its parent, so the records of one item keep their order.
      if (shard.ParentShardId && ids.has(shard.ParentShardId) && !positions.get(shard.ParentShardId)?.done) continue;
      const n = await drainShard(id, at);
      if (n === undefined) return undefined;
      read += n;
    }
    firstRun = false;
    return read;
  };

  const loop = () => {
    if (stopped) return;
    [polling, woken, failed] = [true, false, false];
    const number = ++passes;
    running = pass()
      .then(
        (read) => {
          if (read !== 0) return;
          for (const w of waiters.filter((x) => x.after < number)) w.resolve();
          waiters = waiters.filter((w) => w.after >= number);
        },
        (err: unknown) => {
          failed = true;
          iterators.clear();
          log(`poll failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        },
      )
      .finally(() => {
        polling = false;
        // Someone waiting for idle() wants the next pass now, unless this one failed.
        if (!stopped) timer = setTimeout(loop, woken || (waiters.length > 0 && !failed) ? 0 : pollMs);
      });
  };

  const wake = () => {
    if (stopped) return;
    if (polling) return void (woken = true);
    if (timer) clearTimeout(timer);
    loop();
  };

  return {
    start: async () => {
      if (!stopped) return;
      await loadCheckpoint();
      abort = new AbortController();
      stopped = false;
      loop();
    },
    wake,
    idle: () =>
      new Promise<void>((resolve) => {
        if (stopped) return resolve();
        waiters.push({ after: passes, resolve });
        wake();
      }),
    stop: async () => {
      stopped = true;
      abort.abort();
      if (timer) clearTimeout(timer);
      await running;
      for (const w of waiters) w.resolve();
      waiters = [];
    },
  };
};
