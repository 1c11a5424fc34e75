import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/index.ts';
import { dynamoViewStore, localUrls, type Urls } from '../../projections/index.ts';
import type { ViewStore } from '../../projections/index.ts';
import { localConfig, localTables } from './config.ts';
import { dynamoClient } from './dynamodb-local.ts';
import { readRuntimeFile, type RuntimeFile } from './runtime-file.ts';

/** The message every command gives when no local instance runs. */
export const NOT_RUNNING = 'shiplog is not running here (start it with `npm start`)';

/**
 * The running local instance as the store-reading commands use it: its event store, views and
 * URLs, straight on its DynamoDB Local. `close()` releases the client.
 *
 * @example
 * const local = connectLocal();
 * try { await replayDeployment(local.store, id); } finally { local.close(); }
 */
export interface LocalConnection {
  runtime: RuntimeFile;
  client: DynamoDBClient;
  store: EventStore;
  views: ViewStore;
  urls: Urls;
  close(): void;
}

const portOf = (url: string | null): number | undefined => {
  if (!url) return undefined;
  const port = Number(new URL(url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
};

export const connectLocal = (dataDir = localConfig().dataDir): LocalConnection => {
  const runtime = readRuntimeFile(dataDir);
  if (!runtime) throw new Error(NOT_RUNNING);
  const client = dynamoClient(runtime.dynamoEndpoint);
  return {
    runtime,
    client,
    store: dynamoEventStore({ client, tableName: runtime.tables.events ?? localTables.events, types: eventTypes }),
    views: dynamoViewStore({ client, tableName: runtime.tables.views ?? localTables.views }),
    urls: localUrls(portOf(runtime.sitesUrl) ?? localConfig().sitesPort),
    close: () => client.destroy(),
  };
};

/**
 * Runs `fn` with a connection to the local instance and closes it after.
 *
 * @example
 * await withLocal(async ({ store }) => print(await store.getEvent(id)));
 */
export const withLocal = async <T>(fn: (local: LocalConnection) => Promise<T>): Promise<T> => {
  const local = connectLocal();
  try {
    return await fn(local);
  } finally {
    local.close();
  }
};
