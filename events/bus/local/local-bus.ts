import { monotonicFactory } from 'ulid';
import { backoff } from '../../backoff.ts';
import type { EventBridgeEvent } from '../../envelope.ts';
import { compilePattern } from '../pattern/index.ts';
import type { BusEntry, EventBus } from '../port.ts';
import type { DeadLetter, DeadLetterQueue, Delivery, DeliveryJournal } from './journal.ts';

/**
 * A subscription as the local bus runs it: the topology's pattern and policy plus the handler
 * function (built with local ports by the composition root).
 *
 * @example
 * const s: LocalSubscriber = { name: 'DeployOnBuildSucceeded', pattern, policy, handle: deployHandler };
 */
export interface LocalSubscriber {
  name: string;
  pattern: Record<string, unknown>;
  policy: { maxAttempts: number; maxEventAgeSeconds: number; deadLetter: boolean };
  handle(event: EventBridgeEvent): Promise<unknown>;
  /**
   * Work nobody waits on (read models, fan-out): its delivery of a published event starts once
   * that event's other deliveries have been handled, and those of the event that caused it
   * (`causationId`) if they are still running, and `backgroundGraceMs` more, and no service
   * delivery of another publish is then in its first attempt (or once `backgroundDelayMs` has
   * passed), so a service reacting to the event (a rollback moving an alias) does not share the
   * database with it, nor with the read models of what that service has just appended, nor do
   * they with the first requests that follow its work, nor with the next command's service.
   */
  background?: boolean;
  /**
   * Deliveries with the same key run one at a time, in the order they were queued (as an SQS FIFO
   * queue's message group does); those without a key, or with another, run beside them. The read
   * models key theirs by stream, so each event finds the one before it applied: run together, the
   * later one found a gap, read its stream from the store and lost a race with the earlier.
   */
  orderedBy?: (event: EventBridgeEvent) => string | undefined;
}

export interface LocalBusOptions {
  subscribers: LocalSubscriber[];
  journal: DeliveryJournal;
  deadLetters: DeadLetterQueue;
  /** First retry delay; doubles per attempt up to `maxDelayMs`, with jitter (EventBridge: ~1 s to minutes). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Deliveries in flight per subscription (like a Lambda's reserved concurrency). */
  concurrency?: number;
  /** The longest a background delivery waits for the foreground ones it follows; default 200 ms. */
  backgroundDelayMs?: number;
  /**
   * How long a background delivery still waits once the foreground ones it follows have ended,
   * within `backgroundDelayMs` of its publish; default 30 ms. What those deliveries did is then
   * used first (a site's next request after a rollback moved its alias), before the read models'
   * work takes the CPU and DynamoDB Local.
   */
  backgroundGraceMs?: number;
  now?: () => number;
  random?: () => number;
  /** Told about every outcome; for logs and tests. */
  onOutcome?: (o: { subscription: string; eventId: string; outcome: 'delivered' | 'retry' | 'dead-lettered'; error?: string }) => void;
}

/**
 * The in-process bus with EventBridge's delivery semantics: pattern matching per subscription,
 * at-least-once delivery in no particular order, retries with exponential backoff and jitter up
 * to the subscription's max attempts and max event age, then its dead-letter queue. Pending
 * deliveries are journaled, so `start()` after a restart resumes them.
 *
 * @example
 * const bus = localBus({ subscribers, journal, deadLetters });
 * await bus.start();
 * await bus.publish([entry]);
 * await bus.idle();
 */
export interface LocalBus extends EventBus {
  start(): Promise<void>;
  /** Resolves once nothing is in flight or scheduled. */
  idle(): Promise<void>;
  /** Sends a subscription's dead letters (all, or those ids) to it again; returns how many. */
  redrive(subscription: string, ids?: string[]): Promise<number>;
  stop(): Promise<void>;
}

/** Thrown by `publish` for an entry EventBridge would refuse. */
export class InvalidEntryError extends Error {
  override name = 'InvalidEntryError';
}

const toEvent = (entry: BusEntry, ids: () => string): EventBridgeEvent => {
  if (!entry.source || !entry.detailType) throw new InvalidEntryError('an entry needs a source and a detail-type');
  if (typeof entry.detail !== 'object' || entry.detail === null || Array.isArray(entry.detail)) {
    throw new InvalidEntryError(`${entry.detailType}: detail must be a JSON object`);
  }
  return {
    version: '0',
    // EventBridge ids are per PutEvents entry; ours reuse the shiplog event id so duplicates are recognizable.
    id: entry.detail.metadata?.eventId ?? ids(),
    source: entry.source,
    account: '000000000000',
    time: (entry.time ?? entry.detail.metadata?.occurredAt ?? new Date().toISOString()).replace(/\.\d+Z$/, 'Z'),
    region: 'local',
    resources: entry.resources ?? [],
    'detail-type': entry.detailType,
    detail: entry.detail,
  };
};

// A subscription's queued deliveries: `ready` may start (in the order queued), `held` are the keys
// with a delivery ready or running, `waiting` the deliveries behind them, per key.
interface Lane {
  ready: Delivery[];
  held: Set<string>;
  waiting: Map<string, Delivery[]>;
}

export const localBus = (opts: LocalBusOptions): LocalBus => {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const baseDelayMs = opts.baseDelayMs ?? 1000;
  const maxDelayMs = opts.maxDelayMs ?? 60_000;
  const concurrency = opts.concurrency ?? 8;
  const backgroundDelayMs = opts.backgroundDelayMs ?? 200;
  const backgroundGraceMs = opts.backgroundGraceMs ?? 30;
  const ids = monotonicFactory();
  const subscribers = opts.subscribers.map((s) => ({ ...s, matches: compilePattern(s.pattern) }));
  const byName = new Map(subscribers.map((s) => [s.name, s]));

  const timers = new Set<ReturnType<typeof setTimeout>>();
  // Per subscription: the deliveries that may start, in the order they were queued, and those
  // waiting behind a delivery of their `orderedBy` key (queued or running), per key. At most one
  // delivery of a key is ready or running, so starting the next is taking the ready queue's head.
  const lanes = new Map<string, Lane>(subscribers.map((s) => [s.name, { ready: [], held: new Set(), waiting: new Map() }]));
  const running = new Map<string, number>(subscribers.map((s) => [s.name, 0]));
  // When each queued delivery was queued (the ready queue's order) and its key, if it has one.
  const queuedAs = new WeakMap<Delivery, { seq: number; key: string | undefined }>();
  let seq = 0;
  let busy = 0; // scheduled timers + queued + running deliveries + journal writes
  let stopped = false;
  let waiters: (() => void)[] = [];

  const settle = () => {
    busy--;
    if (busy === 0) {
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    }
  };

  // The journal write of a publish's deliveries. It waits until the foreground deliveries of that
  // publish have been handled once (or `backgroundDelayMs` has passed, or the bus stops), so it
  // does not share the database with the handler it would record; a delivery handled by then is
  // not written at all. Until `publish` resolves, the publisher keeps the event and publishes it
  // again after a crash (at least once), so nothing is lost meanwhile.
  type JournalWrite = { deliveries: Delivery[]; handled: Set<Delivery>; left: number; started: boolean; written: Promise<void>; start(): void };
  const writeOf = new WeakMap<Delivery, JournalWrite>();
  const unstarted = new Set<JournalWrite>();
  const journalWrite = (deliveries: Delivery[], foreground: number): JournalWrite => {
    let resolve!: (p: Promise<void>) => void;
    const written = new Promise<void>((r) => (resolve = r));
    const timer = foreground > 0 ? setTimeout(() => w.start(), backgroundDelayMs) : undefined;
    const w: JournalWrite = {
      deliveries, handled: new Set(), left: foreground, started: false, written,
      start: () => {
        if (w.started) return;
        w.started = true;
        clearTimeout(timer);
        unstarted.delete(w);
        const rest = w.deliveries.filter((d) => !w.handled.has(d));
        resolve(rest.length > 0 ? opts.journal.saveAll(rest) : Promise.resolve());
      },
    };
    unstarted.add(w);
    if (foreground === 0) w.start();
    return w;
  };
  // A delivery's first attempt has ended (handled, failed, or dead-lettered before it ran): a
  // journal write not yet started leaves it out if it was handled, and starts once its
  // publish's foreground deliveries have all ended.
  const firstHandled = (d: Delivery, ok: boolean) => {
    const w = writeOf.get(d);
    if (!w || w.started) return;
    if (ok) w.handled.add(d);
    if (!byName.get(d.subscription)?.background && --w.left === 0) w.start();
  };
  // Before a delivery's journal is written again (removed, rescheduled, dead-lettered), its first
  // write must have landed; false when it has nothing in the journal: handled before the write,
  // or the write failed. When that write failed, `publish` failed: the publisher keeps the event
  // and publishes it again, so this delivery is dropped, not journaled.
  const journaled = async (d: Delivery): Promise<boolean> => {
    const w = writeOf.get(d);
    if (!w) return true;
    writeOf.delete(d);
    if (w.handled.has(d)) return false;
    return w.written.then(() => true, () => false);
  };

  const deadLetter = async (d: Delivery, errorCode: DeadLetter['errorCode'], errorMessage: string) => {
    firstHandled(d, false);
    if (!(await journaled(d))) return;
    const sub = byName.get(d.subscription);
    if (!sub || sub.policy.deadLetter) {
      await opts.deadLetters.put({
        id: ids(),
        subscription: d.subscription,
        event: d.event,
        errorCode,
        errorMessage,
        attempts: d.attempts,
        receivedAt: new Date(d.receivedAt).toISOString(),
        deadLetteredAt: new Date(now()).toISOString(),
      });
    }
    await opts.journal.remove(d);
    opts.onOutcome?.({ subscription: d.subscription, eventId: d.event.id, outcome: 'dead-lettered', error: errorMessage });
  };

  const delay = backoff({ baseMs: baseDelayMs, maxMs: maxDelayMs, jitter: 'equal', random });

  const attempt = async (d: Delivery): Promise<void> => {
    const sub = byName.get(d.subscription);
    if (!sub) return deadLetter(d, 'UnknownSubscription', `no subscription named ${d.subscription}`);
    if (now() - d.receivedAt > sub.policy.maxEventAgeSeconds * 1000) {
      return deadLetter(d, 'MaximumEventAgeExceeded', d.lastError ?? 'the event is older than the maximum event age');
    }
    d.attempts++;
    try {
      await sub.handle(d.event);
    } catch (err) {
      firstHandled(d, false);
      return failed(d, sub, err);
    }
    firstHandled(d, true);
    if (await journaled(d)) await opts.journal.remove(d);
    opts.onOutcome?.({ subscription: d.subscription, eventId: d.event.id, outcome: 'delivered' });
  };

  // A failed attempt: retried later (its entry written again first) or dead-lettered.
  const failed = async (d: Delivery, sub: LocalSubscriber, err: unknown): Promise<void> => {
    if (!(await journaled(d))) return;
    const message = err instanceof Error ? err.message : String(err);
    d.lastError = message;
    if ((err as { retryable?: unknown } | null)?.retryable === false) return deadLetter(d, 'PoisonEvent', message);
    if (d.attempts >= sub.policy.maxAttempts) return deadLetter(d, 'RetryAttemptsExhausted', message);
    d.dueAt = now() + delay(d.attempts - 1);
    await opts.journal.save(d);
    opts.onOutcome?.({ subscription: d.subscription, eventId: d.event.id, outcome: 'retry', error: message });
    schedule(d);
  };

  // Told when a foreground delivery's first attempt has ended (background ones waiting on it may start).
  const ended = new WeakMap<Delivery, (() => void)[]>();
  // Foreground deliveries whose first attempt has not ended, by event id: a publish of the events
  // their handlers append (whose cause they are) defers its background deliveries until they end.
  const firstAttempts = new Map<string, Set<Delivery>>();
  const whenFirstAttemptEnds = (d: Delivery, f: () => void) => {
    const callbacks = ended.get(d);
    if (callbacks) callbacks.push(f);
    else ended.set(d, [f]);
  };
  const firstAttemptEnded = (d: Delivery) => {
    const pending = firstAttempts.get(d.event.id);
    if (pending?.delete(d) && pending.size === 0) firstAttempts.delete(d.event.id);
    const callbacks = ended.get(d);
    ended.delete(d);
    for (const f of callbacks ?? []) f();
  };

  // A delivery whose key's previous one has ended takes its place by when it was queued: before
  // those queued after it, behind those queued before it that have not started.
  const makeReady = (lane: Lane, d: Delivery) => {
    const at = queuedAs.get(d)!.seq;
    const ready = lane.ready;
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (queuedAs.get(ready[mid]!)!.seq < at) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, d);
  };

  // The next of its key may go (into the ready queue), or the key is free.
  const release = (lane: Lane, key: string) => {
    const behind = lane.waiting.get(key);
    const next = behind?.shift();
    if (behind && behind.length === 0) lane.waiting.delete(key);
    if (next) makeReady(lane, next);
    else lane.held.delete(key);
  };

  const pump = (name: string) => {
    const lane = lanes.get(name)!;
    while (!stopped && lane.ready.length > 0 && running.get(name)! < concurrency) {
      const d = lane.ready.shift()!;
      const key = queuedAs.get(d)!.key;
      running.set(name, running.get(name)! + 1);
      attempt(d)
        .catch((err: unknown) => {
          // The journal or the DLQ failed (the database is down or restarting): keep the delivery
          // in memory and try it again later, so it is not left waiting for the next start.
          process.stderr.write(`local bus: ${name} ${d.event.id}: ${(err as Error).message}; trying again\n`);
          d.dueAt = now() + delay(Math.min(d.attempts, 5));
          schedule(d);
        })
        .finally(() => {
          running.set(name, running.get(name)! - 1);
          if (key !== undefined) release(lane, key);
          firstAttemptEnded(d);
          settle();
          pump(name);
        });
    }
  };

  const enqueue = (d: Delivery) => {
    if (stopped) return;
    const lane = lanes.get(d.subscription);
    if (!lane) return;
    busy++;
    const key = byName.get(d.subscription)!.orderedBy?.(d.event);
    queuedAs.set(d, { seq: seq++, key });
    if (key === undefined || !lane.held.has(key)) {
      if (key !== undefined) lane.held.add(key);
      lane.ready.push(d);
    } else {
      // Behind a delivery of its key: it keeps its place in time, and those after it of other keys may go.
      const behind = lane.waiting.get(key);
      if (behind) behind.push(d);
      else lane.waiting.set(key, [d]);
    }
    pump(d.subscription);
  };

  function schedule(d: Delivery) {
    if (stopped) return;
    busy++;
    const timer = setTimeout(() => {
      timers.delete(timer);
      enqueue(d);
      settle();
    }, Math.max(0, d.dueAt - now()));
    timers.add(timer);
  }

  // Background deliveries start when every foreground delivery they follow (their publish's, their
  // cause's) has had its first attempt and backgroundGraceMs more have passed, and no foreground
  // delivery of any publish is in its first attempt then (else once those have ended), or after
  // backgroundDelayMs, whichever comes first (journaled already: a crash meanwhile loses nothing).
  const deferBackground = (foreground: Delivery[], background: Delivery[]) => {
    busy++;
    let left = foreground.length;
    let released = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      if (released) return;
      released = true;
      for (const t of [timer, grace]) {
        if (t === undefined) continue;
        clearTimeout(t);
        timers.delete(t);
      }
      for (const d of background) enqueue(d);
      settle();
    };
    const timer = setTimeout(release, backgroundDelayMs);
    timers.add(timer);
    // A service handling another event meanwhile (a rollback right after a promote) goes first.
    const whenServicesIdle = () => {
      if (released) return;
      const busyNow = [...firstAttempts.values()].flatMap((pending) => [...pending]);
      if (busyNow.length === 0) return release();
      let waiting = busyNow.length;
      const oneIdle = () => {
        if (--waiting === 0) whenServicesIdle();
      };
      for (const d of busyNow) whenFirstAttemptEnds(d, oneIdle);
    };
    const one = () => {
      if (--left > 0 || released) return;
      if (backgroundGraceMs <= 0) return whenServicesIdle();
      grace = setTimeout(whenServicesIdle, backgroundGraceMs);
      timers.add(grace);
    };
    for (const d of foreground) whenFirstAttemptEnds(d, one);
  };

  // The foreground deliveries still in their first attempt of the events that caused these.
  const causesRunning = (events: EventBridgeEvent[]): Delivery[] => {
    const found = new Set<Delivery>();
    for (const e of events) {
      const cause = (e.detail as { metadata?: { causationId?: string | null } }).metadata?.causationId;
      for (const d of (cause ? firstAttempts.get(cause) : undefined) ?? []) found.add(d);
    }
    return [...found];
  };

  const publish = async (entries: BusEntry[]): Promise<void> => {
    const events = entries.map((e) => toEvent(e, ids));
    const deliveries: Delivery[] = [];
    for (const event of events) {
      for (const sub of subscribers) {
        if (sub.matches(event)) {
          deliveries.push({ subscription: sub.name, event, attempts: 0, receivedAt: now(), dueAt: now() });
        }
      }
    }
    // Accepted means journaled: from here a crash does not lose the delivery. The entries of one
    // publish are written together, once its foreground deliveries have been handled (those
    // handled are left out). A delivery starts before its entry is written (its handler is
    // idempotent, and until `publish` resolves the publisher has not let go of the event); its
    // next journal write waits for that one.
    if (deliveries.length === 0) return;
    const foreground: Delivery[] = [];
    const background: Delivery[] = [];
    for (const d of deliveries) (byName.get(d.subscription)!.background ? background : foreground).push(d);
    const write = journalWrite(deliveries, foreground.length);
    for (const d of deliveries) writeOf.set(d, write);
    busy++;
    write.written.then(settle, settle);
    for (const d of foreground) {
      const pending = firstAttempts.get(d.event.id);
      if (pending) pending.add(d);
      else firstAttempts.set(d.event.id, new Set([d]));
    }
    const follows = background.length > 0 ? [...foreground, ...causesRunning(events)] : [];
    for (const d of foreground) enqueue(d);
    if (follows.length === 0) for (const d of background) enqueue(d);
    else deferBackground(follows, background);
    await write.written;
  };

  return {
    publish,
    start: async () => {
      for (const sub of subscribers) {
        for (const d of await opts.journal.pending(sub.name)) schedule(d);
      }
    },
    idle: () => (busy === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    redrive: async (subscription, only) => {
      if (!byName.has(subscription)) throw new Error(`no subscription named ${subscription}`);
      const letters = (await opts.deadLetters.list(subscription)).filter((l) => !only || only.includes(l.id));
      for (const l of letters) {
        const d: Delivery = { subscription, event: l.event, attempts: 0, receivedAt: now(), dueAt: now() };
        await opts.journal.save(d);
        await opts.deadLetters.remove(subscription, l.id);
        enqueue(d);
      }
      return letters.length;
    },
    stop: async () => {
      stopped = true;
      // What is not yet journaled is written now: a delivery still queued is resumed by the next start.
      const writes = [...unstarted].map((w) => (w.start(), w.written.catch(() => {})));
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // What is still queued stays in the journal for the next start.
      for (const lane of lanes.values()) {
        lane.ready.length = 0;
        lane.waiting.clear();
        lane.held.clear();
      }
      while ([...running.values()].some((n) => n > 0)) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(writes);
    },
  };
};
