import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { backoff } from '../../backoff.ts';
import type { EventBridgeEvent } from '../../envelope.ts';

/**
 * One event on its way to one subscription.
 *
 * @example
 * const d: Delivery = { subscription: 'DeployOnBuildSucceeded', event, attempts: 0, receivedAt: now, dueAt: now };
 */
export interface Delivery {
  subscription: string;
  event: EventBridgeEvent;
  attempts: number;
  /** When the bus accepted the event (ms since epoch): the start of its maximum age. */
  receivedAt: number;
  dueAt: number;
  lastError?: string;
}

/**
 * A message in a subscription's dead-letter queue, with EventBridge's DLQ attributes.
 *
 * @example
 * dl.errorCode; // 'RetryAttemptsExhausted'
 */
export interface DeadLetter {
  id: string;
  subscription: string;
  event: EventBridgeEvent;
  errorCode: 'RetryAttemptsExhausted' | 'MaximumEventAgeExceeded' | 'PoisonEvent' | 'UnknownSubscription';
  errorMessage: string;
  attempts: number;
  receivedAt: string;
  deadLetteredAt: string;
}

const queryAll = async (client: DynamoDBClient, input: QueryCommandInput) => {
  const items: Record<string, { S?: string }>[] = [];
  let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
  do {
    const res = await client.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...((res.Items ?? []) as Record<string, { S?: string }>[]));
    ExclusiveStartKey = res.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
};

const byPk = (TableName: string, pk: string): QueryCommandInput => ({
  TableName,
  KeyConditionExpression: 'pk = :pk',
  ExpressionAttributeValues: { ':pk': { S: pk } },
  ConsistentRead: true,
});

// Before sending what a BatchWriteItem left unprocessed again: 40, 80, 160, 320 ms.
const unprocessedDelay = backoff({ baseMs: 40, maxMs: 320, jitter: 'none' });

type WriteRequest = { PutRequest: { Item: Record<string, { S: string }> } } | { DeleteRequest: { Key: Record<string, { S: string }> } };

// One BatchWriteItem of at most 25 requests; what DynamoDB leaves unprocessed is sent again (at
// most 5 sends in all), and it throws if some still is.
const writeBatch = async (client: DynamoDBClient, TableName: string, requests: WriteRequest[]): Promise<void> => {
  let pending = requests;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === 5) throw new Error(`the delivery journal left ${pending.length} entries unwritten`);
    if (attempt > 0) await new Promise((r) => setTimeout(r, unprocessedDelay(attempt - 1)));
    const res = await client.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: pending } }));
    pending = (res.UnprocessedItems?.[TableName] ?? []) as WriteRequest[];
  }
};

// A delivery's entry: by subscription, then event id.
const keyOf = (d: Pick<Delivery, 'subscription' | 'event'>) => ({ pk: { S: d.subscription }, sk: { S: d.event.id } });
const idOf = (d: Pick<Delivery, 'subscription' | 'event'>) => `${d.subscription}\n${d.event.id}`;
const itemOf = (d: Delivery) => ({ ...keyOf(d), body: { S: JSON.stringify(d) } });

/**
 * Durable pending deliveries: written when the bus accepts an event, removed when the
 * subscription took it or it was dead-lettered. A restarted bus resumes from here.
 *
 * @example
 * const journal = deliveryJournal(client, 'shiplog-bus-deliveries');
 */
export const deliveryJournal = (client: DynamoDBClient, TableName: string) => {
  // Removals are group-committed: while one BatchWriteItem of removals is in flight, the next
  // ones wait and go together in the next (no wait when none is in flight). Each `remove`
  // resolves once its own entry is deleted, or rejects with its batch's error.
  type Waiting = { key: Record<string, { S: string }>; resolve: () => void; reject: (e: unknown) => void };
  let waiting = new Map<string, Waiting[]>();
  let flushing = false;
  const flush = async (): Promise<void> => {
    flushing = true;
    while (waiting.size > 0) {
      const batch = waiting;
      waiting = new Map();
      const entries = [...batch.values()];
      for (let i = 0; i < entries.length; i += 25) {
        const chunk = entries.slice(i, i + 25);
        try {
          await writeBatch(client, TableName, chunk.map((w) => ({ DeleteRequest: { Key: w[0]!.key } })));
          for (const ws of chunk) for (const w of ws) w.resolve();
        } catch (err) {
          for (const ws of chunk) for (const w of ws) w.reject(err);
        }
      }
    }
    flushing = false;
  };
  return {
    save: async (d: Delivery): Promise<void> => {
      await client.send(
        new PutItemCommand({
          TableName,
          Item: itemOf(d),
        }),
      );
    },
    /**
     * Several entries in one request per 25 (BatchWriteItem), what the bus accepts from one publish;
     * what DynamoDB leaves unprocessed is sent again, and it throws if some still is. Entries of one
     * key (a duplicate in the same publish) are written once.
     */
    saveAll: async (ds: Delivery[]): Promise<void> => {
      const byKey = new Map(ds.map((d) => [idOf(d), d]));
      const puts = [...byKey.values()].map((d) => ({ PutRequest: { Item: itemOf(d) } }));
      for (let i = 0; i < puts.length; i += 25) await writeBatch(client, TableName, puts.slice(i, i + 25));
    },
    /** Deletes an entry; removals made while others are being deleted go in one request together. */
    remove: (d: Pick<Delivery, 'subscription' | 'event'>): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const id = idOf(d);
        const w: Waiting = { key: keyOf(d), resolve, reject };
        const same = waiting.get(id);
        if (same) same.push(w);
        else waiting.set(id, [w]);
        if (!flushing) void flush();
      }),
    pending: async (subscription: string): Promise<Delivery[]> =>
      (await queryAll(client, byPk(TableName, subscription))).map((i) => JSON.parse(i.body!.S!) as Delivery),
  };
};
export type DeliveryJournal = ReturnType<typeof deliveryJournal>;

/**
 * Each subscription's dead-letter queue, persisted, listable and redrivable.
 *
 * @example
 * const dlq = deadLetterQueue(client, 'shiplog-dlq');
 * await dlq.list('DeployOnBuildSucceeded');
 */
export const deadLetterQueue = (client: DynamoDBClient, TableName: string) => ({
  put: async (dl: DeadLetter): Promise<void> => {
    await client.send(
      new PutItemCommand({ TableName, Item: { pk: { S: dl.subscription }, sk: { S: dl.id }, body: { S: JSON.stringify(dl) } } }),
    );
  },
  list: async (subscription: string): Promise<DeadLetter[]> =>
    (await queryAll(client, byPk(TableName, subscription))).map((i) => JSON.parse(i.body!.S!) as DeadLetter),
  remove: async (subscription: string, id: string): Promise<void> => {
    await client.send(new DeleteItemCommand({ TableName, Key: { pk: { S: subscription }, sk: { S: id } } }));
  },
});
export type DeadLetterQueue = ReturnType<typeof deadLetterQueue>;
