import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, eventTypes, toEventBridgeEvent, type EventType, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { newId } from '../../test/support/events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { appendAsStored, scenario } from '../../test/support/scenario-events.ts';
import type { SiteHost } from './ports.ts';
import { deployService, keyedLock } from './service.ts';

// DeployOnMountsChanged on DynamoDB Local, with a site host that records what it is told to route
// (the port; the AWS one writes the sites' KeyValueStore, see test/support/sites-edge.ts).

let store: EventStore;
const routed: { projectId: string; mounts: readonly { prefix: string; project: string }[] }[] = [];
const host = (withRouting: boolean): SiteHost => ({
  publish: async () => ({ assets: 0, functionVersion: '1' }),
  shiftAlias: async () => undefined,
  aliasTarget: async () => undefined,
  urls: () => ({ deployment: '', production: '' }),
  ...(withRouting ? { routeMounts: async (projectId: string, mounts: readonly { prefix: string; project: string }[]) => void routed.push({ projectId, mounts }) } : {}),
});
const service = (withRouting = true) => deployService({ store, host: host(withRouting), ids: newId, now: () => new Date().toISOString(), withLock: keyedLock() });
const deliver = (e: StoredEvent, withRouting = true) => service(withRouting).onMountsChanged(toEventBridgeEvent(e, catalog[e.type as EventType].source));

const append = (events: StoredEvent[]) => appendAsStored(store, events);

beforeAll(async () => {
  const client = testDynamoClient();
  const tableName = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, tableName);
  store = dynamoEventStore({ client, tableName, types: eventTypes });
});

describe('DeployOnMountsChanged', () => {
  it('routes the mounts the project stream holds now, even when an older change arrives last', async () => {
    const s = scenario('home');
    const docs = { prefix: '/docs', project: 'docs' };
    const blog = { prefix: '/blog', project: 'blog' };
    const events = [s.created(), s.mountsChanged([docs], 'add', docs), s.mountsChanged([blog, docs], 'add', blog), s.mountsChanged([blog], 'remove', docs)];
    await append(events);
    const stored = await store.readStream(events[0]!.metadata.streamId);
    const changes = stored.filter((e) => e.type === 'ProjectMountsChanged');
    // Delivered out of order: the first change last.
    for (const e of [changes[2]!, changes[1]!, changes[0]!]) await deliver(e);
    expect(routed).toEqual([0, 1, 2].map(() => ({ projectId: 'home', mounts: [blog] })));
  });

  it('does nothing on a host whose router reads the projects read model', async () => {
    const s = scenario('other');
    const docs = { prefix: '/docs', project: 'docs' };
    const events = [s.created(), s.mountsChanged([docs], 'add', docs)];
    await append(events);
    routed.length = 0;
    await deliver((await store.readStream(events[0]!.metadata.streamId)).at(-1)!, false);
    expect(routed).toEqual([]);
  });
});
