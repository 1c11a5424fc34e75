import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSecretStore, createSecretsTable, SecretMissingError, secretParameterName, type SecretStore } from '../../services/ingest/index.ts';
import { parameterStoreRef } from '../../services/build/adapters/scheduler/aws.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../aws-box/moto.ts';

// The AWS secret store (services/ingest/adapters/secret-store/aws.ts) on moto's SSM and KMS and
// DynamoDB Local: values as SecureString parameters under the stack's key, pointers in the table.

let moto: Moto;
let ssm: SSMClient;
let secrets: SecretStore;
const prefix = 'shiplog-it';
const client = testDynamoClient();

beforeAll(async () => {
  moto = await startMoto();
  const aws = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  ssm = new SSMClient(aws);
  const kms = new KMSClient(aws);
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'secrets' }));
  await kms.send(new CreateAliasCommand({ AliasName: `alias/${prefix}-secrets`, TargetKeyId: KeyMetadata!.KeyId! }));
  const tableName = uniqueTableName(import.meta.url, 'secrets');
  await createSecretsTable(client, tableName);
  secrets = awsSecretStore({ client, tableName, ssm, prefix, keyId: `alias/${prefix}-secrets` });
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe('the secret store on AWS', () => {
  it('keeps each env var version as a SecureString under the stack key, at the path CodeBuild reads', async () => {
    await secrets.put('env#web#production', 'API_KEY', 1, 'first-value');
    await secrets.put('env#web#production', 'API_KEY', 2, 'second-value');
    const path = parameterStoreRef(prefix)('web', { name: 'API_KEY', target: 'production', version: 2 }).value;
    expect(secretParameterName(prefix, 'env#web#production', 'API_KEY', 2)).toBe(path);
    const raw = await ssm.send(new GetParameterCommand({ Name: path }));
    expect(raw.Parameter?.Type).toBe('SecureString');
    // Without decryption the value is not the plain text.
    expect(raw.Parameter?.Value).not.toBe('second-value');
    const listed = await ssm.send(new GetParametersByPathCommand({ Path: `/${prefix}/env/web/production`, Recursive: true, WithDecryption: true }));
    expect(listed.Parameters?.map((p) => [p.Name, p.Value]).sort()).toEqual([
      [`/${prefix}/env/web/production/API_KEY/1`, 'first-value'],
      [`/${prefix}/env/web/production/API_KEY/2`, 'second-value'],
    ]);
    expect(await secrets.get('env#web#production', 'API_KEY')).toEqual({ value: 'second-value', version: 2 });
    expect(await secrets.get('env#web#production', 'API_KEY', 1)).toEqual({ value: 'first-value', version: 1 });
  });

  it('moves the current version only forward, removes by version, and resolves exactly the versions asked', async () => {
    await secrets.put('env#shop#preview', 'TOKEN', 3, 'three');
    await secrets.put('env#shop#preview', 'TOKEN', 2, 'late-two');
    await secrets.put('env#shop#preview', 'OTHER', 1, 'other');
    expect(await secrets.resolveEnv('shop', 'preview')).toEqual({ TOKEN: 'three', OTHER: 'other' });
    await secrets.remove('env#shop#preview', 'OTHER', 1);
    expect(await secrets.resolveEnv('shop', 'preview')).toEqual({ TOKEN: 'three' });
    // A removed name keeps its versions: a redeploy of an older deployment still reads them.
    expect(await secrets.resolveRefs('shop', [{ name: 'TOKEN', target: 'preview', version: 2 }, { name: 'OTHER', target: 'preview', version: 1 }]))
      .toEqual({ TOKEN: 'late-two', OTHER: 'other' });
    await expect(secrets.resolveRefs('shop', [{ name: 'TOKEN', target: 'preview', version: 9 }])).rejects.toBeInstanceOf(SecretMissingError);
  });

  it('keeps subscription signing secrets under their own path, and refuses names SSM cannot hold', async () => {
    await secrets.put('subscription#01JSUB', 'signing-secret', 1, 'whsec');
    const raw = await ssm.send(new GetParameterCommand({ Name: `/${prefix}/subscription/01JSUB/signing-secret/1`, WithDecryption: true }));
    expect(raw.Parameter?.Value).toBe('whsec');
    expect(await secrets.get('subscription#01JSUB', 'signing-secret')).toEqual({ value: 'whsec', version: 1 });
    expect(() => secretParameterName(prefix, 'env#web#production', 'A B', 1)).toThrow(/cannot be part of an SSM parameter name/);
    expect(await secrets.get('subscription#nobody', 'signing-secret')).toBeUndefined();
  });
});
