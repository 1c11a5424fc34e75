import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { catalog, isKnownEventType, toEventBridgeEvent, type StoredEvent } from '../../../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { testDynamoClient, uniqueTableName } from '../../../test/support/dynamo.ts';
import { deploymentKeys } from '../../../projections/deployments.ts';
import { projectKeys } from '../../../projections/projects.ts';
import { dynamoViewStore } from '../../../projections/store/dynamo-view-store.ts';
import { namespaceOf, type ViewStore } from '../../../projections/store/ports.ts';
import { createViewsTable } from '../../../projections/store/table.ts';
import { appendAsStored, scenario } from '../../../test/support/scenario-events.ts';

const client = testDynamoClient();
let views: ViewStore;
const stored: StoredEvent[] = [];
afterAll(() => client.destroy());
beforeAll(async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  const viewsTable = uniqueTableName(import.meta.url, 'views');
  await Promise.all([createEventStoreTable(client, events), createViewsTable(client, viewsTable)]);
  // What the stack gives the function on AWS; here the SDK's endpoint variable points at DynamoDB Local.
  Object.assign(process.env, {
    SHIPLOG_EVENTS_TABLE: events, SHIPLOG_VIEWS_TABLE: viewsTable, AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  views = dynamoViewStore({ client, tableName: viewsTable });
  const store = dynamoEventStore({ client, tableName: events, types: {
    sourceOf: (t) => (isKnownEventType(t) ? catalog[t].source : 'shiplog.ingest'),
    schemaVersionOf: (t) => (isKnownEventType(t) ? catalog[t].schemaVersion : 1),
    upcast: (e) => e,
  } });
  const s = scenario('lam');
  s.created(); s.unknown(); s.envSet('A', 'production', 1); s.requested('d1'); s.queued('d1');
  stored.push(...(await appendAsStored(store, s.events)));
});

describe('infra/aws/functions/projections.handler', () => {
  it('folds events through the handler shell, moves past unknown types and takes replays', async () => {
    const { handler } = await import('./projections.ts');
    for (const e of stored.slice(0, 4)) await handler(toEventBridgeEvent(e, isKnownEventType(e.type) ? catalog[e.type].source : 'shiplog.ingest'));
    const replayed = toEventBridgeEvent(stored[4]!, 'shiplog.build');
    replayed.detail.metadata = { ...replayed.detail.metadata, replay: true };
    await handler(replayed);
    expect(await views.get(namespaceOf('projects', 'g1'), projectKeys.envVar('lam', 'production', 'A'))).toMatchObject({ version: 1 });
    expect(await views.get(namespaceOf('deployments', 'g1'), deploymentKeys.deployment('d1'))).toMatchObject({ status: 'queued', builds: [{ buildId: 'd1-b1' }] });
    await expect(handler({ nonsense: true })).rejects.toMatchObject({ retryable: false });
  });
});
