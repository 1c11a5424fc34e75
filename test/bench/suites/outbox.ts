import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus } from '../../../events/bus/local/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import type { StoredEvent } from '../../../events/index.ts';
import { busEntryOf, streamOutbox } from '../../../infra/local/outbox.ts';
import { newEvent, newId } from '../../support/events.ts';
import { latencyRow, type BenchRow, type BenchSuite } from '../lib.ts';

const N = Number(process.env.BENCH_OUTBOX_N ?? 200);

/**
 * Append → handler through the outbox (DynamoDB Local's stream) and the local bus, against the
 * append alone on the same server: with the commit offered to the outbox by the store's
 * `onCommitted` (as `shiplog dev` wires it), with the outbox only woken by it to read the stream
 * (how it was), and with the poll alone (what is left when both are lost).
 */
export const outboxBench: BenchSuite = async ({ dynamo }) => {
  const dynamoEndpoint = await dynamo();
  const client = dynamoClient(dynamoEndpoint);
  const t = (what: string) => `bench-${what}-${newId()}`;
  const tables = { events: t('events'), deliveries: t('deliveries'), deadLetters: t('dlq'), outbox: t('outbox') };
  await createEventStoreTable(client, tables.events);
  await createLocalBusTables(client, { deliveries: tables.deliveries, deadLetters: tables.deadLetters });
  let committed = (_: StoredEvent[]) => {};
  // The source the store's default registry gives these events.
  const types = { sourceOf: () => 'shiplog.unknown' };
  const store = dynamoEventStore({ client, tableName: tables.events, onCommitted: (_, events) => committed(events) });
  const waiting = new Map<string, () => void>();
  const bus = localBus({
    subscribers: [{
      name: 'Bench', pattern: { 'detail-type': ['BenchPinged'] }, policy: { maxAttempts: 3, maxEventAgeSeconds: 60, deadLetter: true },
      handle: async (e) => waiting.get(e.detail.metadata.eventId)?.(),
    }],
    journal: deliveryJournal(client, tables.deliveries),
    deadLetters: deadLetterQueue(client, tables.deadLetters),
  });
  await bus.start();
  const pollMs = Number(process.env.BENCH_OUTBOX_POLL_MS ?? 100);
  const outbox = streamOutbox({ endpoint: dynamoEndpoint, client, tableName: tables.events, checkpointTable: tables.outbox, bus, pollMs });
  await outbox.start();
  const rows: BenchRow[] = [];
  try {
    const modes = {
      offered: (events: StoredEvent[]) => outbox.offer(events.map((e) => busEntryOf(types, e))),
      woken: () => outbox.wake(),
      poll: () => {},
    };
    for (const mode of ['offered', 'woken', 'poll'] as const) {
      committed = modes[mode];
      const appendOnly: number[] = [];
      const endToEnd: number[] = [];
      for (let i = 0; i < N + 20; i++) {
        const e = newEvent('BenchPinged', { i });
        const arrived = new Promise<void>((r) => waiting.set(e.metadata.eventId, r));
        const t0 = performance.now();
        await store.append(`bench-${newId()}`, [e], { expectedVersion: 0 });
        const t1 = performance.now();
        await arrived;
        const t2 = performance.now();
        waiting.delete(e.metadata.eventId);
        // Each event on a quiet bus: the next append does not share the database with this
        // delivery's journal writes (in a tight loop that slows the append, not the hop).
        await bus.idle();
        if (i >= 20) {
          appendOnly.push(t1 - t0);
          endToEnd.push(t2 - t0);
        }
      }
      const how = {
        offered: `the commit offered to it and published at once, the stream read as the record`,
        woken: `woken on commit to read the stream, poll ${pollMs} ms as safety net`,
        poll: `poll ${pollMs} ms only`,
      }[mode];
      rows.push(latencyRow(`append → handler via outbox + local bus (${how}; vs the append alone)`, endToEnd.sort((a, b) => a - b), appendOnly.sort((a, b) => a - b)));
    }
  } finally {
    await outbox.stop();
    await bus.stop();
    client.destroy();
  }
  return rows;
};
