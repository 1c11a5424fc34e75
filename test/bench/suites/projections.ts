import { availableParallelism } from 'node:os';
import { BatchWriteItemCommand, type BatchWriteItemCommandOutput, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { StoredEvent } from '../../../events/index.ts';
import { toItem } from '../../../events/store/codec.ts';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import { defaultProjections } from '../../../projections/all.ts';
import { deploymentsProjection } from '../../../projections/deployments.ts';
import { bulkDocOf, memoryFold, multiFold } from '../../../projections/fold.ts';
import { fromStored } from '../../../projections/incoming.ts';
import { rebuildProjection } from '../../../projections/rebuild.ts';
import type { AnyProjection } from '../../../projections/types.ts';
import { replayDeployment } from '../../../projections/replay/deployment.ts';
import { dynamoViewStore } from '../../../projections/store/dynamo-view-store.ts';
import { namespaceOf } from '../../../projections/store/ports.ts';
import { createViewsTable } from '../../../projections/store/table.ts';
import { newId } from '../../support/events.ts';
import { generateHistory, toNewEvent } from '../../property/generator.ts';
import { seeded } from '../../property/random.ts';
import { latencyRow, rateRow, sample, type BenchRow, type BenchSuite } from '../lib.ts';

// The projections: how fast events fold in memory, how fast a rebuild reads and writes a store of
// STORE_EVENTS events on DynamoDB Local (against a bare global-order read of the same store), and
// how long replaying one deployment takes in that store (against the bare readDeployment query).
const STORE_EVENTS = Number(process.env.BENCH_PROJECTION_EVENTS ?? 100_000);
const FOLD_EVENTS = Number(process.env.BENCH_FOLD_EVENTS ?? 50_000);
const REPLAYS = Number(process.env.BENCH_REPLAYS ?? 300);
const WRITERS = 16;

/** Generated histories, one after another in time, until there are `n` events. */
const history = (n: number, seed: number): { events: StoredEvent[]; deployments: string[] } => {
  const events: StoredEvent[] = [];
  const deployments: string[] = [];
  let start = Date.parse('2026-01-05T09:00:00.000Z');
  for (let i = 0; events.length < n; i++) {
    const h = generateHistory({ seed: seed + i, prefix: `b${seed % 1000}-${i}`, startMs: start });
    events.push(...h.events);
    deployments.push(...h.deployments);
    start = Date.parse(h.events.at(-1)!.metadata.occurredAt) + 1000;
  }
  const kept = events.slice(0, n);
  const counts = new Map<string, number>();
  for (const e of kept) if (e.metadata.deploymentId) counts.set(e.metadata.deploymentId, (counts.get(e.metadata.deploymentId) ?? 0) + 1);
  // Deployments whose first three events made it into the store.
  return { events: kept, deployments: deployments.filter((d) => (counts.get(d) ?? 0) >= 3) };
};

const pool = async <T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) => {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
};

// Fills the store fast: BatchWriteItem of the very items `store.append` writes (same codec, same
// keys and indexes), 25 per call, WRITERS calls in flight, without the per-append version check.
// The commit time of each event is its occurredAt, so the global order is the histories' order.
const fill = async (client: DynamoDBClient, tableName: string, events: StoredEvent[]): Promise<number> => {
  const items = events.map((e) => toItem(e.metadata.streamId, e.metadata.version, toNewEvent(e), eventTypes.schemaVersionOf(e.type), eventTypes.sourceOf(e.type), e.metadata.occurredAt, 0));
  const batches: (typeof items)[] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  const t0 = performance.now();
  await pool(batches, WRITERS, async (batch) => {
    let pending: WriteRequest[] | undefined = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending && pending.length > 0) {
      const res: BatchWriteItemCommandOutput = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = res.UnprocessedItems?.[tableName];
    }
  });
  return events.length / ((performance.now() - t0) / 1000);
};

export const projectionsBench: BenchSuite = async ({ dynamo, dynamoCpuSeconds }) => {
  const rows: BenchRow[] = [];

  // 1. folding in memory. Events are parsed once where they enter (store or bus: `fromStored`,
  // `fromBus`) and the fold takes typed events: the fold alone against parsing alone, then both.
  // Issue 15's "≥ 500k events/s in memory" (folds without per-event schema work, parse at the
  // boundary once) is the first row: it folds events parsed before the clock starts. The second
  // row adds the boundary parse, for the rate of a fold fed straight from the store.
  const { events: foldEvents } = history(FOLD_EVENTS, 1);
  // Wall time, and this process's CPU time (user + system): on a shared, loaded machine the wall
  // time of an in-memory loop says more about the neighbours than about the loop.
  const cpuRates: number[][] = [[], [], []];
  let cpuSlot = 0;
  const rate = (fn: () => void) => {
    const t = performance.now();
    const c = process.cpuUsage();
    fn();
    const used = process.cpuUsage(c);
    cpuRates[cpuSlot++ % 3]!.push(foldEvents.length / ((used.user + used.system) / 1e6));
    return foldEvents.length / ((performance.now() - t) / 1000);
  };
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // All four side by side as `foldStore` (and so `projections verify`) folds them: one fold that
  // looks each event's stream up once for the four projections (or for those given).
  const foldAll = (typed: ReturnType<typeof fromStored>[], projections = defaultProjections()) => {
    const all = multiFold(projections);
    for (const incoming of typed) all.apply(incoming);
    return all.folds;
  };
  let typed = foldEvents.map(fromStored);
  foldAll(typed); // warm-up
  const parseRates: number[] = [];
  const foldRates: number[] = [];
  const bothRates: number[] = [];
  for (let r = 0; r < 5; r++) {
    parseRates.push(rate(() => (typed = foldEvents.map(fromStored))));
    foldRates.push(rate(() => foldAll(typed)));
    bothRates.push(rate(() => foldAll(foldEvents.map(fromStored))));
  }
  const nFolds = defaultProjections().length;
  rows.push(rateRow(`fold ${foldEvents.length} typed events into all ${nFolds} projections in memory, median of 5 (vs parsing alone)`, 'events/s', median(foldRates), median(parseRates)));
  rows.push(rateRow(`parse once at the boundary + fold into all ${nFolds} projections, median of 5 (vs parsing alone)`, 'events/s', median(bothRates), median(parseRates)));
  const [parseCpu, foldCpu, bothCpu] = cpuRates as [number[], number[], number[]];
  rows.push(rateRow(`fold ${foldEvents.length} typed events into all ${nFolds} projections in memory, per CPU second, median of 5 (vs parsing alone)`, 'events/cpu-s', median(foldCpu), median(parseCpu)));
  rows.push(rateRow(`parse once at the boundary + fold into all ${nFolds} projections, per CPU second, median of 5 (vs parsing alone)`, 'events/cpu-s', median(bothCpu), median(parseCpu)));
  // The same fold, then every document handed out (`docs` of each projection, as `projections
  // verify` and a rebuild's waves read them). Work a fold leaves for the hand-out (a field
  // derived when a document is handed out rather than per event) counts here, not in the first row.
  const handedOut: number[] = [];
  for (let r = 0; r < 5; r++) {
    const c = process.cpuUsage();
    let docs = 0;
    for (const f of foldAll(typed)) docs += f.docs.size;
    const used = process.cpuUsage(c);
    if (docs === 0) throw new Error('the fold handed out no documents');
    handedOut.push(foldEvents.length / ((used.user + used.system) / 1e6));
  }
  rows.push(rateRow(`fold ${foldEvents.length} typed events into all ${nFolds} projections and hand out every document, per CPU second, median of 5 (vs parsing alone)`, 'events/cpu-s', median(handedOut), median(parseCpu)));
  // Each projection folded alone (the same typed events; events of streams it does not follow
  // count as folded): which one the four-at-once rate above waits on.
  for (const projection of defaultProjections()) {
    const alone: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      foldAll(typed, [projection]);
      alone.push(foldEvents.length / ((performance.now() - t) / 1000));
    }
    rows.push(rateRow(`  "${projection.name}" folded alone, median of 5 (vs parsing alone)`, 'events/s', median(alone), median(parseRates)));
  }
  // The fold's own work, per CPU second: the same four projections with their states left out
  // (every document is the number 1, `evolve` returns it), so what remains is the stream lookup,
  // the versions, `keysOf` and finding or adding each document. The four-at-once rate per CPU
  // second above cannot pass it by making the projections' `evolve` cheaper.
  const statesLeftOut = defaultProjections().map((p): AnyProjection => ({ ...p, owned: undefined, initialState: () => 1, evolve: (s: unknown) => s }));
  const machinery: number[] = [];
  for (let r = 0; r < 5; r++) {
    const c = process.cpuUsage();
    foldAll(typed, statesLeftOut);
    const used = process.cpuUsage(c);
    machinery.push(foldEvents.length / ((used.user + used.system) / 1e6));
  }
  rows.push(rateRow(`  the fold without states (streams, keys, document lookups) for all ${nFolds}, per CPU second, median of 5 (vs parsing alone)`, 'events/cpu-s', median(machinery), median(parseCpu)));

  // 2. a store of STORE_EVENTS events on DynamoDB Local
  const client = dynamoClient(await dynamo());
  const eventsTable = `bench-proj-events-${newId()}`;
  const viewsTable = `bench-proj-views-${newId()}`;
  await Promise.all([createEventStoreTable(client, eventsTable), createViewsTable(client, viewsTable)]);
  const store = dynamoEventStore({ client, tableName: eventsTable, types: eventTypes });
  const { events, deployments } = history(STORE_EVENTS, 100_000);
  const fillRate = await fill(client, eventsTable, events);
  rows.push(rateRow(`fill the store with ${events.length} events (BatchWriteItem, ${WRITERS} writers)`, 'events/s', fillRate));

  // 3. rebuild rate vs a bare read of the same store in global order. Each is also measured in
  // CPU seconds of both processes, Node (this one) and DynamoDB Local, against what the machine's
  // cores can give in its wall time: on this 2-core machine the read alone nearly fills them.
  const cores = availableParallelism();
  const cpuNow = async () => {
    const own = process.cpuUsage();
    return (own.user + own.system) / 1e6 + (await dynamoCpuSeconds());
  };
  let read = 0;
  const readCpu0 = await cpuNow();
  const t0 = performance.now();
  for await (const _ of store.iterateAll({ pageSize: 1000 })) read++;
  const readSeconds = (performance.now() - t0) / 1000;
  const readCpu = (await cpuNow()) - readCpu0;
  const readRate = read / readSeconds;
  const views = dynamoViewStore({ client, tableName: viewsTable, writeConcurrency: 16 });
  // The store is quiet, so the settle window (events re-checked after the bulk load) can be short.
  // Its CPU until it serves (the old generation is dropped after that, outside its time).
  const rebuildCpu0 = await cpuNow();
  let served: Promise<number> | undefined;
  const rebuilt = await rebuildProjection({
    store, views, projection: deploymentsProjection, registryTtlMs: 0, settleMs: 200,
    onProgress: (step) => {
      if (step.endsWith(' serves')) served = cpuNow();
    },
  });
  if (!served) throw new Error('the rebuild never said it serves');
  const rebuildCpu = (await served) - rebuildCpu0;
  rows.push(rateRow(`rebuild "deployments" from ${rebuilt.events} events until it serves (vs iterateAll alone)`, 'events/s', rebuilt.events / rebuilt.seconds, readRate));
  rows.push(rateRow(`  same, documents written per second (${rebuilt.docs} documents)`, 'docs/s', rebuilt.docs / rebuilt.seconds));
  // Where the rebuild's time went (issue 15: rebuild ≥ 0.8× the raw read rate, the row above). The
  // documents are written in waves while the store is read; what changed after the last wave is
  // written once the read is done (its own phase).
  const { foldSeconds, writeSeconds, restSeconds } = rebuilt.phases;
  rows.push(rateRow(`  of which reading + folding the store while waves write documents, per second of that phase (vs iterateAll alone)`, 'events/s', rebuilt.events / foldSeconds, readRate));
  rows.push(rateRow('  of which the write after the read: the last wave and what changed after it (BatchWriteItem)', 's', writeSeconds));
  rows.push(rateRow(`  document writes in all (${rebuilt.docs} documents, and again each one that changed after a wave wrote it)`, 'writes', rebuilt.docWrites));
  rows.push(rateRow('  of which registry steps, runner wait and catch-up', 's', restSeconds));
  // What bounds it: the CPU both processes spend on the read alone, on the rebuild, and on
  // writing the rebuild's documents alone (the same documents, folded in memory from the same
  // events, in one bulkPut at the rebuild's write concurrency into a namespace nobody reads).
  rows.push(rateRow(`  CPU of the read alone (iterateAll), Node + DynamoDB Local, seconds (vs ${cores} cores × its wall time)`, 'cpu-s', readCpu, cores * readSeconds));
  rows.push(rateRow(`  CPU of the rebuild until it serves, Node + DynamoDB Local, seconds (vs ${cores} cores × that time)`, 'cpu-s', rebuildCpu, cores * rebuilt.seconds));
  const alone = memoryFold(deploymentsProjection);
  for (const e of events) alone.apply(fromStored(e));
  const docs = [...alone.docs.values()].map((d) => bulkDocOf(deploymentsProjection, d));
  if (docs.length !== rebuilt.docs) throw new Error(`the fold in memory made ${docs.length} documents, the rebuild ${rebuilt.docs}`);
  const writeCpu0 = await cpuNow();
  const tw = performance.now();
  await views.bulkPut(namespaceOf(deploymentsProjection.name, 'bench-writes-alone'), docs, new Map());
  const writeAloneSeconds = (performance.now() - tw) / 1000;
  const writeCpu = (await cpuNow()) - writeCpu0;
  rows.push(rateRow(`  the rebuild's ${docs.length} documents written alone (one bulkPut, no read), seconds (vs iterateAll alone)`, 's', writeAloneSeconds, readSeconds));
  rows.push(rateRow(`  CPU of those writes alone, Node + DynamoDB Local, seconds (vs ${cores} cores × their wall time)`, 'cpu-s', writeCpu, cores * writeAloneSeconds));

  // 4. replaying one deployment from that store vs the bare query
  const r = seeded(7);
  const ids = Array.from({ length: REPLAYS }, () => r.pick(deployments));
  for (const id of ids.slice(0, 20)) await replayDeployment(store, id);
  // Interleaved, so both see the same warm-up and the same neighbours.
  const base: number[] = [];
  const replays: number[] = [];
  const at: number[] = [];
  for (const id of ids) {
    base.push(...(await sample(1, () => store.readDeployment(id))));
    replays.push(...(await sample(1, () => replayDeployment(store, id))));
    at.push(...(await sample(1, () => replayDeployment(store, id, { at: { event: 3 } }))));
  }
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  rows.push(latencyRow(`replay one deployment from a store of ${events.length} events (vs readDeployment)`, sorted(replays), sorted(base)));
  rows.push(latencyRow('replay one deployment --at its 3rd event (vs readDeployment)', sorted(at), base));

  client.destroy();
  return rows;
};
