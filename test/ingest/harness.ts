import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createEventStoreTable, dynamoEventStore, eventTypes, type EventStore, type StoredEvent } from '../../events/index.ts';
import { ingestApi, platformApi } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import type { GitRemoteOptions } from '../../infra/http/routes/git.ts';
import { ingestCommands, localIngestDeps, type Ingest, type IngestDeps } from '../../services/ingest/index.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';

/**
 * A running ingest API for integration tests: its own tables on the run's DynamoDB Local, its
 * own data dir, and an HTTP server on a free port serving the platform API with ingest's routes.
 *
 * @example
 * const h = await startIngest(import.meta.url);
 * await fetch(`${h.url}/api/projects`, { method: 'POST', body: JSON.stringify({ name: 'web' }) });
 */
/** Ingest's ports plus what its routes take: the git remote and the body limits. */
export interface IngestRouteDeps extends IngestDeps {
  git?: GitRemoteOptions;
  webhookMaxBytes?: number;
  apiMaxBytes?: number;
}

const ingestApp = ({ webhookMaxBytes, apiMaxBytes, ...deps }: IngestRouteDeps) =>
  platformApi({
    ingest: ingestApi(deps),
    limits: { ...(webhookMaxBytes ? { webhookBytes: webhookMaxBytes } : {}), ...(apiMaxBytes ? { jsonBytes: apiMaxBytes } : {}) },
  });

export interface IngestHarness {
  url: string;
  client: DynamoDBClient;
  store: EventStore;
  ingest: Ingest;
  deps: IngestRouteDeps;
  dataDir: string;
  eventsTable: string;
  secretsTable: string;
  /** Every event in the store, in commit order. */
  allEvents(): Promise<StoredEvent[]>;
  /** Every raw item of a table, as JSON text (what an attacker with table access sees). */
  rawTable(tableName: string): Promise<string>;
  /** Another server on the same ports and tables, with route options changed. */
  serve(over: Partial<IngestRouteDeps>): Promise<{ url: string; close(): Promise<void> }>;
  stop(): Promise<void>;
}

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

export const startIngest = async (fileUrl: string, over: Partial<IngestRouteDeps> = {}): Promise<IngestHarness> => {
  const client = testDynamoClient();
  const eventsTable = uniqueTableName(fileUrl, 'events');
  const secretsTable = uniqueTableName(fileUrl, 'secrets');
  await createEventStoreTable(client, eventsTable);
  const store = dynamoEventStore({ client, tableName: eventsTable, types: eventTypes });
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-ingest-'));
  const server = createServer();
  const url = await listen(server);
  const deps: IngestRouteDeps = { ...(await localIngestDeps({ client, store, dataDir, publicUrl: url, secretsTable })), ...over };
  server.on('request', nodeListener(ingestApp(deps)));
  const extra: Server[] = [];
  return {
    url, client, store, deps, dataDir, eventsTable, secretsTable,
    ingest: ingestCommands(deps),
    allEvents: async () => (await store.readAll({ limit: 10_000 })).events,
    rawTable: async (tableName) => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName }))).Items ?? []),
    serve: async (changes) => {
      const s = createServer(nodeListener(ingestApp({ ...deps, ...changes })));
      extra.push(s);
      return { url: await listen(s), close: () => close(s) };
    },
    stop: async () => {
      await Promise.all([server, ...extra].map((s) => (s.listening ? close(s) : undefined)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

/** A parsed JSON answer, loose on purpose: tests assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/**
 * Sends a JSON request and returns status and parsed body.
 *
 * @example
 * const { status, body } = await call(h.url, 'POST', '/api/projects', { name: 'web' });
 */
export const call = async (base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};
