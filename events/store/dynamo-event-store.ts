import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionConflictException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type DynamoDBClient,
  type QueryCommandInput,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { backoff } from '../backoff.ts';
import type { NewEvent, StoredEvent } from '../envelope.ts';
import {
  fromItem,
  globalKey,
  itemSize,
  MAX_ITEM_BYTES,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
  streamKey,
  toItem,
  type EventTypeRegistry,
  type Item,
} from './codec.ts';
import { BatchTooLargeError, EventStoreError, EventTooLargeError, VersionConflictError } from './errors.ts';
import { mergeByPosition } from './merge.ts';
import type { AppendResult, EventStore, GlobalPage } from './ports.ts';
import { GLOBAL_SHARDS, Index } from './table.ts';

export interface DynamoEventStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Source, schema version and upcasting per type; the default suits tests of the store itself. */
  types?: EventTypeRegistry;
  /** The store's clock (ISO 8601), used for `recordedAt`. */
  now?: () => string;
  /** How often an append retries when DynamoDB cancels it for a concurrent transaction. */
  conflictRetries?: number;
  /**
   * Called after each append that stored events (not for a duplicate retry), in this process:
   * the local outbox uses it to publish at once instead of at its next poll. A throwing listener
   * does not fail the append.
   */
  onCommitted?: (streamId: string, events: StoredEvent[]) => void;
}

const defaultTypes: EventTypeRegistry = {
  sourceOf: () => 'shiplog.unknown',
  schemaVersionOf: () => 1,
  upcast: (e) => e,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Between two attempts of a transaction another one held: short, the conflict lasts one write.
const conflictDelay = backoff({ baseMs: 10, maxMs: 320 });

/**
 * The DynamoDB event store (one table, see `table.ts`), for AWS and DynamoDB Local alike.
 *
 * @example
 * const store = dynamoEventStore({ client, tableName: 'shiplog-events', types: catalogTypes });
 * await store.append(streams.build('d1'), [queued], { expectedVersion: 0 });
 */
export const dynamoEventStore = (opts: DynamoEventStoreOptions): EventStore => {
  const { client, tableName } = opts;
  const types = opts.types ?? defaultTypes;
  const now = opts.now ?? (() => new Date().toISOString());
  const conflictRetries = opts.conflictRetries ?? 8;

  const read = (item: Item): StoredEvent => types.upcast(fromItem(item));

  // The highest version of each stream this store has seen exist: appended, or read with a
  // consistent read. Events are never deleted and versions are gapless, so every version up to
  // it exists too, and an append at an expected version up to it needs no `ConditionCheck` of
  // that version. A decider's append (it read or kept the stream's state in this process) is then
  // one conditional PutItem for one event, not a transaction. Bounded: the least recently seen
  // streams are forgotten (their next append checks again).
  const known = new Map<string, number>();
  const KNOWN_STREAMS = 10_000;
  const sawVersion = (streamId: string, version: number) => {
    const before = known.get(streamId);
    if (before !== undefined) known.delete(streamId);
    known.set(streamId, Math.max(before ?? 0, version));
    if (known.size > KNOWN_STREAMS) known.delete(known.keys().next().value!);
  };

  const queryAll = async (input: Omit<QueryCommandInput, 'TableName'>, limit = Infinity): Promise<Item[]> => {
    const out: Item[] = [];
    let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const res = await client.send(new QueryCommand({ ...input, TableName: tableName, ExclusiveStartKey }));
      out.push(...((res.Items ?? []) as Item[]));
      ExclusiveStartKey = res.LastEvaluatedKey;
    } while (ExclusiveStartKey && out.length < limit);
    return out.slice(0, limit);
  };

  const readStream = async (streamId: string, o: { fromVersion?: number } = {}): Promise<StoredEvent[]> => {
    const items = await queryAll({
      KeyConditionExpression: 'pk = :pk AND sk >= :v',
      ExpressionAttributeValues: { ':pk': { S: streamKey(streamId) }, ':v': { N: String(o.fromVersion ?? 1) } },
      ConsistentRead: true,
    });
    const events = items.map(read);
    if (events.length > 0) sawVersion(streamId, events[events.length - 1]!.metadata.version);
    return events;
  };

  const streamVersion = async (streamId: string): Promise<number> => {
    const res = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: streamKey(streamId) } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
        ProjectionExpression: 'sk',
      }),
    );
    const version = Number(res.Items?.[0]?.sk?.N ?? 0);
    if (version > 0) sawVersion(streamId, version);
    return version;
  };

  const buildTransaction = (streamId: string, events: NewEvent[], expectedVersion: number): TransactWriteItem[] => {
    const actions = events.length + (expectedVersion > 0 ? 1 : 0);
    if (actions > MAX_TRANSACTION_ACTIONS) {
      const max = MAX_TRANSACTION_ACTIONS - (expectedVersion > 0 ? 1 : 0);
      throw new BatchTooLargeError(
        `cannot append ${events.length} events to ${streamId} at once: a DynamoDB transaction holds ` +
          `${MAX_TRANSACTION_ACTIONS} actions, so at most ${max} events per append here`,
      );
    }
    const recordedAt = now();
    let total = 0;
    const puts: TransactWriteItem[] = events.map((event, i) => {
      const item = toItem(
        streamId,
        expectedVersion + i + 1,
        event,
        types.schemaVersionOf(event.type),
        types.sourceOf(event.type),
        recordedAt,
        i,
      );
      const size = itemSize(item);
      if (size > MAX_ITEM_BYTES) throw new EventTooLargeError(event.metadata.eventId, event.type, size, MAX_ITEM_BYTES);
      total += size;
      return { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } };
    });
    if (total > MAX_TRANSACTION_BYTES) {
      throw new BatchTooLargeError(
        `append of ${events.length} events to ${streamId} is ${total} bytes; a DynamoDB transaction holds at most ${MAX_TRANSACTION_BYTES}`,
      );
    }
    if (expectedVersion === 0 || expectedVersion <= (known.get(streamId) ?? 0)) return puts;
    // Versions stay gapless: the event at the expected version must exist.
    const check: TransactWriteItem = {
      ConditionCheck: {
        TableName: tableName,
        Key: { pk: { S: streamKey(streamId) }, sk: { N: String(expectedVersion) } },
        ConditionExpression: 'attribute_exists(pk)',
      },
    };
    return [check, ...puts];
  };

  // After a refused append: either our own earlier attempt already stored these events
  // (a retry after a timeout), or someone else got there first.
  const resolveRefusal = async (streamId: string, events: NewEvent[], expectedVersion: number): Promise<AppendResult> => {
    const stored = await readStream(streamId, { fromVersion: expectedVersion + 1 });
    const ours = stored.slice(0, events.length);
    const same = ours.length === events.length && ours.every((e, i) => e.metadata.eventId === events[i]?.metadata.eventId);
    if (same) return { nextVersion: expectedVersion + events.length, events: ours, duplicate: true };
    const actual = stored.length > 0 ? stored[stored.length - 1]!.metadata.version : await streamVersion(streamId);
    throw new VersionConflictError(streamId, expectedVersion, actual);
  };

  const append = async (
    streamId: string,
    events: NewEvent[],
    { expectedVersion }: { expectedVersion: number },
  ): Promise<AppendResult> => {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new EventStoreError(`expectedVersion must be a whole number >= 0, got ${expectedVersion}`);
    }
    if (events.length === 0) return { nextVersion: expectedVersion, events: [], duplicate: false };
    const ids = new Set(events.map((e) => e.metadata.eventId));
    if (ids.size !== events.length) throw new EventStoreError(`append to ${streamId} repeats an event id`);

    for (let attempt = 0; ; attempt++) {
      const items = buildTransaction(streamId, events, expectedVersion);
      try {
        // One event whose predecessor is known to exist (or a stream's first): a conditional
        // PutItem, the same write without a transaction's overhead.
        const single = items.length === 1 ? items[0]!.Put : undefined;
        if (single) await client.send(new PutItemCommand(single));
        else await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        sawVersion(streamId, expectedVersion + events.length);
        const stored = items.flatMap((a) => (a.Put ? [fromItem(a.Put.Item as Item)] : []));
        try {
          opts.onCommitted?.(streamId, stored);
        } catch {
          // a listener's failure is not the append's: the events are committed
        }
        return { nextVersion: expectedVersion + events.length, events: stored, duplicate: false };
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return resolveRefusal(streamId, events, expectedVersion);
        if (err instanceof TransactionConflictException) {
          // A PutItem on an item a transaction is writing: as a cancelled transaction's conflict.
          if (attempt >= conflictRetries) return resolveRefusal(streamId, events, expectedVersion);
          await sleep(conflictDelay(attempt));
          continue;
        }
        if (!(err instanceof TransactionCanceledException)) throw err;
        const codes = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (codes.includes('ConditionalCheckFailed')) return resolveRefusal(streamId, events, expectedVersion);
        // TransactionConflict: another transaction held the same items; whoever wins, retry to learn it.
        if (attempt >= conflictRetries) return resolveRefusal(streamId, events, expectedVersion);
        await sleep(conflictDelay(attempt));
      }
    }
  };

  const readIndex = async (index: string, keyAttr: string, key: string, after?: string, limit?: number) => {
    const items = await queryAll(
      {
        IndexName: index,
        KeyConditionExpression: after ? `${keyAttr} = :k AND pos > :after` : `${keyAttr} = :k`,
        ExpressionAttributeValues: { ':k': { S: key }, ...(after ? { ':after': { S: after } } : {}) },
        ...(limit ? { Limit: Math.min(limit, 1000) } : {}),
      },
      limit,
    );
    return items.map(read);
  };

  // One shard of the global index, page by page, after a position.
  async function* shardPages(shard: number, after: string | null, pageSize: number): AsyncGenerator<StoredEvent[]> {
    let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    let size = pageSize;
    do {
      const res = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: Index.global,
          KeyConditionExpression: after ? 'gpk = :g AND pos > :after' : 'gpk = :g',
          ExpressionAttributeValues: { ':g': { S: globalKey(shard) }, ...(after ? { ':after': { S: after } } : {}) },
          Limit: size,
          ExclusiveStartKey,
        }),
      );
      ExclusiveStartKey = res.LastEvaluatedKey;
      size = Math.min(size * 2, 1000);
      yield ((res.Items ?? []) as Item[]).map(read);
    } while (ExclusiveStartKey);
  }

  async function* iterateAll(o: { cursor?: string | null; pageSize?: number } = {}): AsyncGenerator<StoredEvent> {
    const pageSize = o.pageSize ?? 100;
    const shards = Array.from({ length: GLOBAL_SHARDS }, (_, s) => shardPages(s, o.cursor ?? null, pageSize));
    yield* mergeByPosition(shards);
  }

  const readAll = async (o: { cursor?: string | null; limit?: number } = {}): Promise<GlobalPage> => {
    const limit = o.limit ?? 1000;
    const events: StoredEvent[] = [];
    // Each shard holds about 1/GLOBAL_SHARDS of the events: ask for a fair share first, then more.
    const pageSize = Math.max(10, Math.ceil((limit / GLOBAL_SHARDS) * 1.5));
    const it = iterateAll({ cursor: o.cursor ?? null, pageSize });
    for await (const e of it) {
      events.push(e);
      if (events.length >= limit) break;
    }
    await it.return(undefined);
    return { events, cursor: events.at(-1)?.position ?? null };
  };

  const getEvent = async (eventId: string): Promise<StoredEvent | undefined> => {
    const keys = await queryAll({
      IndexName: Index.eventId,
      KeyConditionExpression: 'eventId = :id',
      ExpressionAttributeValues: { ':id': { S: eventId } },
    });
    const key = keys[0];
    if (!key?.pk || !key.sk) return undefined;
    const res = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }),
    );
    return res.Item ? read(res.Item as Item) : undefined;
  };

  return {
    append,
    readStream,
    streamVersion,
    readDeployment: (deploymentId) => readIndex(Index.deployment, 'dpk', deploymentId),
    readProject: (projectId, o = {}) => readIndex(Index.project, 'ppk', projectId, o.after, o.limit),
    readAll,
    iterateAll,
    getEvent,
  };
};
