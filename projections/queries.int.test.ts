import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEventBridgeEvent } from '../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../events/store/index.ts';
import { eventTypes } from '../events/upcasters.ts';
import { testDynamoClient, uniqueTableName } from '../test/support/dynamo.ts';
import { readModels, type ReadModels } from './queries.ts';
import { makeProjectionHandler } from './runner.ts';
import { dynamoViewStore } from './store/dynamo-view-store.ts';
import { createViewsTable } from './store/table.ts';
import { appendAsStored, scenario, type Scenario } from '../test/support/scenario-events.ts';
import { localUrls } from './urls.ts';

const client = testDynamoClient();
afterAll(() => client.destroy());
const ship = (s: Scenario, d: string, n: number) => { s.requested(d, { n }); s.queued(d); s.started(d); s.succeeded(d); s.assets(d); s.published(d); s.live(d); };

describe('read models (DynamoDB Local)', () => {
  let models: ReadModels;
  let empty: ReadModels;
  beforeAll(async () => {
    const events = uniqueTableName(import.meta.url, 'events');
    const views = uniqueTableName(import.meta.url, 'views');
    const unused = uniqueTableName(import.meta.url, 'unused');
    await Promise.all([createEventStoreTable(client, events), createViewsTable(client, views), createViewsTable(client, unused)]);
    const store = dynamoEventStore({ client, tableName: events, types: eventTypes });
    const viewStore = dynamoViewStore({ client, tableName: views });
    const handle = makeProjectionHandler({ store, views: viewStore });
    for (const p of ['alpha', 'beta']) {
      const s = scenario(p, p === 'alpha' ? '2026-11-20T10:00:00.000Z' : '2026-11-20T12:00:00.000Z');
      s.created();
      s.envSet('API_KEY', 'production', 1);
      s.domainAdded(`www.${p}.example.com`);
      for (let i = 1; i <= 5; i++) ship(s, `${p}-d${i}`, i);
      s.requested(`${p}-d6`, { n: 6 }); s.queued(`${p}-d6`); s.started(`${p}-d6`); s.failed(`${p}-d6`);
      for (const e of s.events) {
        const [stored] = await appendAsStored(store, [e]);
        await handle(toEventBridgeEvent(stored!, 'shiplog.test'));
      }
    }
    models = readModels({ views: viewStore, urls: localUrls(4001), now: () => Date.parse('2026-11-21T00:00:00.000Z') });
    empty = readModels({ views: dynamoViewStore({ client, tableName: unused }), urls: localUrls(4001) });
  });

  it('lists projects with their production URL and live deployment', async () => {
    expect(await models.listProjects()).toEqual([
      expect.objectContaining({ projectId: 'alpha', productionUrl: 'http://alpha.localhost:4001', liveDeploymentId: 'alpha-d5', liveUrl: 'http://alpha-d5-alpha.localhost:4001' }),
      expect.objectContaining({ projectId: 'beta', liveDeploymentId: 'beta-d5' }),
    ]);
    expect(await models.getProject('nope')).toBeUndefined();
  });

  it("pages a project's deployments newest first", async () => {
    const first = await models.listDeployments('alpha', { limit: 4 });
    expect(first.items.map((d) => [d.deploymentId, d.status])).toEqual([['alpha-d6', 'error'], ['alpha-d5', 'ready'], ['alpha-d4', 'ready'], ['alpha-d3', 'ready']]);
    expect(first.items[1]).toMatchObject({ url: 'http://alpha-d5-alpha.localhost:4001', target: 'production', branch: 'main', trigger: 'push', commit: { message: 'Commit 5' } });
    const second = await models.listDeployments('alpha', { limit: 4, cursor: first.cursor });
    expect(second.items.map((d) => d.deploymentId)).toEqual(['alpha-d2', 'alpha-d1']);
  });

  it('gives a deployment with its timeline and causation, its builds, env vars and domains', async () => {
    const d = await models.getDeployment('alpha-d6');
    expect(d).toMatchObject({ status: 'error', error: { stage: 'build', logTail: ['Type error: x'] }, url: 'http://alpha-d6-alpha.localhost:4001' });
    expect(d!.timeline[1]).toMatchObject({ type: 'BuildQueued', causedBy: { type: 'DeploymentRequested' } });
    expect(await models.listBuilds('alpha-d6')).toEqual([expect.objectContaining({ buildId: 'alpha-d6-b1', status: 'failed', logUri: 'file:///logs/alpha-d6-b1.log' })]);
    expect((await models.listProjectBuilds('alpha', { limit: 2 })).items.map((b) => b.buildId)).toEqual(['alpha-d6-b1', 'alpha-d5-b1']);
    expect(await models.listEnvVars('beta')).toEqual([expect.objectContaining({ name: 'API_KEY', version: 1 })]);
    expect(await models.listDomains('beta')).toEqual([expect.objectContaining({ host: 'www.beta.example.com', status: 'pending' })]);
  });

  it('gives the activity feed, per project and across projects, newest first', async () => {
    const alpha = await models.activity({ projectId: 'alpha' });
    expect(alpha.items.map((a) => a.type)).toEqual(['DomainAdded', 'EnvVarSet', 'ProjectCreated']);
    const all = await models.activity({ limit: 4 });
    expect(all.items.map((a) => `${a.projectId}:${a.type}`)).toEqual(['beta:DomainAdded', 'beta:EnvVarSet', 'beta:ProjectCreated', 'alpha:DomainAdded']);
  });

  it('computes delivery metrics over a window', async () => {
    const m = await models.deliveryMetrics('alpha', { days: 7 });
    expect(m).toMatchObject({ deployments: 5, failedDeployments: 0, changeFailureRate: 0, leadTime: { samples: 5 } });
    expect(m.deploymentFrequency.perWeek).toBeCloseTo(5);
  });

  it('answers with nothing before any projection ran', async () => {
    expect(await empty.listProjects()).toEqual([]);
    expect(await empty.listDeployments('alpha')).toEqual({ items: [], cursor: null });
    expect(await empty.getDeployment('alpha-d1')).toBeUndefined();
  });
});
