import { afterAll, describe, expect, it } from 'vitest';
import { monotonicFactory } from 'ulid';
import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus, type Delivery } from '../../events/bus/local/index.ts';
import type { BusEntry } from '../../events/bus/port.ts';
import type { EventBridgeEvent } from '../../events/envelope.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

// The local bus starts a delivery before its journal entry is written, writes a publish's entries
// once its foreground deliveries have been handled (leaving out those handled), and orders a
// delivery's later journal writes after the first one.
const client = testDynamoClient();
afterAll(() => client.destroy());
const ulid = monotonicFactory();

const entry = (): BusEntry => ({ source: 'shiplog.test', detailType: 'Tested', detail: { metadata: { eventId: ulid() } as never, data: {} } });
const policy = { maxAttempts: 3, maxEventAgeSeconds: 60, deadLetter: true };

const setup = async () => {
  const tables = { deliveries: uniqueTableName(import.meta.url, 'deliveries'), deadLetters: uniqueTableName(import.meta.url, 'dlq') };
  await createLocalBusTables(client, tables);
  const journal = deliveryJournal(client, tables.deliveries);
  const deadLetters = deadLetterQueue(client, tables.deadLetters);
  // Journal writes wait for `release`; `failSaves` makes them fail instead.
  let release = () => {};
  let held = new Promise<void>((r) => (release = r));
  let failSaves = false;
  // The subscriptions of each saveAll call, in order.
  const calls: string[][] = [];
  const gated = {
    ...journal,
    calls,
    saveAll: async (ds: Delivery[]) => {
      calls.push(ds.map((d) => d.subscription));
      const body = JSON.stringify(ds); // what the real journal would write, as it was when called
      await held;
      if (failSaves) throw new Error('journal down');
      await journal.saveAll(JSON.parse(body) as Delivery[]);
    },
  };
  return {
    journal, deadLetters, gated, tables,
    open: () => {
      release();
      held = Promise.resolve();
    },
    failJournal: () => (failSaves = true),
  };
};

describe('delivery journal', () => {
  it('saveAll writes any number of entries, a key repeated in one call once', async () => {
    const { journal } = await setup();
    const at = Date.now();
    const ds: Delivery[] = Array.from({ length: 60 }, (_, i) => ({ subscription: i % 2 ? 'A' : 'B', event: { id: ulid() } as never, attempts: 0, receivedAt: at, dueAt: at }));
    await journal.saveAll([...ds, { ...ds[0]!, attempts: 1 }]);
    const pending = [...(await journal.pending('A')), ...(await journal.pending('B'))];
    expect(pending.map((d) => d.event.id).sort()).toEqual(ds.map((d) => d.event.id).sort());
    expect(pending.find((d) => d.event.id === ds[0]!.event.id)?.attempts).toBe(1);
  });
});

describe('delivery journal removals', () => {
  it('go together while one request is in flight: each resolves once its entry is deleted, a key removed twice too', async () => {
    const { journal, tables } = await setup();
    const at = Date.now();
    const ds: Delivery[] = Array.from({ length: 60 }, (_, i) => ({ subscription: i % 2 ? 'A' : 'B', event: { id: ulid() } as never, attempts: 0, receivedAt: at, dueAt: at }));
    await journal.saveAll(ds);
    const sent: { name: string; requests: number }[] = [];
    const counting = { send: (cmd: { constructor: { name: string }; input: { RequestItems?: Record<string, unknown[]> } }) => {
      sent.push({ name: cmd.constructor.name, requests: Object.values(cmd.input.RequestItems ?? {}).flat().length });
      return client.send(cmd as never);
    } } as unknown as typeof client;
    // The same table, through a client that counts what is sent.
    const removing = deliveryJournal(counting, tables.deliveries);
    await Promise.all([...ds, ds[1]!].map((d) => removing.remove(d)));
    expect([...(await journal.pending('A')), ...(await journal.pending('B'))]).toEqual([]);
    // The first removal went alone (nothing was in flight); the other 59 (one of them asked twice) waited and went in 25, 25 and 9.
    expect(sent).toEqual([1, 25, 25, 9].map((requests) => ({ name: 'BatchWriteItemCommand', requests })));
  });

  it('reject, each of them, when their request fails', async () => {
    const { tables } = await setup();
    const failing = { send: async () => { throw new Error('journal down'); } } as unknown as typeof client;
    const removing = deliveryJournal(failing, tables.deliveries);
    const d: Delivery = { subscription: 'A', event: { id: ulid() } as never, attempts: 0, receivedAt: 0, dueAt: 0 };
    const results = await Promise.allSettled([removing.remove(d), removing.remove({ ...d, event: { id: ulid() } as never })]);
    expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual(['journal down', 'journal down']);
  });
});

describe('local bus: a delivery and its journal entry', () => {
  it('writes no entry for a delivery handled before its publish is journaled: publish resolves without a journal write', async () => {
    const { journal, deadLetters, gated } = await setup();
    const handled: string[] = [];
    const bus = localBus({ subscribers: [{ name: 'Sub', pattern: { source: ['shiplog.test'] }, policy, handle: async (e) => void handled.push(e.id) }], journal: gated, deadLetters, backgroundDelayMs: 60_000 });
    await bus.start();
    const e = entry();
    // The journal is held shut: publish resolves all the same, since nothing had to be written.
    await bus.publish([e]);
    expect(handled).toEqual([e.detail.metadata.eventId]);
    expect(gated.calls).toEqual([]);
    await bus.idle();
    expect(await journal.pending('Sub')).toEqual([]);
    await bus.stop();
  });

  it('journals a publish once its foreground deliveries are handled, leaving out those handled; publish resolves once that write lands', async () => {
    const { journal, deadLetters, gated, open } = await setup();
    const log: string[] = [];
    let finish = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const subscribers = [
      { name: 'Service', pattern: { source: ['shiplog.test'] }, policy, handle: async () => { log.push('service started'); await finished; log.push('service done'); } },
      { name: 'Quick', pattern: { source: ['shiplog.test'] }, policy, handle: async () => void log.push('quick') },
      { name: 'ReadModel', pattern: { source: ['shiplog.test'] }, policy, background: true, handle: async () => void log.push('read model') },
    ];
    const bus = localBus({ subscribers, journal: gated, deadLetters, backgroundDelayMs: 60_000 });
    await bus.start();
    let accepted = false;
    const published = bus.publish([entry()]).then(() => (accepted = true));
    await expect.poll(() => log).toEqual(['service started', 'quick']);
    // Nothing is written while a foreground handler runs, and the publisher still holds the event.
    expect(gated.calls).toEqual([]);
    expect(accepted).toBe(false);
    finish();
    // Then one write, of what had not been handled yet: the background delivery.
    await expect.poll(() => gated.calls).toEqual([['ReadModel']]);
    expect(accepted).toBe(false);
    open();
    await published;
    await bus.idle();
    expect(log).toEqual(['service started', 'quick', 'service done', 'read model']);
    expect(await journal.pending('ReadModel')).toEqual([]);
    await bus.stop();
  });

  it('journals a foreground delivery still running after backgroundDelayMs, and removes it once handled', async () => {
    const { journal, deadLetters } = await setup();
    let finish = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const bus = localBus({ subscribers: [{ name: 'Sub', pattern: { source: ['shiplog.test'] }, policy, handle: () => finished }], journal, deadLetters, backgroundDelayMs: 20 });
    await bus.start();
    await bus.publish([entry()]);
    expect((await journal.pending('Sub')).map((d) => d.attempts)).toEqual([1]);
    finish();
    await bus.idle();
    expect(await journal.pending('Sub')).toEqual([]);
    await bus.stop();
  });

  it('stop journals what is not journaled yet: a queued delivery is resumed by the next start', async () => {
    const { journal, deadLetters } = await setup();
    let finish = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const handled: string[] = [];
    const sub = { name: 'Sub', pattern: { source: ['shiplog.test'] }, policy, handle: async (e: { id: string }) => { handled.push(e.id); await finished; } };
    const bus = localBus({ subscribers: [sub], journal, deadLetters, backgroundDelayMs: 60_000, concurrency: 1 });
    await bus.start();
    const [first, second] = [entry(), entry()];
    const publishes = [bus.publish([first]), bus.publish([second])];
    await expect.poll(() => handled).toEqual([first.detail.metadata.eventId]);
    expect(await journal.pending('Sub')).toEqual([]);
    const stopped = bus.stop();
    finish();
    await stopped;
    await Promise.all(publishes);
    // The running one was handled and removed; the queued one waits in the journal.
    expect((await journal.pending('Sub')).map((d) => d.event.id)).toEqual([second.detail.metadata.eventId]);
    const again = localBus({ subscribers: [{ ...sub, handle: async (e: { id: string }) => void handled.push(e.id) }], journal, deadLetters });
    await again.start();
    await again.idle();
    expect(handled).toEqual([first.detail.metadata.eventId, second.detail.metadata.eventId]);
    expect(await journal.pending('Sub')).toEqual([]);
    await again.stop();
  });

  it('a failing delivery is journaled again only after its first entry landed', async () => {
    const { journal, deadLetters, gated, open } = await setup();
    let calls = 0;
    const bus = localBus({
      subscribers: [{ name: 'Sub', pattern: { source: ['shiplog.test'] }, policy, handle: async () => { calls++; throw new Error('not yet'); } }],
      journal: gated, deadLetters, baseDelayMs: 60_000,
    });
    await bus.start();
    const e = entry();
    const published = bus.publish([e]);
    await expect.poll(() => calls).toBe(1);
    open();
    await published;
    // The retry's entry (attempts 1, lastError) is the one kept, not overwritten by the first write.
    await expect.poll(async () => (await journal.pending('Sub')).map((d) => [d.attempts, d.lastError])).toEqual([[1, 'not yet']]);
    await bus.stop();
  });

  it('when the first entry cannot be written, publish fails and the delivery leaves nothing behind', async () => {
    const { journal, deadLetters, gated, open, failJournal } = await setup();
    let calls = 0;
    const bus = localBus({
      subscribers: [{ name: 'Sub', pattern: { source: ['shiplog.test'] }, policy, handle: async () => { calls++; throw new Error('not yet'); } }],
      journal: gated, deadLetters, baseDelayMs: 1,
    });
    await bus.start();
    failJournal();
    const published = bus.publish([entry()]);
    await expect.poll(() => calls).toBe(1);
    open();
    // The publisher is told, and keeps the event (the outbox publishes it again).
    await expect(published).rejects.toThrow('journal down');
    await bus.idle();
    // No retry and no dead letter: the delivery was dropped with its failed entry.
    expect(calls).toBe(1);
    expect(await journal.pending('Sub')).toEqual([]);
    expect(await deadLetters.list('Sub')).toEqual([]);
    await bus.stop();
  });
});

describe('local bus: background deliveries', () => {
  // A bus with a service whose handler waits for `finish` and a read model marked background, one event published.
  const published = async (backgroundDelayMs: number, backgroundGraceMs?: number) => {
    const { journal, deadLetters } = await setup();
    const log: string[] = [];
    let finish = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const subscribers = [
      { name: 'Service', pattern: { source: ['shiplog.test'] }, policy, handle: async () => { log.push('service started'); await finished; log.push('service done'); } },
      { name: 'ReadModel', pattern: { source: ['shiplog.test'] }, policy, background: true, handle: async () => void log.push('read model') },
    ];
    const bus = localBus({ subscribers, journal, deadLetters, backgroundDelayMs, ...(backgroundGraceMs !== undefined ? { backgroundGraceMs } : {}) });
    await bus.start();
    // Resolves once journaled: when the service has been handled, or after backgroundDelayMs.
    const accepted = bus.publish([entry()]);
    return { bus, log, finish, journal, deadLetters, accepted, readModel: subscribers[1]! };
  };

  it('start once the foreground deliveries of their publish have been handled', async () => {
    const { bus, log, finish, journal, accepted } = await published(60_000);
    await expect.poll(() => log).toEqual(['service started']);
    finish();
    await accepted;
    await bus.idle();
    expect(log).toEqual(['service started', 'service done', 'read model']);
    expect(await journal.pending('ReadModel')).toEqual([]);
    await bus.stop();
  });

  it('start after backgroundDelayMs when the foreground takes longer, and at once when their publish has no foreground delivery', async () => {
    const { bus, log, finish, journal, deadLetters, accepted, readModel } = await published(50);
    await expect.poll(() => log).toEqual(['service started', 'read model']);
    // Journaled after backgroundDelayMs while the service still runs.
    await accepted;
    expect((await journal.pending('Service')).length).toBe(1);
    finish();
    await bus.idle();
    expect(log).toEqual(['service started', 'read model', 'service done']);
    // An event only the read model matches.
    const onlyBackground = localBus({ subscribers: [readModel], journal, deadLetters, backgroundDelayMs: 60_000 });
    await onlyBackground.start();
    await onlyBackground.publish([entry()]);
    await onlyBackground.idle();
    expect(log.filter((l) => l === 'read model')).toHaveLength(2);
    await bus.stop();
    await onlyBackground.stop();
  });

  it('wait backgroundGraceMs more after the foreground ended, never past backgroundDelayMs of their publish', async () => {
    // A grace longer than the bound: the read model still runs, after the service, once the bound is reached.
    const { bus, log, finish, accepted } = await published(3_000, 60_000);
    await expect.poll(() => log).toEqual(['service started']);
    finish();
    await accepted;
    await expect.poll(() => log, { timeout: 15_000 }).toEqual(['service started', 'service done', 'read model']);
    await bus.idle();
    await bus.stop();
  });

  it('whose grace has passed wait while a service delivery of another publish is in its first attempt', async () => {
    const { journal, deadLetters } = await setup();
    const log: string[] = [];
    const gates = new Map<string, () => void>();
    const gated = (name: string) => new Promise<void>((r) => gates.set(name, r));
    const tagged = (tag: string): BusEntry => ({ source: 'shiplog.test', detailType: 'Tested', detail: { metadata: { eventId: ulid(), causationId: null } as never, data: { tag } } });
    const tagOf = (e: { detail: unknown }) => (e.detail as { data: { tag: string } }).data.tag;
    const subscribers = [
      { name: 'Service', pattern: { source: ['shiplog.test'] }, policy, handle: async (e: EventBridgeEvent) => { log.push(`service ${tagOf(e)}`); await gated(tagOf(e)); log.push(`service ${tagOf(e)} done`); } },
      { name: 'ReadModel', pattern: { source: ['shiplog.test'] }, policy, background: true, handle: async (e: EventBridgeEvent) => void log.push(`read model ${tagOf(e)}`) },
    ];
    const bus = localBus({ subscribers, journal, deadLetters, backgroundDelayMs: 60_000, backgroundGraceMs: 10 });
    await bus.start();
    const first = bus.publish([tagged('promote')]);
    await expect.poll(() => log).toEqual(['service promote']);
    // The next command's service starts before the first one's grace has passed.
    const second = bus.publish([tagged('rollback')]);
    await expect.poll(() => log).toEqual(['service promote', 'service rollback']);
    gates.get('promote')!();
    await first;
    // Well past the grace: the first event's read model still waits for the second's service.
    await new Promise((r) => setTimeout(r, 100));
    expect(log).toEqual(['service promote', 'service rollback', 'service promote done']);
    gates.get('rollback')!();
    await second;
    await bus.idle();
    expect(log.slice(3, 4)).toEqual(['service rollback done']);
    expect(log.slice(4).sort()).toEqual(['read model promote', 'read model rollback']);
    await bus.stop();
  });

  it('of an event a service appended wait until that service\'s delivery of its cause has returned', async () => {
    const { journal, deadLetters } = await setup();
    const log: string[] = [];
    let finish = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const caused = (cause: string | null): BusEntry => ({
      source: 'shiplog.test', detailType: 'Done', detail: { metadata: { eventId: ulid(), causationId: cause } as never, data: {} },
    });
    // The service appends (publishes) its outcome, then still works (moves an alias) before returning.
    const subscribers = [
      {
        name: 'Service', pattern: { 'detail-type': ['Tested'] }, policy,
        handle: async (e: { id: string }) => {
          await bus.publish([caused(e.id)]);
          log.push('service published');
          await finished;
          log.push('service done');
        },
      },
      { name: 'ReadModel', pattern: { 'detail-type': ['Done'] }, policy, background: true, handle: async () => void log.push('read model') },
    ];
    const bus = localBus({ subscribers, journal, deadLetters, backgroundDelayMs: 60_000 });
    await bus.start();
    const accepted = bus.publish([entry()]);
    await expect.poll(() => log).toEqual(['service published']);
    // Journaled while it waits, as any delivery.
    expect((await journal.pending('ReadModel')).length).toBe(1);
    finish();
    await accepted;
    await bus.idle();
    expect(log).toEqual(['service published', 'service done', 'read model']);
    // A cause with no delivery running (long handled, or none at all) holds nothing back.
    await bus.publish([caused(ulid()), caused(null)]);
    await bus.idle();
    expect(log.filter((l) => l === 'read model')).toHaveLength(3);
    await bus.stop();
  });
});

describe('local bus: ordered deliveries', () => {
  // Four events in one publish, three of stream `a` and one of `b`; each delivery waits for its gate.
  const run = async (ordered: boolean) => {
    const { journal, deadLetters } = await setup();
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const of = (tag: string): BusEntry => ({ source: 'shiplog.test', detailType: 'Tested', detail: { metadata: { eventId: ulid(), streamId: tag[0] } as never, data: { tag } } });
    const tagOf = (e: EventBridgeEvent) => (e.detail.data as { tag: string }).tag;
    const subscribers = [{
      name: 'ReadModel', pattern: { source: ['shiplog.test'] }, policy,
      handle: async (e: EventBridgeEvent) => {
        started.push(tagOf(e));
        await new Promise<void>((r) => gates.set(tagOf(e), r));
      },
      ...(ordered ? { orderedBy: (e: EventBridgeEvent) => e.detail.metadata.streamId } : {}),
    }];
    const bus = localBus({ subscribers, journal, deadLetters });
    await bus.start();
    const accepted = bus.publish(['a1', 'a2', 'b1', 'a3'].map(of));
    return { bus, started, accepted, open: (tag: string) => gates.get(tag)!() };
  };

  it('run one at a time per key, in the order queued, beside deliveries of other keys', async () => {
    const { bus, started, accepted, open } = await run(true);
    await expect.poll(() => started).toEqual(['a1', 'b1']);
    // a2 waits for a1 however long it takes; b1's end lets nothing of `a` pass.
    open('b1');
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toEqual(['a1', 'b1']);
    open('a1');
    await expect.poll(() => started).toEqual(['a1', 'b1', 'a2']);
    open('a2');
    await expect.poll(() => started).toEqual(['a1', 'b1', 'a2', 'a3']);
    open('a3');
    await accepted;
    await bus.idle();
    await bus.stop();
  });

  it('a backlog of one key drains in order, asking each delivery its key once', async () => {
    const { journal, deadLetters } = await setup();
    const n = 2000;
    const order: number[] = [];
    let inFlightA = 0;
    let mostA = 0;
    let keyReads = 0;
    const subscribers = [{
      name: 'ReadModel', pattern: { source: ['shiplog.test'] }, policy,
      handle: async (e: EventBridgeEvent) => {
        const { i } = e.detail.data as { i: number };
        if (e.detail.metadata.streamId !== 'a') return;
        mostA = Math.max(mostA, ++inFlightA);
        order.push(i);
        await new Promise((r) => setImmediate(r));
        inFlightA--;
      },
      orderedBy: (e: EventBridgeEvent) => (keyReads++, e.detail.metadata.streamId),
    }];
    const bus = localBus({ subscribers, journal, deadLetters });
    await bus.start();
    // One publish: the whole backlog of `a` queued at once, with a `b` every 100 events.
    const entries: BusEntry[] = Array.from({ length: n }, (_, i) => ({
      source: 'shiplog.test', detailType: 'Tested', detail: { metadata: { eventId: ulid(), streamId: i % 100 === 99 ? 'b' : 'a' } as never, data: { i } },
    }));
    await bus.publish(entries);
    await bus.idle();
    await bus.stop();
    const as = entries.map((e, i) => ({ i, stream: (e.detail.metadata as { streamId: string }).streamId })).filter((e) => e.stream === 'a').map((e) => e.i);
    expect(order).toEqual(as);
    expect(mostA).toBe(1);
    // Scanning the queue past the busy key on every start would read keys about n²/2 times.
    expect(keyReads).toBe(n);
  });

  it('without orderedBy, run side by side', async () => {
    const { bus, started, accepted, open } = await run(false);
    await expect.poll(() => [...started].sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
    for (const tag of started) open(tag);
    await accepted;
    await bus.idle();
    await bus.stop();
  });
});
