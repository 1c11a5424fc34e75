import { setTimeout as delay } from 'node:timers/promises';
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { backoff } from '../backoff.ts';
import { EntryTooLargeError, PublishFailedError, type BusEntry, type EventBus } from './port.ts';

/**
 * The most entries one `PutEvents` request accepts.
 *
 * @example
 * entries.length <= PUT_EVENTS_MAX_ENTRIES;
 */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * The most bytes one `PutEvents` request (and so one entry) may hold, counted by `putEventsEntrySize`.
 *
 * @example
 * putEventsEntrySize(entry) <= PUT_EVENTS_MAX_BYTES;
 */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/**
 * The size EventBridge counts for one `PutEvents` entry ("Calculating Amazon EventBridge PutEvents
 * event entry size"): 14 bytes for `Time` when set, plus the UTF-8 bytes of `Source`, `DetailType`,
 * `Detail` and each `Resources` item. `EventBusName` is counted too, which the AWS page leaves out:
 * it keeps a request on the safe side by a few bytes.
 *
 * @example
 * putEventsEntrySize({ Source: 'shiplog.build', DetailType: 'BuildStarted', Detail: '{}' }); // 27
 */
export const putEventsEntrySize = (entry: PutEventsRequestEntry): number =>
  (entry.Time ? 14 : 0) +
  utf8Bytes(entry.Source) +
  utf8Bytes(entry.DetailType) +
  utf8Bytes(entry.Detail) +
  utf8Bytes(entry.EventBusName) +
  (entry.Resources ?? []).reduce((sum, r) => sum + utf8Bytes(r), 0);

/**
 * Options of `eventBridgeBus`.
 *
 * @example
 * const options: EventBridgeBusOptions = { client: new EventBridgeClient({}), busName: 'shiplog' };
 */
export interface EventBridgeBusOptions {
  client: EventBridgeClient;
  /** Name or ARN of the custom bus. */
  busName: string;
  /** Attempts after the first one, for failed entries and throttled calls. Default 5. */
  maxRetries?: number;
  /** Base of the exponential backoff (full jitter). Default 100 ms. */
  baseDelayMs?: number;
  /** Waits between attempts. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * The `EventBus` on AWS: `PutEvents` to the shiplog bus, in requests of at most 10 entries and
 * 256 KB, retrying only the entries (or calls) that failed retryably, with exponential backoff and
 * full jitter. Entries that still fail are reported together in a `PublishFailedError`, after the
 * other requests have been sent.
 *
 * @example
 * const bus = eventBridgeBus({ client: new EventBridgeClient({}), busName: 'shiplog-prod' });
 * await bus.publish([{ source: 'shiplog.build', detailType: 'BuildStarted', detail: { metadata, data } }]);
 */
export const eventBridgeBus = ({
  client,
  busName,
  maxRetries = 5,
  baseDelayMs = 100,
  sleep = (ms) => delay(ms),
  random = Math.random,
}: EventBridgeBusOptions): EventBus => {
  const delay = backoff({ baseMs: baseDelayMs, maxMs: MAX_DELAY_MS, jitter: 'full', random });

  const putChunk = async (chunk: Pending[]): Promise<Failure[]> => {
    const failed: Failure[] = [];
    let pending = chunk;
    for (let attempt = 0; ; attempt++) {
      const retryable: Failure[] = [];
      try {
        const res = await client.send(new PutEventsCommand({ Entries: pending.map((p) => p.request) }));
        if (res.FailedEntryCount) {
          pending.forEach((p, i) => {
            const result = res.Entries?.[i];
            if (result?.EventId && !result.ErrorCode) return;
            // A position with neither an event id nor an error code is a response we cannot read:
            // sending it again risks a duplicate, which consumers handle; dropping it loses an event.
            const failure = {
              ...p,
              errorCode: result?.ErrorCode ?? 'UnknownFailure',
              errorMessage: result?.ErrorMessage ?? '',
            };
            (isRetryable(failure.errorCode) ? retryable : failed).push(failure);
          });
        }
      } catch (err) {
        if (!(err instanceof Error) || !isRetryable(err.name)) throw err;
        retryable.push(...pending.map((p) => ({ ...p, errorCode: err.name, errorMessage: err.message })));
      }
      if (retryable.length === 0) return failed;
      if (attempt >= maxRetries) return [...failed, ...retryable];
      await sleep(delay(attempt));
      pending = retryable;
    }
  };

  return {
    async publish(entries) {
      const pending = entries.map((entry): Pending => {
        const request = toRequestEntry(entry, busName);
        const size = putEventsEntrySize(request);
        if (size > PUT_EVENTS_MAX_BYTES) throw new EntryTooLargeError(entry.detailType, size);
        return { entry, request, size };
      });
      const failed: Failure[] = [];
      for (const chunk of chunkRequests(pending)) failed.push(...(await putChunk(chunk)));
      if (failed.length > 0) {
        throw new PublishFailedError(failed.map(({ entry, errorCode, errorMessage }) => ({ entry, errorCode, errorMessage })));
      }
    },
  };
};

interface Pending {
  entry: BusEntry;
  request: PutEventsRequestEntry;
  size: number;
}
type Failure = Pending & { errorCode: string; errorMessage: string };

// The entry codes AWS documents as retryable (InternalFailure, ThrottlingException), and the
// call-level errors that mean the same thing.
const RETRYABLE = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);
const isRetryable = (code: string) => RETRYABLE.has(code);

// Keeps a large maxRetries from waiting minutes between two attempts.
const MAX_DELAY_MS = 20_000;

const encoder = new TextEncoder();
const utf8Bytes = (s: string | undefined) => (s ? encoder.encode(s).byteLength : 0);

const toRequestEntry = (entry: BusEntry, busName: string): PutEventsRequestEntry => ({
  Source: entry.source,
  DetailType: entry.detailType,
  Detail: JSON.stringify(entry.detail),
  EventBusName: busName,
  Time: new Date(entry.time ?? entry.detail.metadata.occurredAt),
  ...(entry.resources ? { Resources: entry.resources } : {}),
});

function* chunkRequests(pending: Pending[]): Generator<Pending[]> {
  let chunk: Pending[] = [];
  let bytes = 0;
  for (const p of pending) {
    if (chunk.length === PUT_EVENTS_MAX_ENTRIES || bytes + p.size > PUT_EVENTS_MAX_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(p);
    bytes += p.size;
  }
  if (chunk.length > 0) yield chunk;
}
