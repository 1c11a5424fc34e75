import {
  EventBridgeClient, PutEventsCommand, ResourceNotFoundException, ThrottlingException,
  type PutEventsCommandInput, type PutEventsResponse,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EventMetadata } from '../envelope.ts';
import {
  eventBridgeBus, putEventsEntrySize, PUT_EVENTS_MAX_BYTES, type EventBridgeBusOptions,
} from './eventbridge.ts';
import { EntryTooLargeError, PublishFailedError, type BusEntry } from './port.ts';

const eb = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

const metadata = (n: number): EventMetadata => ({
  eventId: `01JD2Z8J6X3Q4R5S6T7V8W${String(n).padStart(4, '0')}`,
  streamId: 'build#b1',
  version: n + 1,
  occurredAt: '2026-11-22T10:00:00.000Z',
  schemaVersion: 1,
  correlationId: 'd1',
  causationId: null,
  projectId: 'web',
  deploymentId: 'd1',
  actor: { kind: 'service', id: 'build' },
});
const entry = (n: number, data: unknown = { buildId: 'b1', n }): BusEntry => ({
  source: 'shiplog.build',
  detailType: 'BuildLogChunk',
  detail: { metadata: metadata(n), data },
});
const entries = (count: number) => Array.from({ length: count }, (_, n) => entry(n));

/** A `PutEvents` response in the shape AWS documents: one result per request entry, same order. */
const ok = (input: PutEventsCommandInput): PutEventsResponse => ({
  FailedEntryCount: 0,
  Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `evt-${i}` })),
});
const failing = (count: number, failures: Record<number, [code: string, message: string]>): PutEventsResponse => ({
  FailedEntryCount: Object.keys(failures).length,
  Entries: Array.from({ length: count }, (_, i) => {
    const f = failures[i];
    return f ? { ErrorCode: f[0], ErrorMessage: f[1] } : { EventId: `evt-${i}` };
  }),
});
const throttled = () => new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

const sent = () => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
const sentIds = () => sent().map((req) => req.map((e) => (JSON.parse(e.Detail ?? '{}') as BusEntry['detail']).metadata.eventId));
const idOf = (e: BusEntry) => e.detail.metadata.eventId;

let delays: number[];
const makeBus = (options: Partial<EventBridgeBusOptions> = {}) =>
  eventBridgeBus({
    client,
    busName: 'shiplog-test',
    sleep: async (ms) => void delays.push(ms),
    ...options,
  });

beforeEach(() => {
  eb.reset();
  eb.on(PutEventsCommand).callsFake(ok);
  delays = [];
});

describe('eventBridgeBus: entry mapping', () => {
  it('sends Detail exactly as JSON.stringify({ metadata, data }), with source, detail-type, bus and time', async () => {
    const e = entry(1, { buildId: 'b1', line: 'héllo' });
    await makeBus().publish([e]);
    expect(sent()).toEqual([[{
      Source: 'shiplog.build',
      DetailType: 'BuildLogChunk',
      Detail: JSON.stringify({ metadata: e.detail.metadata, data: e.detail.data }),
      EventBusName: 'shiplog-test',
      Time: new Date('2026-11-22T10:00:00.000Z'),
    }]]);
  });

  it('takes time and resources from the entry when given', async () => {
    await makeBus().publish([{ ...entry(1), time: '2026-11-23T08:30:00.000Z', resources: ['arn:aws:lambda:us-east-1:1:function:web'] }]);
    const [[req]] = sent() as [[NonNullable<PutEventsCommandInput['Entries']>[number]]];
    expect(req.Time).toEqual(new Date('2026-11-23T08:30:00.000Z'));
    expect(req.Resources).toEqual(['arn:aws:lambda:us-east-1:1:function:web']);
  });

  it('makes no call for no entries', async () => {
    await makeBus().publish([]);
    expect(sent()).toEqual([]);
  });
});

describe('eventBridgeBus: chunking', () => {
  it('sends 25 entries as 10, 10 and 5, in order', async () => {
    const all = entries(25);
    await makeBus().publish(all);
    expect(sent().map((req) => req.length)).toEqual([10, 10, 5]);
    expect(sentIds().flat()).toEqual(all.map(idOf));
  });

  it('keeps every request within 256 KB', async () => {
    const big = Array.from({ length: 4 }, (_, n) => entry(n, { chunk: 'x'.repeat(100 * 1024) }));
    await makeBus().publish(big);
    const requests = sent();
    expect(requests.map((req) => req.length)).toEqual([2, 2]);
    for (const req of requests) {
      expect(req.reduce((sum, e) => sum + putEventsEntrySize(e), 0)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
    }
    expect(sentIds().flat()).toEqual(big.map(idOf));
  });

  it('counts entry size the way EventBridge does (UTF-8 bytes, 14 for Time)', () => {
    expect(putEventsEntrySize({ Source: 'shiplog.build', DetailType: 'BuildStarted', Detail: '{}' })).toBe(13 + 12 + 2);
    expect(putEventsEntrySize({
      Source: 's', DetailType: 'd', Detail: '"é"', EventBusName: 'bus', Time: new Date(), Resources: ['ab', '€'],
    })).toBe(1 + 1 + 4 + 3 + 14 + 2 + 3);
  });

  it('refuses an entry over 256 KB before sending anything', async () => {
    const tooBig = entry(3, { chunk: 'x'.repeat(PUT_EVENTS_MAX_BYTES) });
    const err = await makeBus().publish([entry(1), entry(2), tooBig]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntryTooLargeError);
    expect(err).toMatchObject({ detailType: 'BuildLogChunk' });
    expect((err as EntryTooLargeError).sizeBytes).toBeGreaterThan(PUT_EVENTS_MAX_BYTES);
    expect(sent()).toEqual([]);
  });
});

describe('eventBridgeBus: partial failures', () => {
  it('resends only the throttled entries, then succeeds', async () => {
    const all = entries(5);
    eb.on(PutEventsCommand)
      .resolvesOnce(failing(5, { 1: ['ThrottlingException', 'Rate exceeded'], 3: ['ThrottlingException', 'Rate exceeded'] }))
      .callsFake(ok);
    await makeBus().publish(all);
    expect(sentIds()).toEqual([all.map(idOf), [idOf(all[1]!), idOf(all[3]!)]]);
    expect(delays).toHaveLength(1);
  });

  it('gives up after maxRetries and names the entries that still fail', async () => {
    const all = entries(3);
    eb.on(PutEventsCommand)
      .resolvesOnce(failing(3, { 0: ['InternalFailure', 'Internal'], 2: ['ThrottlingException', 'Rate exceeded'] }))
      .callsFake((input: PutEventsCommandInput) => failing(input.Entries?.length ?? 0, { 0: ['ThrottlingException', 'Rate exceeded'] }));
    const err = await makeBus({ maxRetries: 3 }).publish(all).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishFailedError);
    expect((err as PublishFailedError).failed).toEqual([{ entry: all[0], errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded' }]);
    expect(sentIds()).toEqual([all.map(idOf), [idOf(all[0]!), idOf(all[2]!)], [idOf(all[0]!)], [idOf(all[0]!)]]);
  });

  it('does not retry entries with a non-retryable error code', async () => {
    const all = entries(4);
    eb.on(PutEventsCommand)
      .resolvesOnce(failing(4, { 0: ['MalformedDetail', 'Detail is malformed.'], 2: ['ThrottlingException', 'Rate exceeded'] }))
      .callsFake(ok);
    const err = await makeBus().publish(all).catch((e: unknown) => e);
    expect(sentIds()).toEqual([all.map(idOf), [idOf(all[2]!)]]);
    expect(err).toBeInstanceOf(PublishFailedError);
    expect((err as PublishFailedError).failed).toEqual([{ entry: all[0], errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' }]);
  });

  it.each(['ValidationException', 'AccessDeniedException', 'InvalidArgument', 'NotAuthorizedForSourceException'])(
    'makes one call and no wait when every failure is %s',
    async (code) => {
      eb.on(PutEventsCommand).resolves(failing(2, { 0: [code, 'no'], 1: [code, 'no'] }));
      const err = await makeBus().publish(entries(2)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishFailedError);
      expect((err as PublishFailedError).failed.map((f) => f.errorCode)).toEqual([code, code]);
      expect(sent()).toHaveLength(1);
      expect(delays).toEqual([]);
    },
  );

  it('still sends the other requests when one has failed entries, and reports them together', async () => {
    const all = entries(12);
    eb.on(PutEventsCommand).resolvesOnce(failing(10, { 4: ['InvalidArgument', 'bad resource'] })).callsFake(ok);
    const err = await makeBus().publish(all).catch((e: unknown) => e);
    expect(sent().map((req) => req.length)).toEqual([10, 2]);
    expect((err as PublishFailedError).failed.map((f) => f.entry)).toEqual([all[4]]);
  });
});

describe('eventBridgeBus: failed calls', () => {
  it('retries a throttled call with the same entries', async () => {
    const all = entries(3);
    eb.on(PutEventsCommand).rejectsOnce(throttled()).callsFake(ok);
    await makeBus().publish(all);
    expect(sentIds()).toEqual([all.map(idOf), all.map(idOf)]);
    expect(delays).toHaveLength(1);
  });

  it('retries InternalException from the service', async () => {
    const internal = Object.assign(new Error('Internal'), { name: 'InternalException', $metadata: { httpStatusCode: 500 } });
    eb.on(PutEventsCommand).rejectsOnce(internal).callsFake(ok);
    await makeBus().publish(entries(1));
    expect(sent()).toHaveLength(2);
  });

  it('reports every entry of a call that stays throttled', async () => {
    const all = entries(2);
    eb.on(PutEventsCommand).rejects(throttled());
    const err = await makeBus({ maxRetries: 2 }).publish(all).catch((e: unknown) => e);
    expect(sent()).toHaveLength(3);
    expect(err).toBeInstanceOf(PublishFailedError);
    expect((err as PublishFailedError).failed).toEqual(
      all.map((e) => ({ entry: e, errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded' })),
    );
  });

  it('lets any other error through as it is, without retrying', async () => {
    const missing = new ResourceNotFoundException({ message: 'Event bus shiplog-test does not exist.', $metadata: {} });
    eb.on(PutEventsCommand).rejects(missing);
    await expect(makeBus().publish(entries(2))).rejects.toBe(missing);
    expect(sent()).toHaveLength(1);
    expect(delays).toEqual([]);
  });
});

describe('eventBridgeBus: backoff', () => {
  it('doubles the ceiling on each retry, with full jitter below it', async () => {
    eb.on(PutEventsCommand).rejects(throttled());
    await makeBus({ baseDelayMs: 100, random: () => 0.999 }).publish(entries(1)).catch(() => undefined);
    expect(sent()).toHaveLength(6);
    expect(delays).toHaveLength(5);
    delays.forEach((ms, i) => expect(ms).toBeCloseTo(0.999 * 100 * 2 ** i));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!);

    delays = [];
    await makeBus({ baseDelayMs: 100, random: () => 0.5 }).publish(entries(1)).catch(() => undefined);
    expect(delays).toEqual([50, 100, 200, 400, 800]);
  });

  it('keeps each jittered delay between 0 and its ceiling by default', async () => {
    eb.on(PutEventsCommand).rejects(throttled());
    await makeBus({ baseDelayMs: 10 }).publish(entries(1)).catch(() => undefined);
    expect(delays).toHaveLength(5);
    delays.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(10 * 2 ** i);
    });
  });
});
