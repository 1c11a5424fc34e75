import {
  ConditionalCheckFailedException, GetItemCommand, PutItemCommand, QueryCommand,
  UpdateItemCommand, type CreateTableCommandInput, type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { EnvVarRef, Target } from '../../../../events/index.ts';
import { createTableIfMissing, pkSkTableDefinition } from '../../../../events/index.ts';
import { SecretMissingError } from '../../errors.ts';
import { secretScope, type SecretStore, type SecretValue } from '../../ports.ts';
import { open, seal, type Sealed } from './secret-key.ts';

/**
 * The secrets table: `pk` = scope; `sk` = `v#<name>#<version>` for each sealed version and
 * `cur#<name>` for the pointer to the current version (with `removed` after a removal).
 *
 * @example
 * await createSecretsTable(client, 'shiplog-secrets');
 */
export const secretsTableDefinition = (tableName: string): CreateTableCommandInput => pkSkTableDefinition(tableName);

/**
 * Creates the secrets table if it does not exist and waits until it is active.
 *
 * @example
 * await createSecretsTable(client, 'shiplog-secrets');
 */
export const createSecretsTable = (client: DynamoDBClient, tableName: string): Promise<void> =>
  createTableIfMissing(client, secretsTableDefinition(tableName));

const versionKey = (name: string, version: number): string => `v#${name}#${String(version).padStart(10, '0')}`;
const context = (scope: string, name: string, version: number): string => `shiplog-secret\0${scope}\0${name}\0${version}`;

/**
 * Where a secret store keeps its values, one per (scope, name, version); the pointers to the
 * current versions stay in the secrets table ({@link secretStoreOn}). A version is written once
 * (a rewrite of the same version overwrites it) and read by its exact version.
 *
 * @example
 * const vault: SecretVault = sealedInTable({ client, tableName, key });
 * await vault.write('env#web#production', 'API_KEY', 3, 's3cret');
 */
export interface SecretVault {
  write(scope: string, name: string, version: number, value: string): Promise<void>;
  read(scope: string, name: string, version: number): Promise<string | undefined>;
}

/**
 * The local vault: AES-256-GCM ciphertext in the secrets table itself (`v#<name>#<version>`); the
 * key stays in the data dir (`loadOrCreateSecretKey`).
 *
 * @example
 * const vault = sealedInTable({ client, tableName: 'shiplog-secrets', key: loadOrCreateSecretKey(dataDir) });
 */
export const sealedInTable = ({ client, tableName, key }: { client: DynamoDBClient; tableName: string; key: Buffer }): SecretVault => ({
  write: async (scope, name, version, value) => {
    const s = seal(key, value, context(scope, name, version));
    await client.send(new PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: scope }, sk: { S: versionKey(name, version) }, kid: { S: s.keyId }, iv: { B: s.iv }, ct: { B: s.ciphertext }, tag: { B: s.tag } },
    }));
  },
  read: async (scope, name, version) => {
    const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: scope }, sk: { S: versionKey(name, version) } }, ConsistentRead: true }))).Item;
    if (!item) return undefined;
    const sealed: Sealed = { keyId: item.kid!.S!, iv: item.iv!.B!, ciphertext: item.ct!.B!, tag: item.tag!.B! };
    return open(key, sealed, context(scope, name, version));
  },
});

/**
 * A secret store from a vault for the values and the secrets table for the current-version
 * pointers (`cur#<name>`, with `removed` after a removal). The pointer only moves forward, by a
 * conditional update, so a late write of an older version never becomes current.
 *
 * @example
 * const secrets = secretStoreOn({ client, tableName: 'shiplog-secrets', vault: sealedInTable({ client, tableName: 'shiplog-secrets', key }) });
 */
export const secretStoreOn = ({ client, tableName, vault }: { client: DynamoDBClient; tableName: string; vault: SecretVault }): SecretStore => {
  const readVersion = async (scope: string, name: string, version: number): Promise<SecretValue | undefined> => {
    const value = await vault.read(scope, name, version);
    return value === undefined ? undefined : { value, version };
  };

  const current = async (scope: string): Promise<{ name: string; version: number }[]> => {
    const res = await client.send(new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cur)',
      ExpressionAttributeValues: { ':pk': { S: scope }, ':cur': { S: 'cur#' } },
      ConsistentRead: true,
    }));
    return (res.Items ?? []).filter((i) => !i.removed?.BOOL).map((i) => ({ name: i.name!.S!, version: Number(i.version!.N) }));
  };

  const ignoreStale = async (p: Promise<unknown>): Promise<void> => {
    try {
      await p;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  };

  return {
    put: async (scope, name, version, value) => {
      await vault.write(scope, name, version, value);
      // The pointer only moves forward: a late write of an older version leaves it alone.
      await ignoreStale(client.send(new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: scope }, sk: { S: `cur#${name}` } },
        UpdateExpression: 'SET #n = :name, version = :v, removed = :f',
        ConditionExpression: 'attribute_not_exists(pk) OR version <= :v',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':name': { S: name }, ':v': { N: String(version) }, ':f': { BOOL: false } },
      })));
    },
    get: async (scope, name, version) => {
      if (version !== undefined) return readVersion(scope, name, version);
      const pointer = (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: scope }, sk: { S: `cur#${name}` } }, ConsistentRead: true }))).Item;
      if (!pointer || pointer.removed?.BOOL) return undefined;
      return readVersion(scope, name, Number(pointer.version!.N));
    },
    remove: (scope, name, version) =>
      ignoreStale(client.send(new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: scope }, sk: { S: `cur#${name}` } },
        UpdateExpression: 'SET removed = :t',
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': { N: String(version) }, ':t': { BOOL: true } },
      }))),
    resolveEnv: async (projectId: string, target: Target) => {
      const scope = secretScope.env(projectId, target);
      const refs = (await current(scope)).map((c) => ({ ...c, target }));
      return resolve(projectId, refs, readVersion);
    },
    resolveRefs: (projectId, refs) => resolve(projectId, refs, readVersion),
  };
};

/**
 * The secret store on DynamoDB (DynamoDB Local in the local runtime): AES-256-GCM ciphertext
 * only; the key stays in the data dir (`loadOrCreateSecretKey`).
 *
 * @example
 * const secrets = dynamoSecretStore({ client, tableName: 'shiplog-secrets', key: loadOrCreateSecretKey(dataDir) });
 */
export const dynamoSecretStore = ({ client, tableName, key }: { client: DynamoDBClient; tableName: string; key: Buffer }): SecretStore =>
  secretStoreOn({ client, tableName, vault: sealedInTable({ client, tableName, key }) });

const resolve = async (
  projectId: string,
  refs: readonly EnvVarRef[],
  read: (scope: string, name: string, version: number) => Promise<SecretValue | undefined>,
): Promise<Record<string, string>> => {
  const values = await Promise.all(refs.map((r) => read(secretScope.env(projectId, r.target), r.name, r.version)));
  const missing = refs.filter((_, i) => !values[i]).map((r) => `${r.target} ${r.name} v${r.version}`);
  if (missing.length > 0) throw new SecretMissingError(projectId, missing);
  return Object.fromEntries(refs.map((r, i) => [r.name, values[i]!.value]));
};
