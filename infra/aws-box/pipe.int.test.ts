import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DescribeTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { NewEvent } from '../../events/envelope.ts';
import { toItem } from '../../events/store/codec.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { newEvent, newId } from '../../test/support/events.ts';
import { handler as enrichHandler, type OutboxStreamRecord } from '../aws/functions/outbox-enrich.ts';
import { declareUnderMocks, resolved } from '../aws/mocked-stack.ts';
import { localCredentials } from '../local/dynamodb-local.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';
import { parseDeclaredPipe, pipeStandIn, type DeclaredPipe, type PipeBusEntry, type PipeStandIn } from './pipe.ts';

const client = testDynamoClient();
const streams = new DynamoDBStreamsClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: localCredentials });
let moto: Moto;
let sqs: SQSClient;
let queueUrl: string;
let pipe: DeclaredPipe;
let dir: string;
const lines: string[] = [];
const running: PipeStandIn[] = [];

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
  // The pipe exactly as the AWS stack declares it.
  const s = await declareUnderMocks([]);
  const [registered] = s.ofType('aws:pipes/pipe:Pipe');
  pipe = parseDeclaredPipe(await resolved(registered!.inputs));
  const dlqName = pipe.sourceParameters.dynamodbStreamParameters.deadLetterConfig!.arn.split(/[:/]/).pop();
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: dlqName }))).QueueUrl!;
  dir = await mkdtemp(join(tmpdir(), 'shiplog-pipe-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await moto?.stop();
  sqs?.destroy();
  streams.destroy();
  client.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const collecting = () => {
  const got: PipeBusEntry[] = [];
  const calls: number[] = [];
  return {
    got,
    calls,
    putEvents: async (entries: PipeBusEntry[]) => {
      calls.push(entries.length);
      got.push(...entries);
      return { failed: 0 };
    },
  };
};

/** The real enrichment, with the batches it was invoked with. */
const enrichment = () => {
  const batches: OutboxStreamRecord[][] = [];
  return {
    batches,
    enrich: async (records: unknown[]) => {
      batches.push(records as OutboxStreamRecord[]);
      return enrichHandler(records as OutboxStreamRecord[]);
    },
  };
};

const setup = async () => {
  const tableName = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, tableName);
  const store = dynamoEventStore({ client, tableName, types: { sourceOf: () => 'shiplog.test', schemaVersionOf: () => 1, upcast: (e) => e } });
  const checkpointFile = join(dir, `${tableName}.json`);
  const make = (bus: ReturnType<typeof collecting>, enrich = enrichment().enrich, pollMs?: number) => {
    const runner = pipeStandIn({
      pipe,
      dynamodb: client,
      streams,
      tableName,
      checkpointFile,
      enrich,
      putEvents: bus.putEvents,
      deadLetter: async (MessageBody) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody }));
      },
      retryBackoff: { baseMs: 1, maxMs: 8 },
      pollMs,
      log: (line) => lines.push(line),
    });
    running.push(runner);
    return runner;
  };
  return { tableName, store, checkpointFile, make };
};

const appendTo = async (store: EventStore, streamId: string, n: number, from = 0) => {
  const events: NewEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e = newEvent('Tested', { i: from + i });
    await store.append(streamId, [e], { expectedVersion: from + i });
    events.push(e);
  }
  return events;
};

const idsOf = (entries: PipeBusEntry[]) => entries.map((e) => (JSON.parse(e.Detail) as NewEvent).metadata.eventId);

/** Every record of a table's stream, read directly. */
const streamRecords = async (tableName: string): Promise<{ shardId: string; record: _Record }[]> => {
  const StreamArn = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table!.LatestStreamArn!;
  const shards = (await streams.send(new DescribeStreamCommand({ StreamArn }))).StreamDescription!.Shards!;
  const out: { shardId: string; record: _Record }[] = [];
  for (const shard of shards) {
    let ShardIterator = (await streams.send(new GetShardIteratorCommand({ StreamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (ShardIterator) {
      const res = await streams.send(new GetRecordsCommand({ ShardIterator }));
      out.push(...(res.Records ?? []).map((record) => ({ shardId: shard.ShardId!, record })));
      if (!res.Records?.length) break;
      ShardIterator = res.NextShardIterator;
    }
  }
  return out;
};

const within = { timeout: 20_000, interval: 50 };

describe('the Pipes stand-in (DynamoDB Local stream → real outbox enrichment → bus, moto DLQ)', () => {
  it('runs the pipe the stack declares', () => {
    expect(pipe.name).toBe('shiplog-ci-outbox');
    expect(pipe.sourceParameters.dynamodbStreamParameters).toMatchObject({
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
      onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
    });
    expect(pipe.targetParameters.inputTemplate).toBe('<$.detail>');
  });

  it('delivers committed events in order, in batches of at most batchSize, as the stored { metadata, data }; other changes are filtered out', async () => {
    const { store, tableName, make } = await setup();
    const streamId = `s-${newId()}`;
    const first = await appendTo(store, streamId, 12);
    // A MODIFY record: the declared filter keeps INSERTs only.
    const stored = (await store.readStream(streamId))[0]!;
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `s#${streamId}` }, sk: { N: String(stored.metadata.version) } },
        UpdateExpression: 'SET touched = :t',
        ExpressionAttributeValues: { ':t': { S: 'yes' } },
      }),
    );
    const last = await appendTo(store, streamId, 1, 12);
    const bus = collecting();
    const runner = make(bus);
    await runner.start();
    await runner.idle();

    const expected = [...first, ...last].map((e) => e.metadata.eventId);
    expect(idsOf(bus.got)).toEqual(expected);
    const history = await store.readStream(streamId);
    expect(bus.got).toEqual(
      history.map((e) => ({
        Source: 'shiplog.test',
        DetailType: 'Tested',
        Time: new Date(e.metadata.occurredAt),
        Detail: expect.any(String),
      })),
    );
    expect(bus.got.map((e) => JSON.parse(e.Detail))).toEqual(history.map((e) => ({ metadata: e.metadata, data: e.data })));
    expect(Math.max(...bus.calls)).toBe(10);
  });

  it('dead-letters a poison record with its stream position after retries and bisection, and delivers its neighbours in order', async () => {
    const { store, tableName, make } = await setup();
    const streamId = `s-${newId()}`;
    const [before] = await appendTo(store, streamId, 1);
    const poison = toItem(`poison-${newId()}`, 1, newEvent('Poisoned'), 1, 'shiplog.test', new Date().toISOString(), 0);
    poison.detail = { S: 'not json {' };
    await client.send(new PutItemCommand({ TableName: tableName, Item: poison }));
    const [after] = await appendTo(store, streamId, 1, 1);
    const bus = collecting();
    const enrich = enrichment();
    const runner = make(bus, enrich.enrich);
    await runner.start();

    const messages: string[] = [];
    await expect
      .poll(async () => {
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
        messages.push(...(res.Messages ?? []).map((m) => m.Body!));
        return messages.length;
      }, within)
      .toBe(1);
    await runner.idle();

    expect(idsOf(bus.got)).toEqual([before!.metadata.eventId, after!.metadata.eventId]);
    // The first invocation had all three; the poison record alone was tried once plus every retry.
    expect(enrich.batches[0]).toHaveLength(3);
    const isPoison = (r: OutboxStreamRecord) => r.dynamodb?.NewImage?.pk?.S === poison.pk!.S;
    const alone = enrich.batches.filter((b) => b.length === 1 && isPoison(b[0]!));
    expect(alone).toHaveLength(pipe.sourceParameters.dynamodbStreamParameters.maximumRetryAttempts + 1);

    const { shardId, record } = (await streamRecords(tableName)).find((r) => r.record.dynamodb?.Keys?.pk?.S === poison.pk!.S)!;
    const streamArn = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table!.LatestStreamArn;
    const body = messages[0]!;
    expect(JSON.parse(body)).toEqual({
      context: { partnerResourceArn: `arn:aws:pipes:${BOX_REGION}:${BOX_ACCOUNT}:pipe/shiplog-ci-outbox`, condition: 'RetryAttemptsExhausted' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: record.dynamodb!.SequenceNumber,
        endSequenceNumber: record.dynamodb!.SequenceNumber,
        approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        batchSize: 1,
        streamArn,
      },
    });
    // A position, not the payload.
    expect(body).not.toContain('not json');
    expect(lines.some((l) => l.includes('dead-lettered'))).toBe(true);
  });

  it('resumes from its checkpoint after a restart without delivering again what it delivered', async () => {
    const { store, checkpointFile, make } = await setup();
    const streamId = `s-${newId()}`;
    const first = await appendTo(store, streamId, 5);
    const busA = collecting();
    const a = make(busA);
    await a.start();
    await a.idle();
    await a.stop();
    expect(idsOf(busA.got)).toEqual(first.map((e) => e.metadata.eventId));
    const checkpoint = JSON.parse(await readFile(checkpointFile, 'utf8')) as { shards: Record<string, { seq?: string }> };
    expect(Object.values(checkpoint.shards).some((p) => p.seq)).toBe(true);

    const more = await appendTo(store, streamId, 3, 5);
    const busB = collecting();
    const b = make(busB);
    await b.start();
    await b.idle();
    expect(idsOf(busB.got)).toEqual(more.map((e) => e.metadata.eventId));
  });

  it('delivers on wake() without waiting for its poll', async () => {
    const { store, make } = await setup();
    const bus = collecting();
    const runner = make(bus, undefined, 3_600_000);
    await runner.start();
    await runner.idle();
    const [e] = await appendTo(store, `s-${newId()}`, 1);
    runner.wake();
    await expect.poll(() => idsOf(bus.got), within).toEqual([e!.metadata.eventId]);
  });
});
