import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus } from '../../../events/bus/local/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import { streamOutbox } from '../../../infra/local/outbox.ts';
import { newEvent, newId } from '../../support/events.ts';
import { latencyRow, type BenchRow, type BenchSuite } from '../lib.ts';

const N = Number(process.env.BENCH_OUTBOX_N ?? 200);

/**
 * Append → handler through the outbox (DynamoDB Local's stream) and the local bus, against the
 * append alone on the same server: once with the outbox woken by the store's `onCommitted` (as
 * `shiplog dev` wires it), once with the poll alone (how it was, and what is left when the wake-up
 * is lost).
 */
export const outboxBench: BenchSuite = async ({ dynamoEndpoint }) => {
  const client = dynamoClient(dynamoEndpoint);
  const t = (what: string) => `bench-${what}-${newId()}`;
  const tables = { events: t('events'), deliveries: t('deliveries'), deadLetters: t('dlq'), outbox: t('outbox') };
  await createEventStoreTable(client, tables.events);
  await createLocalBusTables(client, { deliveries: tables.deliveries, deadLetters: tables.deadLetters });
  let committed = () => {};
  const store = dynamoEventStore({ client, tableName: tables.events, onCommitted: () => committed() });
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
    for (const woken of [true, false]) {
      committed = woken ? () => outbox.wake() : () => {};
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
        if (i >= 20) {
          appendOnly.push(t1 - t0);
          endToEnd.push(t2 - t0);
        }
      }
      const how = woken ? `woken on commit, poll ${pollMs} ms as safety net` : `poll ${pollMs} ms only`;
      rows.push(latencyRow(`append → handler via outbox + local bus (${how}; vs the append alone)`, endToEnd.sort((a, b) => a - b), appendOnly.sort((a, b) => a - b)));
    }
  } finally {
    await outbox.stop();
    await bus.stop();
    client.destroy();
  }
  return rows;
};
