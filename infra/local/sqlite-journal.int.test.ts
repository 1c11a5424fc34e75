import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoClient, startDynamoLocal, type DynamoLocalOptions } from './dynamodb-local.ts';
import { emptyDatabase, sharedDbFile, useWriteAheadLog } from './sqlite-journal.ts';

const root = mkdtempSync(join(tmpdir(), 'shiplog-journal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const versions = (dataDir: string) => [...readFileSync(sharedDbFile(dataDir)).subarray(18, 20)];
const newDir = (name: string) => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** Runs `fn` on a DynamoDB Local of `dataDir`, which the JVM has open meanwhile. */
const withDb = async <T>(dataDir: string, fn: (client: DynamoDBClient) => Promise<T>, opts: DynamoLocalOptions = {}): Promise<T> => {
  const db = await startDynamoLocal({ dataDir, ...opts });
  const client = dynamoClient(db.endpoint);
  try {
    return await fn(client);
  } finally {
    client.destroy();
    await db.stop();
  }
};
const put = (client: DynamoDBClient, pk: string) => client.send(new PutItemCommand({ TableName: 'notes', Item: { pk: { S: pk }, body: { S: `note ${pk}` } } }));
const createNotes = (client: DynamoDBClient) => client.send(new CreateTableCommand({
  TableName: 'notes', BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
}));
const bodyOf = async (client: DynamoDBClient, pk: string) => (await client.send(new GetItemCommand({ TableName: 'notes', Key: { pk: { S: pk } } }))).Item?.body?.S;

describe("DynamoDB Local's on-disk database in write-ahead-log mode", () => {
  it('a new data dir: its database is made in WAL mode, written through the log, and read back after a restart', async () => {
    const dataDir = newDir('new');
    await withDb(dataDir, async (client) => {
      await createNotes(client);
      await put(client, 'a');
      // The JVM's SQLite writes the log beside the database (a rollback journal leaves no `-wal`).
      expect(existsSync(`${sharedDbFile(dataDir)}-wal`)).toBe(true);
    });
    expect(versions(dataDir)).toEqual([2, 2]);
    await withDb(dataDir, async (client) => expect(await bodyOf(client, 'a')).toBe('note a'));
  }, 120_000);

  it("a data dir an earlier shiplog made (rollback journal): switched on the next start, and nothing in it is lost", async () => {
    const dataDir = newDir('earlier');
    writeFileSync(sharedDbFile(dataDir), emptyDatabase('rollback'));
    await withDb(dataDir, async (client) => {
      await createNotes(client);
      await put(client, 'before');
      expect(existsSync(`${sharedDbFile(dataDir)}-wal`)).toBe(false);
    }, { journal: 'as-is' });
    expect(versions(dataDir)).toEqual([1, 1]);

    const warnings: string[] = [];
    await withDb(dataDir, async (client) => {
      expect(await bodyOf(client, 'before')).toBe('note before');
      await put(client, 'after');
      expect(existsSync(`${sharedDbFile(dataDir)}-wal`)).toBe(true);
    }, { onWarning: (l) => warnings.push(l) });
    expect(warnings).toEqual([]);
    expect(versions(dataDir)).toEqual([2, 2]);
    await withDb(dataDir, async (client) => {
      expect(await bodyOf(client, 'before')).toBe('note before');
      expect(await bodyOf(client, 'after')).toBe('note after');
    });
  }, 180_000);

  it('a database with a rollback journal beside it (a write cut short) is left for SQLite to roll back, with a warning', async () => {
    const dataDir = newDir('journal-beside');
    writeFileSync(sharedDbFile(dataDir), emptyDatabase('rollback'));
    writeFileSync(`${sharedDbFile(dataDir)}-journal`, '');
    expect(useWriteAheadLog(dataDir)).toEqual({ left: 'a rollback journal is beside it' });
    expect(versions(dataDir)).toEqual([1, 1]);

    const warnings: string[] = [];
    await withDb(dataDir, (client) => createNotes(client), { onWarning: (l) => warnings.push(l) });
    expect(warnings).toEqual([expect.stringMatching(/keeps its rollback journal this time \(a rollback journal is beside it\)/)]);
  }, 120_000);

  it('creates a missing or empty database, keeps one in WAL mode, and leaves a file that is not SQLite alone', () => {
    const dataDir = newDir('files');
    expect(useWriteAheadLog(dataDir)).toBe('created');
    expect(readFileSync(sharedDbFile(dataDir))).toEqual(emptyDatabase('wal'));
    expect(useWriteAheadLog(dataDir)).toBe('already');
    writeFileSync(sharedDbFile(dataDir), '');
    expect(useWriteAheadLog(dataDir)).toBe('created');
    writeFileSync(sharedDbFile(dataDir), 'not a database, but long enough to hold a header of one hundred bytes, which this is not...'.repeat(2));
    expect(useWriteAheadLog(dataDir)).toEqual({ left: 'not a SQLite database' });
  });
});
