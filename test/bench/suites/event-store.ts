import {
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../../events/store/index.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import { newEvent, newId } from '../../support/events.ts';
import { latencyRow, percentile, rateRow, sample, type BenchRow, type BenchSuite } from '../lib.ts';

const N = Number(process.env.BENCH_N ?? 300);
const WRITERS = 16;
const IDLE_MS = 250;
const IDLE_SAMPLES = Number(process.env.BENCH_IDLE_SAMPLES ?? 30);

// An item the size and shape of a stored event, for the raw DynamoDB baselines.
const rawItem = (pk: string, sk: number): Record<string, AttributeValue> => {
  const e = newEvent('BuildStarted', { buildId: 'b', runner: 'local', settings: { install: 'npm ci', build: 'next build' } });
  return {
    pk: { S: pk },
    sk: { N: String(sk) },
    eventId: { S: e.metadata.eventId },
    type: { S: e.type },
    detail: { S: JSON.stringify({ metadata: e.metadata, data: e.data }) },
  };
};
const data = { buildId: 'b', runner: 'local', settings: { install: 'npm ci', build: 'next build' } };

const concurrent = async (writers: number, perWriter: number, fn: (w: number, i: number) => Promise<unknown>) => {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const s = performance.now();
        await fn(w, i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { latencies: latencies.sort((a, b) => a - b), rate: (writers * perWriter) / seconds };
};

export const eventStoreBench: BenchSuite = async ({ dynamo }) => {
  const dynamoEndpoint = await dynamo();
  const client = dynamoClient(dynamoEndpoint);
  const tableName = `bench-events-${newId()}`;
  await createEventStoreTable(client, tableName);
  const store: EventStore = dynamoEventStore({ client, tableName });
  const rows: BenchRow[] = [];
  const put = (pk: string, sk: number) =>
    client.send(
      new PutItemCommand({ TableName: tableName, Item: rawItem(pk, sk), ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  const transact = (pk: string, from: number, n: number) =>
    client.send(
      new TransactWriteItemsCommand({
        TransactItems: Array.from({ length: n }, (_, i) => ({
          Put: { TableName: tableName, Item: rawItem(pk, from + i), ConditionExpression: 'attribute_not_exists(pk)' },
        })),
      }),
    );

  // Warm up the JVM and the connection pool so the first samples measure steady state.
  for (let i = 0; i < 100; i++) await put(`warm-${i}`, 1);
  await sample(100, (i) => store.append(`warm-s-${i}`, [newEvent('BuildStarted', data)], { expectedVersion: 0 }));

  // 1. single-event appends, sequential, to one stream (the usual append: a version check + a put)
  const rawPk = `raw-${newId()}`;
  const base1 = await sample(N, (i) => put(rawPk, i + 1));
  const s1 = `one-${newId()}`;
  const app1 = await sample(N, (i) => store.append(s1, [newEvent('BuildStarted', data)], { expectedVersion: i }));
  rows.push(latencyRow('append 1 event, sequential (vs conditional PutItem)', app1, base1));
  rows.push(rateRow('append 1 event, sequential, throughput', 'appends/s', 1000 / percentile(app1, 50), 1000 / percentile(base1, 50)));

  // 2. five-event appends, sequential
  const rawPk5 = `raw5-${newId()}`;
  const base5 = await sample(N, (i) => transact(rawPk5, i * 5 + 1, 5));
  const s5 = `five-${newId()}`;
  const app5 = await sample(N, (i) =>
    store.append(s5, Array.from({ length: 5 }, () => newEvent('BuildStarted', data)), { expectedVersion: i * 5 }),
  );
  rows.push(latencyRow('append 5 events, sequential (vs TransactWriteItems x5)', app5, base5));

  // 3. sixteen concurrent writers, each on its own stream
  const per = Math.max(10, Math.floor(N / WRITERS) * 2);
  const rawC = await concurrent(WRITERS, per, (w, i) => put(`rawc-${w}-${rawPk}`, i + 1));
  const appC = await concurrent(WRITERS, per, (w, i) =>
    store.append(`c-${w}-${s1}`, [newEvent('BuildStarted', data)], { expectedVersion: i }),
  );
  rows.push(latencyRow(`append 1 event, ${WRITERS} concurrent writers (vs PutItem)`, appC.latencies, rawC.latencies));
  rows.push(rateRow(`append 1 event, ${WRITERS} concurrent writers, throughput`, 'appends/s', appC.rate, rawC.rate));
  const rawC5 = await concurrent(WRITERS, per, (w, i) => transact(`rawc5-${w}-${rawPk}`, i * 5 + 1, 5));
  const appC5 = await concurrent(WRITERS, per, (w, i) =>
    store.append(`c5-${w}-${s1}`, Array.from({ length: 5 }, () => newEvent('BuildStarted', data)), {
      expectedVersion: i * 5,
    }),
  );
  rows.push(latencyRow(`append 5 events, ${WRITERS} concurrent writers (vs TransactWriteItems x5)`, appC5.latencies, rawC5.latencies));
  rows.push(rateRow(`append 5 events, ${WRITERS} concurrent writers, throughput`, 'events/s', appC5.rate * 5, rawC5.rate * 5));

  // 4. reading a 1,000-event stream
  const long = `long-${newId()}`;
  for (let v = 0; v < 1000; v += 50) {
    await store.append(long, Array.from({ length: 50 }, () => newEvent('BuildStarted', data)), { expectedVersion: v });
  }
  const rawRead = await sample(30, async () => {
    let key: Record<string, AttributeValue> | undefined;
    do {
      const r = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `s#${long}` } },
          ConsistentRead: true,
          ExclusiveStartKey: key,
        }),
      );
      key = r.LastEvaluatedKey;
    } while (key);
  });
  const read = await sample(30, () => store.readStream(long));
  rows.push(latencyRow('read a 1,000-event stream (vs raw paginated Query)', read, rawRead));

  // 5. the whole store in global order
  let total = 0;
  const t0 = performance.now();
  for await (const _ of store.iterateAll({ pageSize: 500 })) total++;
  const globalRate = total / ((performance.now() - t0) / 1000);
  let scanned = 0;
  const t1 = performance.now();
  let key: Record<string, AttributeValue> | undefined;
  do {
    const r = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: key }));
    scanned += r.Items?.length ?? 0;
    key = r.LastEvaluatedKey;
  } while (key);
  const scanRate = scanned / ((performance.now() - t1) / 1000);
  rows.push(rateRow(`global-order read of ${total} events (vs unordered Scan)`, 'events/s', globalRate, scanRate));

  // 6. appends after an idle moment, as a rollback makes them: a command comes after a quiet
  // spell, and its appends wait for DynamoDB Local (and the machine) to wake, which back-to-back
  // samples never show
  const sIdle = `idle-${newId()}`;
  let vIdle = 0;
  const appendIdle = () => store.append(sIdle, [newEvent('BuildStarted', data)], { expectedVersion: vIdle++ });
  // Each sample waits IDLE_MS first, untimed.
  const afterIdle = async (fn: () => Promise<unknown>): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const t = performance.now();
      await fn();
      out.push(performance.now() - t);
    }
    return out.sort((a, b) => a - b);
  };
  const oneAfterIdle = await afterIdle(appendIdle);
  rows.push(latencyRow(`append 1 event after ${IDLE_MS} ms idle (n=${IDLE_SAMPLES}; vs back to back)`, oneAfterIdle, app1));
  const threeInARow = async () => {
    await appendIdle();
    await appendIdle();
    await appendIdle();
  };
  const threeBackToBack = await sample(IDLE_SAMPLES, threeInARow);
  const threeAfterIdle = await afterIdle(threeInARow);
  rows.push(latencyRow(`3 appends in a row after ${IDLE_MS} ms idle, as a rollback makes them (n=${IDLE_SAMPLES}; vs 3 back to back)`, threeAfterIdle, threeBackToBack));

  client.destroy();
  return rows;
};

