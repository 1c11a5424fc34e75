import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { monotonicFactory } from 'ulid';
import type { EventStore } from '../../events/index.ts';
import type { IngestDeps } from '../../services/ingest/index.ts';
import { localGitRepos } from '../../services/ingest/adapters/git-repos/local.ts';
import { storeProjectFinder } from '../../services/ingest/adapters/project-finder/store.ts';
import { loadOrCreateSecretKey } from '../../services/ingest/adapters/secret-store/secret-key.ts';
import { createSecretsTable, dynamoSecretStore } from '../../services/ingest/adapters/secret-store/local.ts';

/**
 * The local runtime's secrets table.
 *
 * @example
 * await createSecretsTable(client, LOCAL_SECRETS_TABLE);
 */
export const LOCAL_SECRETS_TABLE = 'shiplog-secrets';

/**
 * Wires the ingest ports for the local runtime: secrets sealed with `<dataDir>/secrets.key` in a
 * DynamoDB Local table (created here), bare repositories under `<dataDir>/git`, the store-backed
 * project finder, ULIDs and the system clock. `git` is where the platform API's git remote serves from.
 *
 * @example
 * const deps = await localIngestDeps({ client, store, dataDir: cfg.dataDir, publicUrl: `http://localhost:${cfg.port}` });
 * platformApi({ ingest: ingestApi(deps) }); // infra/http/app.ts
 */
export const localIngestDeps = async (opts: {
  client: DynamoDBClient;
  store: EventStore;
  dataDir: string;
  publicUrl: string;
  secretsTable?: string;
}): Promise<IngestDeps & { git: { projectRoot: string } }> => {
  const tableName = opts.secretsTable ?? LOCAL_SECRETS_TABLE;
  await createSecretsTable(opts.client, tableName);
  const repos = localGitRepos({ root: join(opts.dataDir, 'git') });
  return {
    store: opts.store,
    secrets: dynamoSecretStore({ client: opts.client, tableName, key: loadOrCreateSecretKey(opts.dataDir) }),
    repos,
    finder: storeProjectFinder(opts.store),
    ids: monotonicFactory(),
    clock: () => new Date(),
    publicUrl: opts.publicUrl,
    git: { projectRoot: repos.root },
    // One `shiplog dev` owns its data dir: its API and git remote make the project streams' appends.
    soleProjectWriter: true,
  };
};
