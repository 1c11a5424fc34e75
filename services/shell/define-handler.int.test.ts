import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventType } from '../../events/index.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import {
  createIdempotencyTable, defineHandler, isRetryable, PoisonEventError, type HandlerEvent, type HandlerOptions,
} from './index.ts';
import { buildFailedV1Event, buildStartedEvent, buildSucceededEvent } from '../../test/support/events.ts';

const client = testDynamoClient();
const tableName = uniqueTableName(import.meta.url, 'idempotency');
beforeAll(() => createIdempotencyTable(client, tableName));
afterAll(() => client.destroy());

let n = 0;
const started = <const T extends EventType>(
  accepts: readonly T[], handle: HandlerOptions<T>['handle'], extra: Partial<HandlerOptions<T>> = {},
) => defineHandler({ name: `Shell${++n}`, accepts, handle, idempotency: { client, tableName }, ...extra });

// Powertools' Logger prints one JSON line per record through its own Console: WARN and ERROR
// to process.stderr, the rest to process.stdout.
let logs: Record<string, unknown>[] = [];
beforeEach(() => {
  logs = [];
  const capture = ((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { /* not a log record */ }
    }
    return true;
  }) as typeof process.stdout.write;
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  return () => spies.forEach((s) => s.mockRestore());
});

const recordsOf = async (prefix: string): Promise<number> => {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return Items.filter((i) => i.id?.S?.startsWith(`${prefix}#`)).length;
};

describe('defineHandler: parsing', () => {
  it('hands a valid event to handle, typed', async () => {
    const seen: HandlerEvent<'BuildStarted'>[] = [];
    const handler = started([EventType.BuildStarted], (event) => {
      expectTypeOf(event.data.runner).toEqualTypeOf<'codebuild' | 'local'>();
      seen.push(event);
    });
    const raw = buildStartedEvent();
    await handler(raw);
    expect(seen).toEqual([{
      type: 'BuildStarted', data: raw.detail.data, metadata: raw.detail.metadata, source: 'shiplog.build',
      id: raw.detail.metadata.eventId, busEventId: raw.id,
    }]);
  });

  it('discriminates the accepted types by type', async () => {
    const seen: string[] = [];
    const handler = started([EventType.BuildStarted, EventType.BuildSucceeded], (event) => {
      if (event.type === 'BuildSucceeded') seen.push(event.data.artifact.uri);
      else seen.push(event.data.runnerBuildId);
      // @ts-expect-error only BuildSucceeded has an artifact
      void event.data.artifact;
    });
    const first = buildStartedEvent();
    await handler(first);
    await handler(buildSucceededEvent(first));
    expect(seen).toEqual(['4242', 'file:///tmp/web/d1.zip']);
  });

  it('reads an event of an older schema version as the current one (upcast)', async () => {
    const seen: HandlerEvent<'BuildFailed'>[] = [];
    await started([EventType.BuildFailed], (e) => { seen.push(e); })(buildFailedV1Event());
    expect(seen[0]?.metadata.schemaVersion).toBe(2);
    expect(seen[0]?.data).toMatchObject({ reason: 'build-failed', exitCode: 1, logTail: ['Type error: x'] });
  });

  const raw = buildStartedEvent();
  const poison: [string, unknown, string, RegExp][] = [
    ['a non-EventBridge input', { hello: 'world' }, 'not-eventbridge', /not an EventBridge event: .*id: /],
    ['null', null, 'not-eventbridge', /not an EventBridge event/],
    ['an unknown detail-type', { ...raw, 'detail-type': 'BuildExploded' }, 'unknown-type', /"BuildExploded" is not in the shiplog event catalog/],
    ['an unaccepted type', buildSucceededEvent(raw), 'not-accepted', /refused BuildSucceeded .*it accepts only BuildStarted/],
    ['a detail failing the schema', { ...raw, detail: { ...raw.detail, data: { ...raw.detail.data, runner: 'jenkins', buildId: undefined } } },
      'invalid-detail', /detail does not match BuildStarted v1: detail\.data\.buildId: .*; detail\.data\.runner: /],
    ['metadata disagreeing with data', { ...raw, detail: { ...raw.detail, metadata: { ...raw.detail.metadata, projectId: 'api' } } },
      'invalid-detail', /metadata\.projectId: must equal the projectId in data/],
    ['a newer schema version than this code', { ...raw, detail: { ...raw.detail, metadata: { ...raw.detail.metadata, schemaVersion: 9 } } },
      'upcast-failed', /newer than this code/],
  ];
  it.each(poison)('refuses %s with a PoisonEventError, without calling handle', async (_what, input, reason, message) => {
    const handle = vi.fn();
    const handler = started([EventType.BuildStarted], handle);
    const err = await handler(input).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PoisonEventError);
    expect(err).toMatchObject({ reason, retryable: false });
    expect((err as Error).message).toMatch(message);
    expect(isRetryable(err)).toBe(false);
    expect(handle).not.toHaveBeenCalled();
    expect(await recordsOf(`Shell${n}`)).toBe(0);
    expect(logs.at(-1)).toMatchObject({ level: 'ERROR', service: `Shell${n}`, reason, message: 'refused event, not retried' });
  });
});

describe('defineHandler: logging', () => {
  it('logs with the handler name and the event ids, and forgets them after the delivery', async () => {
    const handler = started([EventType.BuildStarted], (e, ctx) => ctx.logger.info('in handle', { expected: e.id }));
    const a = buildStartedEvent();
    await handler(a);
    await handler({ nonsense: true }).catch(() => undefined);
    const [inHandle, refused] = logs;
    expect(inHandle).toMatchObject({
      service: `Shell${n}`, message: 'in handle',
      correlationId: a.detail.metadata.correlationId, deploymentId: a.detail.metadata.deploymentId,
      eventId: a.detail.metadata.eventId, eventType: 'BuildStarted',
    });
    expect(refused).toMatchObject({ message: 'refused event, not retried' });
    expect(refused).not.toHaveProperty('eventId');
    expect(refused).not.toHaveProperty('correlationId');
  });

  it('keeps the keys of concurrent deliveries apart', async () => {
    // Each delivery logs only once all three are inside handle: they run interleaved.
    let inside = 0;
    let allInside = (): void => undefined;
    const together = new Promise<void>((r) => { allInside = r; });
    const handler = started([EventType.BuildStarted], async (e, ctx) => {
      if (++inside === 3) allInside();
      await together;
      ctx.logger.info('in handle', { expected: e.id });
    });
    await Promise.all([buildStartedEvent(), buildStartedEvent(), buildStartedEvent()].map((e) => handler(e)));
    const lines = logs.filter((l) => l.message === 'in handle');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.eventId).toBe(line.expected);
  });
});

describe('defineHandler: replays and errors', () => {
  it('skips replayed events unless the handler accepts replays', async () => {
    const handle = vi.fn();
    const replayed = buildStartedEvent({ replay: true });
    await started([EventType.BuildStarted], handle)(replayed);
    expect(handle).not.toHaveBeenCalled();
    expect(logs.at(-1)).toMatchObject({ level: 'INFO', eventId: replayed.detail.metadata.eventId, message: expect.stringMatching(/replayed/) });

    await started([EventType.BuildStarted], handle, { acceptsReplays: true })(replayed);
    expect(handle).toHaveBeenCalledOnce();
  });

  it('lets an error from handle propagate unchanged, as retryable', async () => {
    const boom = new Error('deploy API unavailable');
    const handler = started([EventType.BuildStarted], () => { throw boom; });
    const err = await handler(buildStartedEvent()).then(() => undefined, (e: unknown) => e);
    expect(err).toBe(boom);
    expect(isRetryable(err)).toBe(true);
    expect(logs.at(-1)).toMatchObject({ level: 'ERROR', message: 'handling failed, will be retried', error: { message: 'deploy API unavailable' } });
  });
});
