import {
  BatchGetItemCommand, BatchWriteItemCommand, ConditionalCheckFailedException, GetItemCommand, PutItemCommand, QueryCommand,
  ScanCommand, TransactionCanceledException, TransactWriteItemsCommand,
  type AttributeValue, type BatchGetItemCommandOutput, type BatchWriteItemCommandOutput, type DynamoDBClient, type QueryCommandInput, type TransactWriteItem, type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { backoff } from '../../events/index.ts';
import { canonicalJson } from '../canonical.ts';
import { keyString, type DocKey, type ListEntry } from '../types.ts';
import type { KeyedState, Page, QueryOptions, RegistryEntry, StoredDoc, ViewStore } from './ports.ts';
import { LIST_INDEX } from './table.ts';

type Item = Record<string, AttributeValue>;

export interface DynamoViewStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Parallel BatchWriteItem calls of a bulk load. */
  writeConcurrency?: number;
}

const REGISTRY = 'registry';
const APPLIED_SK = 'v';
const docPk = (ns: string, pk: string) => `${ns}|${pk}`;
const appliedPk = (ns: string, streamId: string) => `${ns}|applied|${streamId}`;
const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Before sending again what DynamoDB left unprocessed (its throughput was exceeded).
const readDelay = backoff({ baseMs: 10, maxMs: 1000, jitter: 'none' });
const writeDelay = backoff({ baseMs: 20, maxMs: 2000, jitter: 'none' });

const encodeCursor = (key: Item | undefined): string | null =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
const decodeCursor = (cursor: string | null | undefined): Item | undefined => {
  if (!cursor) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Item;
  } catch {
    throw new Error(`not a valid page cursor: ${cursor}`);
  }
};

const docItem = (ns: string, key: DocKey, state: unknown, rev: number, list: ListEntry | undefined): Item => ({
  pk: s(docPk(ns, key.pk)),
  sk: s(key.sk),
  d: s(JSON.stringify(state)),
  rev: n(rev),
  ...(list ? { lpk: s(docPk(ns, list.lpk)), lsk: s(list.lsk), li: s(JSON.stringify(list.item)) } : {}),
});

const chunks = <T>(xs: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
};

const pool = async <T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
};

/**
 * The view store on DynamoDB (one table, see `table.ts`), for AWS and DynamoDB Local alike.
 * Per event the runner makes one BatchGetItem (applied version + documents) and one write:
 * a conditional PutItem when no document changes, else a TransactWriteItems.
 *
 * @example
 * const views = dynamoViewStore({ client, tableName: 'shiplog-views' });
 */
export const dynamoViewStore = (opts: DynamoViewStoreOptions): ViewStore => {
  const { client, tableName: TableName } = opts;
  const writeConcurrency = opts.writeConcurrency ?? 8;

  const batchGet = async (keys: Item[], consistent: boolean): Promise<Item[]> => {
    const out: Item[] = [];
    for (const chunk of chunks(keys, 100)) {
      let pending: Item[] | undefined = chunk;
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(readDelay(attempt));
        const res: BatchGetItemCommandOutput = await client.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: pending, ConsistentRead: consistent } } }));
        out.push(...(res.Responses?.[TableName] ?? []));
        pending = res.UnprocessedKeys?.[TableName]?.Keys;
      }
    }
    return out;
  };

  const batchWrite = async (requests: WriteRequest[]): Promise<void> => {
    await pool(chunks(requests, 25), writeConcurrency, async (chunk) => {
      let pending: WriteRequest[] | undefined = chunk;
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(writeDelay(attempt));
        const res: BatchWriteItemCommandOutput = await client.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: pending } }));
        pending = res.UnprocessedItems?.[TableName];
      }
    });
  };

  // Admin paths only (dump, drop): a namespace's items are spread over many partitions, so
  // finding them all is a (parallel) scan of the table.
  const scanNamespace = async (ns: string, projection?: string): Promise<Item[]> => {
    const segments = 4;
    const parts = await Promise.all(Array.from({ length: segments }, async (_, Segment) => {
      const out: Item[] = [];
      let ExclusiveStartKey: Item | undefined;
      do {
        const res = await client.send(new ScanCommand({
          TableName,
          Segment,
          TotalSegments: segments,
          FilterExpression: 'begins_with(pk, :p)',
          ExpressionAttributeValues: { ':p': s(`${ns}|`) },
          ...(projection ? { ProjectionExpression: projection } : {}),
          ExclusiveStartKey,
        }));
        out.push(...((res.Items ?? []) as Item[]));
        ExclusiveStartKey = res.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return out;
    }));
    return parts.flat();
  };

  const keyCondition = (hash: string, o: QueryOptions): Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues'> => {
    const values: Item = { ':h': s(hash) };
    let cond = '#h = :h';
    if (o.from !== undefined && o.to !== undefined) cond += ' AND #r BETWEEN :from AND :to';
    else if (o.from !== undefined) cond += ' AND #r >= :from';
    else if (o.to !== undefined) cond += ' AND #r < :to';
    if (o.from !== undefined) values[':from'] = s(o.from);
    if (o.to !== undefined) values[':to'] = s(o.to);
    return { KeyConditionExpression: cond, ExpressionAttributeValues: values };
  };

  const queryPage = async (index: string | undefined, hashAttr: string, rangeAttr: string, hash: string, valueAttr: string, o: QueryOptions): Promise<Page<unknown>> => {
    const res = await client.send(new QueryCommand({
      TableName,
      ...(index ? { IndexName: index } : {}),
      ...keyCondition(hash, o),
      ExpressionAttributeNames: { '#h': hashAttr, ...(o.from !== undefined || o.to !== undefined ? { '#r': rangeAttr } : {}) },
      ScanIndexForward: !o.descending,
      ...(o.limit ? { Limit: o.limit } : {}),
      ExclusiveStartKey: decodeCursor(o.cursor),
    }));
    // BETWEEN is inclusive; `to` is exclusive.
    const items = ((res.Items ?? []) as Item[]).filter((i) => o.to === undefined || i[rangeAttr]?.S !== o.to);
    return { items: items.map((i) => JSON.parse(i[valueAttr]?.S ?? 'null') as unknown), cursor: encodeCursor(res.LastEvaluatedKey as Item | undefined) };
  };

  const loadMany: ViewStore['loadMany'] = async (requests) => {
    const keys = new Map<string, Item>();
    for (const r of requests) {
      keys.set(`${appliedPk(r.ns, r.streamId)}\u0000${APPLIED_SK}`, { pk: s(appliedPk(r.ns, r.streamId)), sk: s(APPLIED_SK) });
      for (const k of r.keys) keys.set(`${docPk(r.ns, k.pk)}\u0000${k.sk}`, { pk: s(docPk(r.ns, k.pk)), sk: s(k.sk) });
    }
    const found = new Map<string, Item>();
    for (const item of await batchGet([...keys.values()], true)) found.set(`${item.pk!.S!}\u0000${item.sk!.S!}`, item);
    return requests.map((r) => {
      const appliedItem = found.get(`${appliedPk(r.ns, r.streamId)}\u0000${APPLIED_SK}`);
      const docs = new Map<string, StoredDoc>();
      for (const k of r.keys) {
        const item = found.get(`${docPk(r.ns, k.pk)}\u0000${k.sk}`);
        if (item) docs.set(keyString(k), { key: k, state: JSON.parse(item.d!.S!), rev: Number(item.rev!.N) });
      }
      return { applied: Number(appliedItem?.v?.N ?? 0), docs };
    });
  };

  const commitMany: ViewStore['commitMany'] = async (commits) => {
    const actions: TransactWriteItem[] = [];
    for (const { ns, commit: c } of commits) {
      const appliedItem: Item = { pk: s(appliedPk(ns, c.streamId)), sk: s(APPLIED_SK), v: n(c.applied) };
      actions.push({
        Put: {
          TableName, Item: appliedItem,
          ...(c.expectedApplied === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'v = :e', ExpressionAttributeValues: { ':e': n(c.expectedApplied) } }),
        },
      });
      for (const w of c.writes) {
        if (w.state === null && w.expectedRev === 0) continue;
        const condition = w.expectedRev === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'rev = :r', ExpressionAttributeValues: { ':r': n(w.expectedRev) } };
        actions.push(w.state === null
          ? { Delete: { TableName, Key: { pk: s(docPk(ns, w.key.pk)), sk: s(w.key.sk) }, ...condition } }
          : { Put: { TableName, Item: docItem(ns, w.key, w.state, w.expectedRev + 1, w.list), ...condition } });
      }
    }
    try {
      // One item: a conditional PutItem costs half a transaction.
      if (actions.length === 1) await client.send(new PutItemCommand(actions[0]!.Put!));
      else await client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
      return true;
    } catch (err) {
      // Someone else moved a stream or a document first (or held it): the runner reloads.
      if (err instanceof ConditionalCheckFailedException || err instanceof TransactionCanceledException) return false;
      throw err;
    }
  };

  return {
    load: async (ns, streamId, keys) => (await loadMany([{ ns, streamId, keys }]))[0]!,
    loadMany,
    commit: (ns, c) => commitMany([{ ns, commit: c }]),
    commitMany,

    bulkPut: async (ns, docs, applied) => {
      const requests: WriteRequest[] = [
        ...docs.map((d): WriteRequest => (d.state === null
          ? { DeleteRequest: { Key: { pk: s(docPk(ns, d.key.pk)), sk: s(d.key.sk) } } }
          : { PutRequest: { Item: docItem(ns, d.key, d.state, 1, d.list) } })),
        ...[...applied].map(([streamId, v]) => ({ PutRequest: { Item: { pk: s(appliedPk(ns, streamId)), sk: s(APPLIED_SK), v: n(v) } } })),
      ];
      await batchWrite(requests);
    },

    appliedVersions: async (ns, streamIds) => {
      const unique = [...new Set(streamIds)];
      const out = new Map(unique.map((id) => [id, 0]));
      const prefix = appliedPk(ns, '');
      const items = await batchGet(unique.map((id) => ({ pk: s(appliedPk(ns, id)), sk: s(APPLIED_SK) })), true);
      for (const item of items) out.set(item.pk!.S!.slice(prefix.length), Number(item.v?.N ?? 0));
      return out;
    },

    get: async (ns, key) => {
      // Consistent: a read-your-writes answer must see the runner's last write (GetItem is eventual by default).
      const res = await client.send(new GetItemCommand({ TableName, Key: { pk: s(docPk(ns, key.pk)), sk: s(key.sk) }, ConsistentRead: true }));
      return res.Item?.d?.S ? (JSON.parse(res.Item.d.S) as unknown) : undefined;
    },

    query: (ns, pk, o = {}) => queryPage(undefined, 'pk', 'sk', docPk(ns, pk), 'd', o),
    queryList: (ns, lpk, o = {}) => queryPage(LIST_INDEX, 'lpk', 'lsk', docPk(ns, lpk), 'li', o),

    dump: async (ns) => {
      const docs = new Map<string, KeyedState>();
      const applied = new Map<string, number>();
      const appliedPrefix = appliedPk(ns, '');
      for (const item of await scanNamespace(ns)) {
        const pk = item.pk!.S!;
        if (pk.startsWith(appliedPrefix)) applied.set(pk.slice(appliedPrefix.length), Number(item.v?.N ?? 0));
        else {
          const key = { pk: pk.slice(ns.length + 1), sk: item.sk!.S! };
          docs.set(keyString(key), { key, state: JSON.parse(item.d!.S!) });
        }
      }
      return { docs, applied };
    },

    drop: async (ns) => {
      const deletes: WriteRequest[] = [];
      for (const item of await scanNamespace(ns, 'pk, sk')) deletes.push({ DeleteRequest: { Key: { pk: item.pk!, sk: item.sk! } } });
      await batchWrite(deletes);
      return deletes.length;
    },

    readRegistry: async () => {
      const res = await client.send(new QueryCommand({
        TableName, KeyConditionExpression: 'pk = :r', ExpressionAttributeValues: { ':r': s(REGISTRY) }, ConsistentRead: true,
      }));
      return new Map(((res.Items ?? []) as Item[]).map((i) => [i.sk!.S!, JSON.parse(i.e!.S!) as RegistryEntry]));
    },

    writeRegistry: async (entry, expected) => {
      try {
        await client.send(new PutItemCommand({
          TableName,
          Item: { pk: s(REGISTRY), sk: s(entry.name), e: s(canonicalJson(entry)) },
          ...(expected
            ? { ConditionExpression: 'e = :e', ExpressionAttributeValues: { ':e': s(canonicalJson(expected)) } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }));
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw err;
      }
    },
  };
};
