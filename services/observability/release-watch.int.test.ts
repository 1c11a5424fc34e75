import { beforeAll, describe, expect, it } from 'vitest';
import { streams, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { appendAsStored, scenario, type Scenario } from '../../test/support/scenario-events.ts';
import { releaseWatch } from './release-watch.ts';

// What observability reads of a release stream (what is live, since when), kept between reads
// over DynamoDB Local: each read takes the tail, and sees what the deploy service appended.
const client = testDynamoClient();
let store: EventStore;
const reads: number[] = [];

beforeAll(async () => {
  const table = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, table);
  store = dynamoEventStore({ client, tableName: table, types: eventTypes });
});

const append = async (s: Scenario, streamId: string, from = 0): Promise<StoredEvent[]> =>
  appendAsStored(store, s.events.slice(from).filter((x) => x.metadata.streamId === streamId));
const ship = (s: Scenario, d: string, n: number) => { s.requested(d, { n }); s.assets(d); s.published(d); s.live(d); };

describe('release watch', () => {
  it('says what is live and since its latest alias shift, reading only what came after the last read', async () => {
    const p = `rw-${Date.now().toString(36)}`;
    const release = streams.release(p, 'production');
    const watch = releaseWatch({ readStream: (id, o) => store.readStream(id, o).then((got) => (reads.push(o?.fromVersion ?? 1), got)) });
    expect(await watch.production(p)).toMatchObject({ release: { live: null }, liveSince: null });
    const s = scenario(p);
    ship(s, `${p}-d1`, 1);
    ship(s, `${p}-d2`, 2);
    const stored = await append(s, release);
    const shiftTo = (d: string, events: StoredEvent[]) => events.findLast((e) => e.type === 'AliasShifted' && (e.data as { toDeploymentId: string }).toDeploymentId === d)!;
    reads.length = 0;
    expect(await watch.production(p)).toMatchObject({ release: { live: `${p}-d2` }, liveSince: shiftTo(`${p}-d2`, stored).metadata.occurredAt });
    const from = s.events.length;
    s.rolledBack(`${p}-d1`);
    const more = await append(s, release, from);
    expect(more.map((e) => e.type)).toEqual(['AliasShifted', 'RolledBack']);
    const after = await watch.production(p);
    expect(after).toMatchObject({ release: { live: `${p}-d1`, pinned: true }, liveSince: more[0]!.metadata.occurredAt });
    // The first read took the whole stream (from version 1), the second only its tail.
    expect(reads).toEqual([1, 9]);
  });
});
