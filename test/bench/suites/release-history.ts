import { catalog, streams, toEventBridgeEvent, type EventType, type StoredEvent } from '../../../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import { releaseDecider } from '../../../services/deploy/decider.ts';
import { deployService, keyedLock, type SiteHost } from '../../../services/deploy/index.ts';
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
const HANDLED = Number(process.env.BENCH_RELEASE_HANDLED ?? 60);

export const releaseHistoryBench: BenchSuite = async ({ dynamo }) => {
  const dynamoEndpoint = await dynamo();
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

  // The deploy handler of a rollback, from the delivered request to the alias moved (a host that
  // keeps aliases in memory, no health probe): as the sole alias writer (the local runtime: the
  // alias follows the state the handler's append left) against reading the stream again under
  // the lock (AWS). Two projects, one per mode, sampled in turn.
  const handled = async (sole: boolean) => {
    const project = `h-${sole ? 'sole' : 'shared'}-${newId().slice(-6).toLowerCase()}`;
    const sc = scenario(project);
    sc.created();
    // Deployment streams are global: fresh ids per project.
    const [d1, d2] = [newId(), newId()] as const;
    for (const d of [d1, d2]) { sc.requested(d); sc.queued(d); sc.succeeded(d); sc.assets(d); sc.published(d); sc.live(d); }
    // Each scenario event carries the version its stream gives it.
    const put = async (events: StoredEvent[]) => {
      for (const e of events) await store.append(e.metadata.streamId, [toNewEvent(e)], { expectedVersion: e.metadata.version - 1 });
    };
    await put(sc.events);
    const aliases = new Map<string, string>([['production', d2]]);
    const host: SiteHost = {
      publish: async () => ({ assets: 0, functionVersion: '1' }),
      shiftAlias: async ({ alias, deploymentId }) => void aliases.set(alias, deploymentId),
      aliasTarget: async (_p, alias) => aliases.get(alias),
      urls: () => ({ deployment: '', production: '' }),
    };
    const deploy = deployService({ store, host, ids: newId, now: () => new Date().toISOString(), withLock: keyedLock(), soleAliasWriter: sole });
    // The request as the API stores it, then delivered to the handler: the time is the handler's.
    const deliver = async (e: StoredEvent, want: string) => {
      await put([e]);
      const stored = (await store.readStream(e.metadata.streamId)).at(-1)!;
      const t0 = performance.now();
      await deploy.onReleaseRequest(toEventBridgeEvent(stored, catalog[stored.type as EventType].source));
      const ms = performance.now() - t0;
      if (aliases.get('production') !== want) throw new Error(`the alias did not move to ${want}`);
      return ms;
    };
    const times: number[] = [];
    return {
      times,
      // A rollback to d1 (timed), then a promote of d2 back (not timed).
      round: async () => {
        times.push(await deliver(sc.rollbackRequested(d1), d1));
        await deliver(sc.promoteRequested(d2), d2);
      },
    };
  };
  const sole = await handled(true);
  const shared = await handled(false);
  for (let i = 0; i < 5; i++) { await sole.round(); await shared.round(); } // warm-up
  sole.times.length = 0;
  shared.times.length = 0;
  for (let i = 0; i < HANDLED; i++) { await sole.round(); await shared.round(); }
  rows.push(latencyRow(`rollback handler, request delivered → alias moved, sole alias writer (n=${HANDLED}; vs reading the stream again under the lock)`, sorted(sole.times), sorted(shared.times)));
  client.destroy();
  return rows;
};
