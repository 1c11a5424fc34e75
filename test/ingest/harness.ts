import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createEventStoreTable, dynamoEventStore, eventTypes, type EventStore, type StoredEvent } from '../../events/index.ts';
import { ingestApi, platformApi, type PlatformApiDeps } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import type { GitRemoteOptions } from '../../infra/http/routes/git.ts';
import { localIngestDeps } from '../../infra/local/ingest.ts';
import { ingestCommands, type Ingest, type IngestDeps } from '../../services/ingest/index.ts';
import { testApiAuth, type TestApiAuth } from '../support/api-auth.ts';
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
  /** Told of each valid rollback or promote request before it is appended (the deploy service, locally). */
  expectRelease?: PlatformApiDeps['expectRelease'];
  webhookMaxBytes?: number;
  apiMaxBytes?: number;
}

const ingestApp = ({ webhookMaxBytes, apiMaxBytes, expectRelease, ...deps }: IngestRouteDeps, auth: TestApiAuth) =>
  platformApi({
    ingest: ingestApi(deps),
    expectRelease,
    guard: auth.guard,
    limits: { ...(webhookMaxBytes ? { webhookBytes: webhookMaxBytes } : {}), ...(apiMaxBytes ? { jsonBytes: apiMaxBytes } : {}) },
  });

export interface IngestHarness {
  url: string;
  client: DynamoDBClient;
  store: EventStore;
  ingest: Ingest;
  deps: IngestRouteDeps;
  /** The API's tokens; `call` sends the admin token. */
  auth: TestApiAuth;
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
  const auth = await testApiAuth(client, fileUrl);
  const server = createServer();
  const url = await listen(server);
  tokenOf.set(url, auth.token);
  const deps: IngestRouteDeps = { ...(await localIngestDeps({ client, store, dataDir, publicUrl: url, secretsTable })), ...over };
  server.on('request', nodeListener(ingestApp(deps, auth)));
  const extra: Server[] = [];
  return {
    url, client, store, deps, auth, dataDir, eventsTable, secretsTable,
    ingest: ingestCommands(deps),
    allEvents: async () => (await store.readAll({ limit: 10_000 })).events,
    rawTable: async (tableName) => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName }))).Items ?? []),
    serve: async (changes) => {
      const s = createServer(nodeListener(ingestApp({ ...deps, ...changes }, auth)));
      extra.push(s);
      const extraUrl = await listen(s);
      tokenOf.set(extraUrl, auth.token);
      return { url: extraUrl, close: () => close(s) };
    },
    stop: async () => {
      await Promise.all([server, ...extra].map((s) => (s.listening ? close(s) : undefined)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

// The admin token of each server a harness started: `call` authenticates as the CLI does.
const tokenOf = new Map<string, string>();

/** A parsed JSON answer, loose on purpose: tests assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/**
 * Sends a JSON request, with the admin token of the harness that serves `base`, and returns
 * status and parsed body.
 *
 * @example
 * const { status, body } = await call(h.url, 'POST', '/api/projects', { name: 'web' });
 */
export const call = async (base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
  const token = tokenOf.get(base);
  const res = await fetch(`${base}${path}`, {
    method,
    // A write names its body JSON even when it sends none (the API takes only JSON writes).
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined && !['POST', 'PUT', 'PATCH'].includes(method) ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};
