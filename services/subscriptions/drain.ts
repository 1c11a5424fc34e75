import { backoff } from '../../events/index.ts';
import type { RuntimeLogLevel, RuntimeLogRecord } from '../observability/index.ts';
import { SIGNING_SECRET_NAME, signingSecretScope, type SigningSecrets, type WebhookSender } from './ports.ts';
import type { ActiveSubscription, SubscriptionRegistry } from './registry.ts';
import { signBody } from './signature.ts';

/** The `source` a runtime log record is matched under (it is not an event: never on the bus). */
export const RUNTIME_LOG_SOURCE = 'shiplog.runtime';
/** The `detail-type` a runtime log record is matched under. */
export const RUNTIME_LOG_DETAIL_TYPE = 'RuntimeLog';
/** The pattern of a log drain created without one: every runtime log record of the project. */
export const DEFAULT_DRAIN_PATTERN = `{"detail-type":["${RUNTIME_LOG_DETAIL_TYPE}"]}`;

const levels: RuntimeLogLevel[] = ['debug', 'info', 'warning', 'error'];

/**
 * The levels at or above `min` (`warn` is `warning`), as a pattern's `detail.level` list.
 *
 * @example
 * levelsFrom('warn'); // ['warning', 'error']
 */
export const levelsFrom = (min: RuntimeLogLevel | 'warn'): RuntimeLogLevel[] => levels.slice(levels.indexOf(min === 'warn' ? 'warning' : min));

/**
 * What a log drain's pattern is matched against: one runtime log record as an EventBridge-shaped
 * envelope, the record as `detail` (so `{"detail":{"level":["error"]}}` filters by level).
 *
 * @example
 * sub.matches(drainEnvelope(record));
 */
export const drainEnvelope = (r: RuntimeLogRecord) => ({ source: RUNTIME_LOG_SOURCE, 'detail-type': RUNTIME_LOG_DETAIL_TYPE, detail: r });

/**
 * A log drain's counters, since this process started (they live in memory: runtime logs are no
 * events, and neither are their deliveries).
 *
 * @example
 * { buffered: 12, delivered: 480, batches: 6, failedAttempts: 2, dropped: 0, lastDeliveryAt: '…', lastError: null }
 */
export interface DrainStats {
  /** Records waiting (in the buffer or in a batch being retried). */
  buffered: number;
  delivered: number;
  batches: number;
  failedAttempts: number;
  /** Records given up on: the buffer overflowed, or a batch failed `maxAttempts` times. */
  dropped: number;
  lastDeliveryAt: string | null;
  lastError: string | null;
}

/**
 * Options of {@link runtimeLogDrain}.
 *
 * @example
 * const opts: DrainOptions = { flushMs: 2000, maxBatchRecords: 500, maxBufferBytes: 4 << 20 };
 */
export interface DrainOptions {
  /** How long a record waits for more before its batch is sent (default 2 s). */
  flushMs?: number;
  /** A batch is sent at once when it has this many records (default 500)… */
  maxBatchRecords?: number;
  /** …or this many bytes of JSON (default 512 KiB). */
  maxBatchBytes?: number;
  /** What waits per subscription, at most; past it the oldest records are dropped and counted (default 4 MiB). */
  maxBufferBytes?: number;
  /** Attempts of one batch before it is dropped and counted (default 6: about a minute of backoff). */
  maxAttempts?: number;
  /** The wait before retry `attempt` (0 for the first); default backoff from 1 s to 30 s, equal jitter. */
  retryDelay?: (attempt: number) => number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Records taken but not yet routed to their subscriptions (the registry is slow), at most (default 10 000). */
  maxPendingRecords?: number;
}

export interface DrainDeps extends DrainOptions {
  registry: Pick<SubscriptionRegistry, 'active'>;
  secrets: SigningSecrets;
  sender: WebhookSender;
  ids: () => string;
  now: () => string;
  /** Told when a drain starts dropping records, and when it fails (never with a secret or a record). */
  log?: (line: string) => void;
  onError?: (e: unknown) => void;
}

interface Queued { json: string; bytes: number }

interface Queue {
  sub: ActiveSubscription;
  waiting: Queued[];
  waitingBytes: number;
  batch?: { id: string; records: Queued[]; attempt: number; dropped: number };
  timer?: ReturnType<typeof setTimeout> | undefined;
  /** When `timer` fires (a sooner flush replaces it). */
  due?: number;
  sending: boolean;
  /** Dropped since the last delivered batch: the next one says how many (`x-shiplog-dropped`). */
  droppedSinceDelivery: number;
  stats: DrainStats;
}

/**
 * The log drain: sends each project's runtime log records to its `runtime-logs` subscriptions
 * whose pattern matches them (see {@link drainEnvelope}), in batches (a JSON array of the records
 * `shiplog logs --runtime --json` prints), signed like every delivery (`x-shiplog-signature-256`).
 * A batch goes when it is full or `flushMs` after its first record; a failed one is retried with
 * backoff up to `maxAttempts`, then dropped. While the target is down, records wait in a buffer
 * of at most `maxBufferBytes` per subscription; past it the oldest are dropped. Every drop is
 * counted (`stats`) and the next delivered batch says how many (`x-shiplog-dropped`). The records
 * are the app's own output and what the router measured: nothing the drain adds holds a secret.
 *
 * @example
 * const drain = runtimeLogDrain({ registry, secrets, sender, ids, now });
 * drain.offer(records); // from the runtime log capture
 * drain.stats('s1'); // { delivered: 480, dropped: 0, … }
 */
export const runtimeLogDrain = (deps: DrainDeps) => {
  const flushMs = deps.flushMs ?? 2000;
  const maxBatchRecords = deps.maxBatchRecords ?? 500;
  const maxBatchBytes = deps.maxBatchBytes ?? 512 << 10;
  const maxBufferBytes = deps.maxBufferBytes ?? 4 << 20;
  const maxAttempts = deps.maxAttempts ?? 6;
  const retryDelay = deps.retryDelay ?? backoff({ baseMs: 1000, maxMs: 30_000, jitter: 'equal' });
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const queues = new Map<string, Queue>();
  const secrets = new Map<string, string>();
  const maxPendingRecords = deps.maxPendingRecords ?? 10_000;
  let intake: Promise<void> = Promise.resolve();
  let pending = 0;
  let droppedAtIntake = 0;
  let closed = false;
  const fail = (e: unknown) => (deps.onError ?? ((err: unknown) => deps.log?.(`log drain: ${(err as Error).message}`)))(e);

  const drop = (q: Queue, n: number, why: string) => {
    if (n === 0) return;
    if (q.droppedSinceDelivery === 0) deps.log?.(`log drain ${q.sub.data.subscriptionId}: dropping records (${why})`);
    q.droppedSinceDelivery += n;
    q.stats.dropped += n;
  };

  // Flushes `q` in `ms`, unless a flush is already due sooner (a retry's backoff replaces any).
  const schedule = (q: Queue, ms: number, replace = false) => {
    if (closed) return;
    const due = Date.now() + ms;
    if (!replace && q.timer && q.due !== undefined && q.due <= due) return;
    clearTimeout(q.timer);
    q.due = due;
    const timer = setTimeout(() => {
      q.timer = undefined;
      q.due = undefined;
      void flush(q);
    }, ms);
    if (typeof timer === 'object') timer.unref();
    q.timer = timer;
  };

  const full = (q: Queue) => q.waiting.length >= maxBatchRecords || q.waitingBytes >= maxBatchBytes;

  const enqueue = (q: Queue, items: Queued[]) => {
    for (const item of items) {
      q.waiting.push(item);
      q.waitingBytes += item.bytes;
    }
    // Past the bound, the oldest go (one splice: shifting one by one is quadratic in a burst).
    let overflow = 0;
    let freed = 0;
    while (q.waitingBytes - freed > maxBufferBytes && overflow < q.waiting.length) freed += q.waiting[overflow++]!.bytes;
    if (overflow > 0) {
      q.waiting.splice(0, overflow);
      q.waitingBytes -= freed;
    }
    drop(q, overflow, `more than ${maxBufferBytes} bytes waiting`);
    q.stats.buffered = q.waiting.length + (q.batch?.records.length ?? 0);
    // A batch waiting for its retry keeps its backoff; the records wait behind it.
    if (!q.batch) schedule(q, full(q) ? 0 : flushMs);
  };

  const takeBatch = (q: Queue) => {
    let bytes = 0;
    let n = 0;
    while (n < q.waiting.length && n < maxBatchRecords && (n === 0 || bytes + q.waiting[n]!.bytes <= maxBatchBytes)) bytes += q.waiting[n++]!.bytes;
    const records = q.waiting.splice(0, n);
    q.waitingBytes -= bytes;
    return { id: deps.ids(), records, attempt: 0, dropped: q.droppedSinceDelivery };
  };

  const secretOf = async (subscriptionId: string) => {
    const known = secrets.get(subscriptionId);
    if (known !== undefined) return known;
    const found = await deps.secrets.get(signingSecretScope(subscriptionId), SIGNING_SECRET_NAME);
    if (!found) throw new Error(`subscription ${subscriptionId} has no signing secret`);
    secrets.set(subscriptionId, found.value);
    return found.value;
  };

  const flush = async (q: Queue): Promise<void> => {
    if (q.sending) return;
    q.sending = true;
    try {
      const { subscriptionId, projectId, targetUrl } = q.sub.data;
      // A removed subscription stops here, with what it had waiting.
      if (!(await deps.registry.active(projectId)).some((s) => s.data.subscriptionId === subscriptionId)) {
        clearTimeout(q.timer);
        queues.delete(subscriptionId);
        return;
      }
      const batch = q.batch ?? (q.waiting.length > 0 ? takeBatch(q) : undefined);
      if (!batch) return;
      q.batch = batch;
      const body = `[${batch.records.map((r) => r.json).join(',')}]`;
      const res = await deps.sender.send({
        url: targetUrl, body, timeoutMs,
        headers: {
          'content-type': 'application/json', 'user-agent': 'shiplog-log-drain', 'x-shiplog-event-type': 'RuntimeLogBatch',
          'x-shiplog-subscription': subscriptionId, 'x-shiplog-delivery': batch.id, 'x-shiplog-records': String(batch.records.length),
          'x-shiplog-dropped': String(batch.dropped), 'x-shiplog-signature-256': signBody(body, await secretOf(subscriptionId)),
        },
      });
      const ok = res.statusCode !== null && res.statusCode >= 200 && res.statusCode < 300 && res.error === undefined;
      q.batch = undefined;
      if (ok) {
        q.droppedSinceDelivery -= batch.dropped;
        Object.assign(q.stats, { delivered: q.stats.delivered + batch.records.length, batches: q.stats.batches + 1, lastDeliveryAt: deps.now() });
      } else {
        q.stats.failedAttempts++;
        q.stats.lastError = res.error ?? `HTTP ${res.statusCode}`;
        if (batch.attempt + 1 < maxAttempts) q.batch = { ...batch, attempt: batch.attempt + 1 };
        else drop(q, batch.records.length, `a batch failed ${maxAttempts} times: ${q.stats.lastError}`);
      }
      q.stats.buffered = q.waiting.length + (q.batch?.records.length ?? 0);
      if (q.batch) schedule(q, retryDelay(q.batch.attempt - 1), true);
      else if (q.waiting.length > 0) schedule(q, full(q) ? 0 : flushMs);
    } catch (e) {
      fail(e);
      schedule(q, flushMs);
    } finally {
      q.sending = false;
    }
  };

  const route = async (records: RuntimeLogRecord[]) => {
    const byProject = new Map<string, RuntimeLogRecord[]>();
    for (const r of records) {
      const list = byProject.get(r.projectId);
      if (list) list.push(r);
      else byProject.set(r.projectId, [r]);
    }
    for (const [projectId, list] of byProject) {
      const drains = (await deps.registry.active(projectId)).filter((s) => s.data.kind === 'runtime-logs');
      for (const sub of drains) {
        const items = list.filter((r) => r.time >= sub.createdAt && sub.matches(drainEnvelope(r))).map((r) => {
          const json = JSON.stringify(r);
          return { json, bytes: Buffer.byteLength(json) + 1 };
        });
        if (items.length === 0) continue;
        const id = sub.data.subscriptionId;
        const q = queues.get(id) ?? { sub, waiting: [], waitingBytes: 0, sending: false, droppedSinceDelivery: 0,
          stats: { buffered: 0, delivered: 0, batches: 0, failedAttempts: 0, dropped: 0, lastDeliveryAt: null, lastError: null } };
        queues.set(id, q);
        enqueue(q, items);
      }
    }
  };

  return {
    /** Takes records as they are captured; never throws, never waits for a delivery. */
    offer: (records: RuntimeLogRecord[]): void => {
      if (closed || records.length === 0) return;
      if (pending + records.length > maxPendingRecords) {
        if (droppedAtIntake === 0) deps.log?.(`log drain: dropping records (more than ${maxPendingRecords} waiting to be routed)`);
        droppedAtIntake += records.length;
        return;
      }
      pending += records.length;
      intake = intake.then(() => route(records)).catch(fail).finally(() => {
        pending -= records.length;
      });
    },
    /** Records dropped before they reached any subscription's buffer (the intake was full). */
    droppedAtIntake: (): number => droppedAtIntake,
    /** A drain's counters, or undefined before its first record. */
    stats: (subscriptionId: string): DrainStats | undefined => {
      const q = queues.get(subscriptionId);
      return q ? { ...q.stats } : undefined;
    },
    /** Stops: no new records, no more retries; tries once more to send what is waiting. */
    close: async (): Promise<void> => {
      await intake;
      closed = true;
      for (const q of queues.values()) clearTimeout(q.timer);
      await Promise.all([...queues.values()].map((q) => flush(q)));
    },
  };
};
export type RuntimeLogDrain = ReturnType<typeof runtimeLogDrain>;
