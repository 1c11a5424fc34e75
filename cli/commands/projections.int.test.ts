import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { toEventBridgeEvent, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { deploymentKeys } from '../../projections/deployments.ts';
import { makeProjectionHandler } from '../../projections/runner.ts';
import { dynamoViewStore } from '../../projections/store/dynamo-view-store.ts';
import { namespaceOf, type ViewStore } from '../../projections/store/ports.ts';
import { createViewsTable } from '../../projections/store/table.ts';
import { fakeRuntime, runCommand } from '../../test/support/local-projections.ts';
import { appendAsStored, scenario } from '../../test/support/scenario-events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { projectionsCommand } from './projections.ts';

const client = testDynamoClient();
let rt: ReturnType<typeof fakeRuntime>;
let store: EventStore;
let views: ViewStore;
const s = scenario('pcli');
const appendAll = (from: number): Promise<StoredEvent[]> =>
  appendAsStored(store, s.events.slice(from));

beforeAll(async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  const viewsTable = uniqueTableName(import.meta.url, 'views');
  await Promise.all([createEventStoreTable(client, events), createViewsTable(client, viewsTable)]);
  store = dynamoEventStore({ client, tableName: events, types: eventTypes });
  views = dynamoViewStore({ client, tableName: viewsTable });
  s.created();
  s.requested('d1'); s.queued('d1'); s.started('d1'); s.succeeded('d1'); s.assets('d1'); s.published('d1'); s.live('d1');
  const handle = makeProjectionHandler({ store, views });
  for (const e of await appendAll(0)) await handle(toEventBridgeEvent(e, 'shiplog.test'));
  rt = fakeRuntime({ dynamoEndpoint: inject('dynamoEndpoint'), tables: { events, views: viewsTable } });
});
afterAll(() => {
  rt.remove();
  client.destroy();
});

describe('shiplog projections', () => {
  it('status: every projection up to date, then the lag of events not applied', async () => {
    const up = JSON.parse(await rt.use(() => runCommand(projectionsCommand(), ['status', '--json'])));
    expect(up.map((p: { name: string; behind: number; generation: string }) => [p.name, p.behind, p.generation])).toEqual([
      ['projects', 0, 'g1'], ['deployments', 0, 'g1'], ['activity', 0, 'g1'], ['delivery', 0, 'g1'],
    ]);
    const before = s.events.length;
    s.requested('d2', { n: 2 });
    await appendAll(before);
    const text = await rt.use(() => runCommand(projectionsCommand(), ['status']));
    expect(text).toMatch(/^projection\s+serving\s+behind\s+lag\s+checkpoint\s+state/);
    expect(text).toMatch(/\ndeployments\s+g1 \(v1\)\s+1\s+\S+ m?s\s+\S+\s+catching up/);
  });

  it('rebuild: a new generation per projection, the old one dropped', async () => {
    const out = JSON.parse(await rt.use(() => runCommand(projectionsCommand(), ['rebuild', 'deployments', '--json'])));
    expect(out).toEqual([expect.objectContaining({ name: 'deployments', generation: 'g2', previous: 'g1', events: 10 })]);
    expect(await views.get(namespaceOf('deployments', 'g2'), deploymentKeys.deployment('d2'))).toMatchObject({ status: 'queued' });
    await expect(rt.use(() => runCommand(projectionsCommand(), ['rebuild', 'nope']))).rejects.toThrow('no projection named "nope" (there are: projects, deployments, activity, delivery)');
  });

  it('verify: passes on a faithful read model, exits with an error naming the differences otherwise', async () => {
    await expect(rt.use(() => runCommand(projectionsCommand(), ['verify', 'deployments']))).resolves.toMatch(/deployments \(g2\): \d+ documents from 10 events, no differences/);
    const key = deploymentKeys.deployment('d1');
    const doc = (await views.get(namespaceOf('deployments', 'g2'), key)) as object;
    await views.bulkPut(namespaceOf('deployments', 'g2'), [{ key, state: { ...doc, branch: 'tampered' } }], new Map());
    await expect(rt.use(() => runCommand(projectionsCommand(), ['verify', 'deployments']))).rejects.toThrow('verify: deployments has 1 difference(s) from a rebuild of the store');
  });

  it('says when shiplog is not running', async () => {
    const none = fakeRuntime({ dynamoEndpoint: 'http://127.0.0.1:9', tables: {} });
    none.remove();
    await expect(none.use(() => runCommand(projectionsCommand(), ['status']))).rejects.toThrow('shiplog is not running here (start it with `npm start`)');
  });
});
