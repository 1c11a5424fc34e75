import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalog, type EventType } from '../../events/catalog.ts';
import { toEventBridgeEvent, type StoredEvent } from '../../events/envelope.ts';
import { createEventStoreTable, dynamoEventStore, eventTypes, type EventStore } from '../../events/index.ts';
import { platformApi } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import { subscriptions } from '../../infra/topology.ts';
import { domainCommands, domainsService, localCertificateAuthority } from '../../services/domains/index.ts';
import { localIngestDeps } from '../../infra/local/ingest.ts';
import { ingestCommands } from '../../services/ingest/index.ts';
import { testApiAuth } from '../support/api-auth.ts';
import { newId } from '../support/events.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

/**
 * The domains service on the run's DynamoDB Local: its HTTP routes on a free port, its handlers
 * behind a hand-cranked bus (`deliver` runs every subscriber of the topology until nothing new
 * is appended), and a local CA in a temporary data dir.
 *
 * @example
 * const h = await startDomains(import.meta.url);
 * await h.call('POST', '/api/projects/web/domains', { host: 'www.example.com' });
 * await h.deliver();
 */
export const startDomains = async (fileUrl: string) => {
  const client = testDynamoClient();
  const eventsTable = uniqueTableName(fileUrl, 'events');
  await createEventStoreTable(client, eventsTable);
  const store: EventStore = dynamoEventStore({ client, tableName: eventsTable, types: eventTypes });
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-domains-'));
  const ids = newId;
  const now = () => new Date().toISOString();
  const ingest = ingestCommands(await localIngestDeps({ client, store, dataDir, publicUrl: 'http://127.0.0.1:1', secretsTable: uniqueTableName(fileUrl, 'secrets') }));
  const ca = localCertificateAuthority({ dir: join(dataDir, 'ca') });
  const service = domainsService({ store, ca, ids, now, routingRecord: ({ host }) => ({ purpose: 'routing', name: host, type: 'A', value: '127.0.0.1' }) });
  const handlers: Record<string, (e: unknown) => Promise<void>> = {
    DomainsOnDomainAdded: service.onDomainAdded,
    DomainsOnValidationPending: service.onValidationPending,
    DomainsOnDomainRemoved: service.onDomainRemoved,
  };
  const auth = await testApiAuth(client, fileUrl);
  const server: Server = createServer(nodeListener(platformApi({ domains: domainCommands({ store, ids, now }), guard: auth.guard })));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const delivered = new Set<string>();
  const subscribersOf = (type: string) =>
    subscriptions.filter((s) => (s.pattern['detail-type'] as string[] | undefined)?.includes(type) && handlers[s.name]).map((s) => handlers[s.name]!);

  return {
    store, ca, ingest, url, dataDir, service, auth,
    /** Delivers every new event to its topology subscribers, again and again until none is new. */
    deliver: async (only?: (e: StoredEvent) => boolean): Promise<StoredEvent[]> => {
      const seen: StoredEvent[] = [];
      for (;;) {
        const fresh = (await store.readAll({ limit: 10_000 })).events.filter((e) => !delivered.has(e.metadata.eventId) && (!only || only(e)));
        if (fresh.length === 0) return seen;
        for (const e of fresh) {
          delivered.add(e.metadata.eventId);
          seen.push(e);
          for (const handle of subscribersOf(e.type)) await handle(toEventBridgeEvent(e, catalog[e.type as EventType].source));
        }
      }
    },
    call: async (method: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, { method, headers: { ...auth.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
    },
    stop: async () => {
      await new Promise<void>((ok) => server.close(() => ok()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
export type DomainsHarness = Awaited<ReturnType<typeof startDomains>>;
