import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventStoreTable, dynamoEventStore, eventTypes } from '../../events/index.ts';
import { platformApi, routeTable } from '../../infra/http/app.ts';
import { localServices } from '../../infra/local/services.ts';
import { subscriptions } from '../../infra/topology.ts';
import type { LogStore } from '../../services/build/log-store.ts';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { newId } from '../support/events.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-domains-wiring-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('local composition root', () => {
  it('runs every domains subscription, serves the domain routes and resolves custom hosts', async () => {
    const client = testDynamoClient();
    const tableName = uniqueTableName(import.meta.url, 'events');
    await createEventStoreTable(client, tableName);
    const store = dynamoEventStore({ client, tableName, types: eventTypes });
    const services = await localServices({
      cfg: { dataDir, port: 0, sitesPort: 0 }, client, store, ids: newId, now: () => new Date().toISOString(),
      logs: {} as LogStore, host: localSiteHost({ dataDir, port: 0 }), apiUrl: 'http://127.0.0.1:1', buildTimeoutMs: 60_000,
      idempotency: { client, tableName: uniqueTableName(import.meta.url, 'idempotency') }, log: () => undefined,
    });
    const domainSubs = subscriptions.filter((s) => s.handler.startsWith('infra/aws/functions/domains.'));
    expect(domainSubs.map((s) => s.name)).toEqual(['DomainsOnDomainAdded', 'DomainsOnValidationPending', 'DomainsOnDomainRemoved']);
    for (const s of domainSubs) expect(typeof services.handlers[s.name], s.name).toBe('function');
    const routes = routeTable(platformApi({ ...services.api, guard: { verify: async () => undefined } })).filter((r) => r.path === '/api/projects/:project/domains' || r.path === '/api/projects/:project/domains/:host');
    expect(routes.map((r) => r.method).sort()).toEqual(['DELETE', 'GET', 'POST']);
    expect(await services.resolveHost('www.example.com')).toBeUndefined();
  });
});
