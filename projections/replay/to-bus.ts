import { catalog, isKnownEventType, toEventBridgeEvent, type EventBridgeEvent, type StoredEvent } from '../../events/index.ts';
import type { BusEntry, EventBus } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';

/** Compiles an EventBridge pattern into a predicate (`compilePattern` of `events/bus/pattern`). */
export type PatternMatcher = (pattern: Record<string, unknown>) => (event: EventBridgeEvent) => boolean;

/**
 * A global-order cursor that reads the events committed at or after a time: positions are
 * `<recordedAt>#<index>#<eventId>`, so the bare time sorts just before the first of them.
 *
 * @example
 * store.iterateAll({ cursor: cursorAt('2026-11-22T10:00:00.000Z') });
 */
export const cursorAt = (time: string): string => new Date(time).toISOString();

/**
 * An event as the bus carries it, marked as a replay (`metadata.replay`), with its catalog source.
 *
 * @example
 * const entry = replayEntry(stored); entry.detail.metadata.replay; // true
 */
export const replayEntry = (e: StoredEvent): BusEntry => ({
  source: isKnownEventType(e.type) ? catalog[e.type].source : 'shiplog.unknown',
  detailType: e.type,
  detail: { metadata: { ...e.metadata, replay: true }, data: e.data },
  time: e.metadata.occurredAt,
});

export interface ReplayToBusResult {
  from: string;
  to: string;
  /** Events of the store read in the range. */
  scanned: number;
  /** Events matching the pattern, published in global order. */
  published: number;
  firstEventId: string | null;
  lastEventId: string | null;
}

/**
 * Republishes the events committed between `from` (inclusive) and `to` (exclusive) that match
 * `pattern` to the bus, in global order and marked as replays, like EventBridge's archive replay
 * but ordered. Services with side effects skip replays unless they ask for them; projections
 * apply them (and skip what they already applied).
 *
 * @example
 * await replayEventsToBus({ store, bus, from: '2026-11-22T00:00:00Z', to: '2026-11-23T00:00:00Z',
 *   pattern: { source: ['shiplog.deploy'] }, matcher: compilePattern });
 */
export const replayEventsToBus = async (opts: {
  store: EventStore;
  bus: EventBus;
  from: string;
  to: string;
  pattern?: Record<string, unknown> | null;
  matcher?: PatternMatcher;
  /** PutEvents takes 10 entries per call. */
  batchSize?: number;
}): Promise<ReplayToBusResult> => {
  const from = new Date(opts.from).toISOString();
  const to = new Date(opts.to).toISOString();
  if (Number.isNaN(Date.parse(opts.from)) || Number.isNaN(Date.parse(opts.to))) throw new Error('from and to must be ISO 8601 times');
  if (to <= from) throw new Error(`to (${to}) must be after from (${from})`);
  if (opts.pattern && !opts.matcher) throw new Error('a pattern needs a matcher (compilePattern)');
  const matches = opts.pattern && opts.matcher ? opts.matcher(opts.pattern) : () => true;
  const batchSize = opts.batchSize ?? 10;
  const result: ReplayToBusResult = { from, to, scanned: 0, published: 0, firstEventId: null, lastEventId: null };
  let batch: BusEntry[] = [];
  const flush = async () => {
    // One batch at a time, so the bus sees the events in order.
    if (batch.length > 0) await opts.bus.publish(batch);
    result.published += batch.length;
    batch = [];
  };
  for await (const e of opts.store.iterateAll({ cursor: cursorAt(from), pageSize: 500 })) {
    if (e.recordedAt >= to) break;
    if (e.recordedAt < from) continue;
    result.scanned++;
    const entry = replayEntry(e);
    if (!matches(toEventBridgeEvent({ type: e.type, data: e.data, metadata: entry.detail.metadata }, entry.source))) continue;
    batch.push(entry);
    result.firstEventId ??= e.metadata.eventId;
    result.lastEventId = e.metadata.eventId;
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return result;
};

/** A replay request the API refuses: `status` is the HTTP status to answer with (400). */
export class InvalidReplayRequestError extends Error {
  override readonly name = 'InvalidReplayRequestError';
  readonly status = 400;
}

const isTime = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));

/**
 * Serves `POST /api/replay` with `{ from, to, pattern? }`: checks the body, compiles the
 * pattern and replays. Throws `InvalidReplayRequestError` (status 400) for a bad body or pattern.
 *
 * @example
 * route('POST', '/api/replay', async ({ req, res }) =>
 *   sendJson(res, 200, await replayFromRequest(await readJson(req), { store, bus, matcher: compilePattern })));
 */
export const replayFromRequest = async (
  body: unknown,
  deps: { store: EventStore; bus: EventBus; matcher: PatternMatcher },
): Promise<ReplayToBusResult> => {
  const b = (body ?? {}) as { from?: unknown; to?: unknown; pattern?: unknown };
  if (!isTime(b.from) || !isTime(b.to)) throw new InvalidReplayRequestError('from and to must be ISO 8601 times');
  if (b.pattern !== undefined && b.pattern !== null && (typeof b.pattern !== 'object' || Array.isArray(b.pattern))) {
    throw new InvalidReplayRequestError('pattern must be an EventBridge event pattern (a JSON object)');
  }
  const pattern = (b.pattern ?? null) as Record<string, unknown> | null;
  try {
    if (pattern) deps.matcher(pattern);
  } catch (err) {
    throw new InvalidReplayRequestError((err as Error).message);
  }
  if (Date.parse(b.to) <= Date.parse(b.from)) throw new InvalidReplayRequestError(`to (${b.to}) must be after from (${b.from})`);
  return replayEventsToBus({ store: deps.store, bus: deps.bus, from: b.from, to: b.to, pattern, matcher: deps.matcher });
};
