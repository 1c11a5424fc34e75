import { streams } from '../../../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import { releaseDecider } from '../../../services/deploy/decider.ts';
import { fold, streamStates } from '../../../services/shell/index.ts';
import { toNewEvent } from '../../property/generator.ts';
import { newId } from '../../support/events.ts';
import { scenario } from '../../support/scenario-events.ts';
import { latencyRow, type BenchRow, type BenchSuite } from '../lib.ts';

// What a rollback or promote loads before it decides: the release stream's state. A project that
// has shipped DEPLOYMENTS times has 4 release events per deployment. Each sample first appends a
// rollback (2 events) as another writer would, then loads: the kept state and its tail (what the
// deploy service does) against reading and folding the whole stream (what it did before).
const DEPLOYMENTS = Number(process.env.BENCH_RELEASE_DEPLOYMENTS ?? 1000);
const LOADS = Number(process.env.BENCH_RELEASE_LOADS ?? 30);

export const releaseHistoryBench: BenchSuite = async ({ dynamoEndpoint }) => {
  const client = dynamoClient(dynamoEndpoint);
  const table = `bench-release-${newId()}`;
  await createEventStoreTable(client, table);
  const store = dynamoEventStore({ client, tableName: table, types: eventTypes });
  const p = 'web';
  const release = streams.release(p, 'production');
  const s = scenario(p);
  for (let i = 1; i <= DEPLOYMENTS; i++) {
    s.requested(`d${i}`, { n: i });
    s.assets(`d${i}`);
    s.published(`d${i}`);
    s.live(`d${i}`);
  }
  let version = 0;
  const appendMine = async (from: number) => {
    const mine = s.events.slice(from).filter((e) => e.metadata.streamId === release);
    for (let i = 0; i < mine.length; i += 25) {
      const chunk = mine.slice(i, i + 25);
      version = (await store.append(release, chunk.map(toNewEvent), { expectedVersion: version })).nextVersion;
    }
  };
  await appendMine(0);

  const states = streamStates(store, releaseDecider);
  await states.load(release);
  const kept: number[] = [];
  const whole: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const from = s.events.length;
    s.rolledBack(`d${DEPLOYMENTS - 1 - (i % 2)}`);
    await appendMine(from);
    // Interleaved, so both see the same store and the same neighbours.
    const t0 = performance.now();
    await states.load(release);
    kept.push(performance.now() - t0);
    const t1 = performance.now();
    fold(releaseDecider, await store.readStream(release));
    whole.push(performance.now() - t1);
  }
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  const rows: BenchRow[] = [
    latencyRow(`rollback's load of a release stream of ${version} events (${DEPLOYMENTS} deployments): kept state + tail (vs reading and folding it whole)`, sorted(kept), sorted(whole)),
  ];
  client.destroy();
  return rows;
};
