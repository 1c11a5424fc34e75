import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dynamoClient, namespaceUnavailable, startDynamoLocal } from './dynamodb-local.ts';
import { isAlive } from '../../test/support/processes.ts';

const root = mkdtempSync(join(tmpdir(), 'shiplog-ddb-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));


describe('DynamoDB Local start-up', () => {
  it('needs bubblewrap and slirp4netns for its loopback-only namespace (CI installs them)', () => {
    expect(namespaceUnavailable(), 'apt-get install -y bubblewrap slirp4netns').toBeUndefined();
  });

  // The namespace is set up by bwrap before slirp4netns configures it: slirp4netns bringing `lo` up
  // first made bwrap's own loopback set-up fail (EEXIST) and bwrap exit 1 before the JVM ran.
  it('starts in its namespace again and again on the same data dir, after its JVM is killed each time', async () => {
    const dataDir = join(root, 'restarts');
    for (let i = 0; i < 4; i++) {
      const db = await startDynamoLocal({ dataDir, loopbackOnly: true });
      expect(db.isolation).toBe('namespace');
      // The JVM runs with the serial collector (dynamodb-local.ts: less CPU per request beside busy neighbours).
      expect(readFileSync(`/proc/${db.pid}/cmdline`, 'utf8').split('\0')).toContain('-XX:+UseSerialGC');
      const client = dynamoClient(db.endpoint);
      await expect(client.send(new ListTablesCommand({}))).resolves.toBeDefined();
      client.destroy();
      process.kill(db.pid, 'SIGKILL');
      await db.exited;
      await db.stop();
    }
  }, 180_000);

  it('a stale pid file that names another process now kills nothing', async () => {
    const dataDir = join(root, 'stale');
    const bystander = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      await startDynamoLocal({ dataDir, loopbackOnly: true }).then((db) => db.stop());
      writeFileSync(join(dataDir, 'dynamodb.pid'), String(bystander.pid));
      const db = await startDynamoLocal({ dataDir, loopbackOnly: true });
      expect(isAlive(bystander.pid!), 'the pid file named a sleep, not a JVM of this data dir').toBe(true);
      expect(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8')).toBe(String(db.pid));
      await db.stop();
    } finally {
      bystander.kill('SIGKILL');
    }
  }, 120_000);
});

describe('the local client', () => {
  it('sends one fixed Authorization header instead of a SigV4 signature, and DynamoDB Local answers it', async () => {
    const client = dynamoClient(inject('dynamoEndpoint'));
    const sent: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        sent.push(String((args.request as { headers: Record<string, string> }).headers.authorization));
        return next(args);
      },
      { step: 'deserialize', name: 'seeAuthorization' },
    );
    const TableName = `unsigned-${Date.now()}`;
    await client.send(new CreateTableCommand({
      TableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }));
    try {
      await client.send(new PutItemCommand({ TableName, Item: { pk: { S: 'a' }, body: { S: 'first' } } }));
      await client.send(new PutItemCommand({ TableName, Item: { pk: { S: 'a' }, body: { S: 'second, longer' } } }));
      const got = await client.send(new GetItemCommand({ TableName, Key: { pk: { S: 'a' } }, ConsistentRead: true }));
      expect(got.Item?.body?.S).toBe('second, longer');
    } finally {
      await client.send(new DeleteTableCommand({ TableName }));
      client.destroy();
    }
    // Five requests, one header: a SigV4 signature would differ with each body (and date).
    expect(sent).toHaveLength(5);
    expect(new Set(sent).size).toBe(1);
    expect(sent[0]).toMatch(/^AWS4-HMAC-SHA256 Credential=local\//);
    expect(sent[0]).not.toMatch(/Signature=[0-9a-f]{64}/);
  });
});
