import { DescribeTableCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { BusEntry, EventBus, StoredEvent } from '../../events/index.ts';
import type { EventTypeRegistry } from '../../events/store/index.ts';
import { createTableIfMissing, pkSkTableDefinition } from '../../events/index.ts';
import { localCredentials, localSigner } from './dynamodb-local.ts';

export interface StreamOutboxOptions {
  endpoint: string;
  client: DynamoDBClient;
  /** The event store table whose stream is read. */
  tableName: string;
  /** Where shard checkpoints are kept, so a restart resumes instead of republishing everything. */
  checkpointTable: string;
  bus: EventBus;
  pollMs?: number;
  /** Offered event ids remembered until the stream shows them (default 10,000). */
  maxOffered?: number;
  onError?: (err: unknown) => void;
}

/**
 * The local outbox: reads the event store table's DynamoDB stream (every shard, parents before
 * children), publishes each committed event to the bus, then checkpoints. A restart resumes after
 * the checkpoint: an event may be published twice (the bus is at-least-once anyway), never lost.
 * On AWS the same job is done by an EventBridge Pipe.
 *
 * @example
 * const outbox = streamOutbox({ endpoint, client, tableName, checkpointTable, bus });
 * await outbox.start();
 */
export interface StreamOutbox {
  start(): Promise<void>;
  /** One pass over every shard; returns how many events it published. */
  pollOnce(): Promise<number>;
  /**
   * A commit happened (the store's `onCommitted`): read the open shards now instead of at the next
   * interval; a wake during a pass makes another pass follow it at once. The interval poll stays
   * the safety net. Neither lists the stream's shards each time: that is done once a second, when a
   * pass sees a shard close, and after a failed pass.
   */
  wake(): void;
  /**
   * Events this process has just committed (the store's `onCommitted`): published at once, not
   * when the stream is next read. The stream stays the record: a pass that reads an offered event
   * waits for its publish to be accepted, checkpoints past it without publishing it again, and
   * publishes it itself when that publish failed. So a crash before the checkpoint republishes
   * (at least once), and nothing offered is lost. Offered ids not yet seen are kept up to
   * `maxOffered`; past that the oldest are forgotten and published a second time by the stream.
   */
  offer(entries: BusEntry[]): void;
  stop(): Promise<void>;
}

export const toBusEntry = (record: _Record): BusEntry | undefined => {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image?.detail?.S || !image.type?.S || !image.source?.S) return undefined;
  return { source: image.source.S, detailType: image.type.S, detail: JSON.parse(image.detail.S) as BusEntry['detail'] };
};

/**
 * The bus entry of an event this process has just committed, as `toBusEntry` makes it from the
 * stream record: the type's source, the type as detail-type, `{ metadata, data }` as detail (a
 * copy: a subscriber never shares objects with the appender).
 *
 * @example
 * outbox.offer(stored.map((e) => busEntryOf(eventTypes, e)));
 */
export const busEntryOf = (types: Pick<EventTypeRegistry, 'sourceOf'>, event: StoredEvent): BusEntry => ({
  source: types.sourceOf(event.type),
  detailType: event.type,
  detail: structuredClone({ metadata: event.metadata, data: event.data }) as BusEntry['detail'],
});

export const createCheckpointTable = (client: DynamoDBClient, TableName: string) =>
  createTableIfMissing(client, pkSkTableDefinition(TableName));

interface ShardState {
  iterator?: string;
  seq?: string;
  done: boolean;
}

export const streamOutbox = (opts: StreamOutboxOptions): StreamOutbox => {
  const streamsClient = new DynamoDBStreamsClient({ endpoint: opts.endpoint, region: 'local', credentials: localCredentials, signer: localSigner });
  const pollMs = opts.pollMs ?? 100;
  const listEveryMs = Math.max(1000, pollMs);
  const shards = new Map<string, ShardState>();
  // The shards as last listed, and when: a pass reads these instead of asking DescribeStream again,
  // unless they are older than `listEveryMs` (so wakes in a row never starve the listing).
  let listed: { shards: Shard[]; at: number } | undefined;
  let streamArn: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let woken = false;
  // eventId → whether its offered publish was accepted (settles once the bus has journaled it)
  const offered = new Map<string, Promise<boolean>>();
  const maxOffered = opts.maxOffered ?? 10_000;
  const idOf = (e: BusEntry) => e.detail.metadata?.eventId;

  // What of a page the stream returned still needs publishing: an offered event is skipped once
  // its own publish is accepted (awaited, so the checkpoint never passes an unaccepted event).
  const unpublished = async (entries: BusEntry[]): Promise<BusEntry[]> => {
    if (offered.size === 0) return entries;
    const out: BusEntry[] = [];
    for (const entry of entries) {
      const id = idOf(entry);
      const early = id === undefined ? undefined : offered.get(id);
      if (early) offered.delete(id!);
      if (!early || !(await early)) out.push(entry);
    }
    return out;
  };

  const checkpointKey = (shardId: string) => ({ pk: { S: streamArn! }, sk: { S: shardId } });

  const loadCheckpoint = async (shardId: string): Promise<ShardState> => {
    const res = await opts.client.send(
      new GetItemCommand({ TableName: opts.checkpointTable, Key: checkpointKey(shardId), ConsistentRead: true }),
    );
    return { seq: res.Item?.seq?.S, done: res.Item?.done?.BOOL ?? false };
  };

  const saveCheckpoint = async (shardId: string, state: ShardState) => {
    await opts.client.send(
      new PutItemCommand({
        TableName: opts.checkpointTable,
        Item: { ...checkpointKey(shardId), ...(state.seq ? { seq: { S: state.seq } } : {}), done: { BOOL: state.done } },
      }),
    );
  };

  const listShards = async (): Promise<Shard[]> => {
    const out: Shard[] = [];
    let ExclusiveStartShardId: string | undefined;
    do {
      const res = await streamsClient.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId }));
      out.push(...(res.StreamDescription?.Shards ?? []));
      ExclusiveStartShardId = res.StreamDescription?.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
    return out;
  };

  const iteratorFor = async (shardId: string, state: ShardState): Promise<string | undefined> => {
    const res = await streamsClient.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(state.seq
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: state.seq }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return res.ShardIterator;
  };

  const drainShard = async (shardId: string, state: ShardState): Promise<number> => {
    let published = 0;
    // Checkpoints are written in order, each once its records are published, while the next read
    // is already under way (it is not held up by the write); the pass ends when they are written.
    let saved: Promise<void> = Promise.resolve();
    const checkpoint = () => {
      const at: ShardState = { seq: state.seq, done: state.done };
      saved = saved.then(() => saveCheckpoint(shardId, at));
      saved.catch(() => {}); // awaited below, when the shard is drained
    };
    try {
      for (;;) {
        state.iterator ??= await iteratorFor(shardId, state);
        if (!state.iterator) {
          state.done = true;
          checkpoint();
          return published;
        }
        let res;
        try {
          res = await streamsClient.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
        } catch (err) {
          state.iterator = undefined;
          if (err instanceof ExpiredIteratorException) continue;
          if (err instanceof TrimmedDataAccessException) {
            // The checkpoint points at records the stream no longer keeps (24 h): start at the oldest kept.
            state.seq = undefined;
            continue;
          }
          throw err;
        }
        const records = res.Records ?? [];
        const entries = await unpublished(records.map(toBusEntry).filter((e): e is BusEntry => e !== undefined));
        // Publish first, checkpoint after: a crash in between republishes, never loses.
        if (entries.length > 0) await opts.bus.publish(entries);
        published += entries.length;
        state.iterator = res.NextShardIterator;
        const last = records.at(-1)?.dynamodb?.SequenceNumber;
        if (last) state.seq = last;
        if (!state.iterator) state.done = true;
        if (last || state.done) checkpoint();
        if (records.length === 0 || state.done) return published;
      }
    } finally {
      await saved;
    }
  };

  // One pass over every shard; `known` reuses a recent listing. A shard that closes during a pass
  // may have children the listing does not hold yet: then list and pass again.
  const pass = async (known: boolean): Promise<number> => {
    if (!streamArn) {
      const table = await opts.client.send(new DescribeTableCommand({ TableName: opts.tableName }));
      streamArn = table.Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${opts.tableName} has no stream`);
    }
    if (!known || !listed || Date.now() - listed.at > listEveryMs) listed = { shards: await listShards(), at: Date.now() };
    const all = listed.shards;
    const ids = new Set(all.map((s) => s.ShardId!));
    let published = 0;
    let closed = false;
    for (const shard of all) {
      const id = shard.ShardId!;
      if (!shards.has(id)) shards.set(id, await loadCheckpoint(id));
      const state = shards.get(id)!;
      if (state.done) continue;
      // A child shard waits for its parent, so one stream's events keep their order.
      const parent = shard.ParentShardId ? shards.get(shard.ParentShardId) : undefined;
      if (shard.ParentShardId && ids.has(shard.ParentShardId) && !parent?.done) continue;
      published += await drainShard(id, state);
      closed ||= state.done;
    }
    return closed && known ? published + (await pass(false)) : published;
  };
  // One pass at a time: two would read a shard through the same iterator and publish twice.
  let passes: Promise<unknown> = Promise.resolve();
  const exclusive = (known: boolean): Promise<number> => {
    const next = passes.then(() => pass(known));
    passes = next.catch(() => undefined);
    return next;
  };
  const pollOnce = () => exclusive(false);

  let polling = false;
  const loop = () => {
    if (stopped) return;
    polling = true;
    woken = false;
    running = exclusive(true)
      .catch((err: unknown) => {
        // The stream may have changed under us (a restarted database): list its shards again.
        listed = undefined;
        opts.onError?.(err);
      })
      .finally(() => {
        polling = false;
        if (!stopped) timer = setTimeout(loop, woken ? 0 : pollMs);
      });
  };

  return {
    start: async () => {
      await createCheckpointTable(opts.client, opts.checkpointTable);
      stopped = false;
      loop();
    },
    pollOnce,
    offer: (entries) => {
      if (stopped || entries.length === 0) return;
      const accepted = opts.bus.publish(entries).then(
        () => true,
        (err: unknown) => {
          opts.onError?.(err);
          return false; // the stream pass publishes them
        },
      );
      for (const entry of entries) {
        const id = idOf(entry);
        if (id !== undefined) offered.set(id, accepted);
      }
      for (const id of offered.keys()) {
        if (offered.size <= maxOffered) break;
        offered.delete(id);
      }
    },
    wake: () => {
      if (stopped || running === undefined) return;
      if (polling) {
        woken = true;
        return;
      }
      if (timer) clearTimeout(timer);
      loop();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      streamsClient.destroy();
    },
  };
};
