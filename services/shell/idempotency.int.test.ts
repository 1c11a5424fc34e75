import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { DescribeTableCommand, DescribeTimeToLiveCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventType } from '../../events/index.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { createIdempotencyTable, defineHandler, isRetryable, type HandlerOptions, type IdempotencyOptions } from './index.ts';
import { buildStartedEvent } from '../../test/support/events.ts';

const client = testDynamoClient();
const tableName = uniqueTableName(import.meta.url, 'idempotency');
beforeAll(() => createIdempotencyTable(client, tableName));
afterAll(() => client.destroy());
// The shell logs every failure and skip; keep the test output readable.
beforeEach(() => {
  const spies = [vi.spyOn(process.stdout, 'write').mockReturnValue(true), vi.spyOn(process.stderr, 'write').mockReturnValue(true)];
  return () => spies.forEach((s) => s.mockRestore());
});

let n = 0;
const onBuildStarted = (handle: HandlerOptions<'BuildStarted'>['handle'], idempotency: Partial<IdempotencyOptions> = {}) => {
  const name = `Idem${++n}`;
  return { name, handler: defineHandler({ name, accepts: [EventType.BuildStarted], handle, idempotency: { client, tableName, ...idempotency } }) };
};

const recordsOf = async (prefix: string) => {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return Items.filter((i) => i.id?.S?.startsWith(`${prefix}#`));
};

const deferred = () => {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
};

describe('createIdempotencyTable', () => {
  it('creates the table Powertools expects, with TTL on expiration, and can run again', async () => {
    await createIdempotencyTable(client, tableName);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table?.AttributeDefinitions).toEqual([{ AttributeName: 'id', AttributeType: 'S' }]);
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(TimeToLiveDescription).toEqual({ AttributeName: 'expiration', TimeToLiveStatus: 'ENABLED' });
  });
});

describe('defineHandler with idempotency (DynamoDB Local)', () => {
  it('writes no record and calls nothing for a delivery `relevant` says has no work; a relevant one is remembered', async () => {
    const name = `Idem${++n}`;
    const handle = vi.fn();
    let relevant = false;
    const handler = defineHandler({ name, accepts: [EventType.BuildStarted], handle, idempotency: { client, tableName }, relevant: async () => relevant });
    const event = buildStartedEvent();
    await handler(event);
    expect(handle).not.toHaveBeenCalled();
    expect(await recordsOf(name)).toHaveLength(0);
    // Asked again for a duplicate: now there is work, done once.
    relevant = true;
    await handler(event);
    await handler(event);
    expect(handle).toHaveBeenCalledOnce();
    expect((await recordsOf(name)).map((r) => r.status?.S)).toEqual(['COMPLETED']);
  });

  it('calls handle once for a duplicate delivery, and remembers it for expiresAfterSeconds', async () => {
    const handle = vi.fn();
    const { name, handler } = onBuildStarted(handle, { expiresAfterSeconds: 600 });
    const event = buildStartedEvent();
    await handler(event);
    await handler(event);
    // On AWS each PutEvents gets a new EventBridge id: the key is the shiplog event id.
    await handler({ ...event, id: 'another-eventbridge-id' });
    expect(handle).toHaveBeenCalledOnce();
    const records = await recordsOf(name);
    expect(records).toHaveLength(1);
    expect(records[0]?.status?.S).toBe('COMPLETED');
    const expiresIn = Number(records[0]?.expiration?.N) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(590);
    expect(expiresIn).toBeLessThanOrEqual(601);
  });

  it('lets a failed delivery be retried: the in-progress record is deleted on failure', async () => {
    const handle = vi.fn().mockRejectedValueOnce(new Error('flaky port')).mockResolvedValue(undefined);
    const { name, handler } = onBuildStarted(handle);
    const event = buildStartedEvent();
    await expect(handler(event)).rejects.toThrow('flaky port');
    expect(await recordsOf(name)).toEqual([]);
    await handler(event);
    await handler(event);
    expect(handle).toHaveBeenCalledTimes(2);
    expect((await recordsOf(name))[0]?.status?.S).toBe('COMPLETED');
  });

  it('refuses a concurrent duplicate with a retryable IdempotencyAlreadyInProgressError', async () => {
    const gate = deferred();
    const handle = vi.fn(() => gate.promise);
    const { handler } = onBuildStarted(handle);
    const event = buildStartedEvent();
    const first = handler(event);
    await vi.waitFor(() => expect(handle).toHaveBeenCalledOnce());
    const err = await handler(event).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyAlreadyInProgressError);
    expect(isRetryable(err)).toBe(true);
    gate.resolve();
    await first;
    await handler(event); // the bus's retry finds the finished record
    expect(handle).toHaveBeenCalledOnce();
  });

  it('lets a redelivery take over a delivery that died, after inProgressTimeoutMs', async () => {
    const handle = vi.fn().mockImplementationOnce(() => new Promise(() => undefined)).mockResolvedValue(undefined);
    const { handler } = onBuildStarted(handle, { inProgressTimeoutMs: 200 });
    const event = buildStartedEvent();
    void handler(event); // never settles: the process "died" in handle
    await vi.waitFor(() => expect(handle).toHaveBeenCalledOnce());
    // The bus redelivers: refused (still in progress) until the 200 ms have passed, then handled.
    await vi.waitFor(() => handler(event), { timeout: 5000, interval: 50 });
    expect(handle).toHaveBeenCalledTimes(2);
  });

  it('runs two handlers on the same event, each once', async () => {
    const [handleA, handleB] = [vi.fn(), vi.fn()];
    const a = onBuildStarted(handleA);
    const b = onBuildStarted(handleB);
    const event = buildStartedEvent();
    for (const { handler } of [a, b, a, b]) await handler(event);
    expect(handleA).toHaveBeenCalledOnce();
    expect(handleB).toHaveBeenCalledOnce();
    expect(await recordsOf(a.name)).toHaveLength(1);
    expect(await recordsOf(b.name)).toHaveLength(1);
  });

  it('uses no persistence without idempotency options: every delivery is handled', async () => {
    const handle = vi.fn();
    const name = `Idem${++n}`;
    const handler = defineHandler({ name, accepts: [EventType.BuildStarted], handle });
    const event = buildStartedEvent();
    await handler(event);
    await handler(event);
    expect(handle).toHaveBeenCalledTimes(2);
    expect(await recordsOf(name)).toEqual([]);
  });
});
