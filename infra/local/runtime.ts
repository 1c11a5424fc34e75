import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createEventStoreTable } from '../../events/store/index.ts';
import type { LocalConfig } from './config.ts';
import { localTables } from './config.ts';
import { dynamoClient, startDynamoLocal, type DynamoLocal } from './dynamodb-local.ts';
import { removeRuntimeFile, writeRuntimeFile } from './runtime-file.ts';

/**
 * The embedded runtime behind `shiplog dev`: DynamoDB Local on disk and the tables.
 *
 * @example
 * const rt = await startLocalRuntime(localConfig());
 * await rt.stop();
 */
export interface LocalRuntime {
  db: DynamoLocal;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export const startLocalRuntime = async (cfg: LocalConfig): Promise<LocalRuntime> => {
  // 1. the database
  const db = await startDynamoLocal({ dataDir: join(cfg.dataDir, 'dynamodb') });
  const client = dynamoClient(db.endpoint);
  // 2. the tables
  await createEventStoreTable(client, localTables.events);
  // 3. tell other commands where we are
  writeRuntimeFile(cfg.dataDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dynamoEndpoint: db.endpoint,
    apiUrl: null,
    sitesUrl: null,
    tables: { ...localTables },
  });
  let stopped = false;
  return {
    db,
    client,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      removeRuntimeFile(cfg.dataDir);
      client.destroy();
      await db.stop();
    },
  };
};
