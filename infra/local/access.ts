import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { accessCommands, createTokensTable, dynamoTokenStore, type AccessCommands } from '../../services/access/index.ts';

/** Where the first start leaves the admin token for the CLI on this machine (mode 0600). */
export const adminTokenFile = (dataDir: string): string => join(dataDir, 'admin-token');

/**
 * The admin token of a data dir, as the CLI reads it; undefined when there is none (yet).
 *
 * @example
 * readAdminToken('/home/me/.shiplog'); // 'shp_…'
 */
export const readAdminToken = (dataDir: string): string | undefined => {
  try {
    return readFileSync(adminTokenFile(dataDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
};

// Written whole, then renamed, readable by the owner only.
const writePrivate = (file: string, content: string): void => {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
};

/**
 * The local runtime's API tokens: the table, the commands, the admin token (created on the
 * first start, or again when its file is gone or it was revoked, and written to
 * `<dataDir>/admin-token`, mode 0600, in a 0700 data dir) and a fresh `dashboard` token for
 * this run (the one of the previous run is revoked). Never logs a token.
 *
 * @example
 * const { access, dashboardToken } = await startAccess({ client, tableName: localTables.tokens, dataDir, ids, now, log });
 */
export const startAccess = async (opts: {
  client: DynamoDBClient;
  tableName: string;
  dataDir: string;
  ids: () => string;
  now: () => string;
  log: (line: string) => void;
}): Promise<{ access: AccessCommands; dashboardToken: string }> => {
  await createTokensTable(opts.client, opts.tableName);
  // This process is the tokens table's only writer, so a token it verified is trusted for a while
  // (a revocation here takes effect at once); each API request then reads no token record.
  const access = accessCommands({ tokens: dynamoTokenStore({ client: opts.client, tableName: opts.tableName }), ids: opts.ids, now: opts.now, verifiedForMs: 30_000 });
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(opts.dataDir, 0o700);

  const existing = readAdminToken(opts.dataDir);
  if (!existing || !(await access.verify(existing))) {
    const stale = (await access.list()).find((t) => t.name === 'admin' && t.revokedAt === null);
    if (stale) await access.revoke(stale.tokenId, 'system:shiplog-dev');
    const { token } = await access.create({ name: 'admin', kind: 'admin' }, 'system:shiplog-dev');
    writePrivate(adminTokenFile(opts.dataDir), `${token}\n`);
    opts.log(`shiplog: created the admin API token in ${adminTokenFile(opts.dataDir)} (the CLI on this machine uses it)`);
  }
  chmodSync(adminTokenFile(opts.dataDir), 0o600);

  const previous = (await access.list()).filter((t) => t.kind === 'dashboard' && t.revokedAt === null);
  for (const t of previous) await access.revoke(t.tokenId, 'system:shiplog-dev');
  const { token: dashboardToken } = await access.create({ name: 'dashboard', kind: 'dashboard' }, 'system:shiplog-dev');
  return { access, dashboardToken };
};
