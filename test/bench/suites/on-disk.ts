import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { dynamoClient, startDynamoLocal } from '../../../infra/local/dynamodb-local.ts';
import { newEvent, newId } from '../../support/events.ts';
import { latencyRow, sample, type BenchRow, type BenchSuite } from '../lib.ts';

const N = Number(process.env.BENCH_N ?? 300);
const ROUNDS = 2;
const data = { buildId: 'b', runner: 'local', settings: { install: 'npm ci', build: 'next build' } };

// The event store on disk, as `shiplog dev` keeps it (the other suites run DynamoDB Local in
// memory): SQLite's write-ahead log, which shiplog sets, against the rollback journal DynamoDB
// Local makes by itself. Alternated rounds, each on a new data dir; about a minute.
const measure = async (journal: 'wal' | 'as-is') => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-bench-disk-'));
  const db = await startDynamoLocal({ dataDir, journal, loopbackOnly: true });
  const client = dynamoClient(db.endpoint);
  try {
    await createEventStoreTable(client, 'bench-events');
    const store = dynamoEventStore({ client, tableName: 'bench-events' });
    await sample(100, (i) => store.append(`warm-${i}`, [newEvent('BuildStarted', data)], { expectedVersion: 0 }));
    const one = `one-${newId()}`;
    const single = await sample(N, (i) => store.append(one, [newEvent('BuildStarted', data)], { expectedVersion: i }));
    const five = `five-${newId()}`;
    const batch = await sample(N, (i) => store.append(five, Array.from({ length: 5 }, () => newEvent('BuildStarted', data)), { expectedVersion: i * 5 }));
    return { single, batch };
  } finally {
    client.destroy();
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

export const onDiskBench: BenchSuite = async () => {
  const wal = { single: [] as number[], batch: [] as number[] };
  const rollback = { single: [] as number[], batch: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [into, journal] of [[rollback, 'as-is'], [wal, 'wal']] as const) {
      const m = await measure(journal);
      into.single.push(...m.single);
      into.batch.push(...m.batch);
    }
  }
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
  const rows: BenchRow[] = [
    latencyRow('on disk: append 1 event, sequential, write-ahead log (vs the rollback journal)', sorted(wal.single), sorted(rollback.single)),
    latencyRow('on disk: append 5 events, sequential, write-ahead log (vs the rollback journal)', sorted(wal.batch), sorted(rollback.batch)),
  ];
  return rows;
};
