import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { join } from 'node:path';

/**
 * The local admin credential, as stored: only an scrypt hash of the password.
 *
 * @example
 * { username: 'admin', salt: '…', hash: '…', params: { N: 32768, r: 8, p: 1, keylen: 64 }, createdAt: '…' }
 */
export interface StoredCredential {
  username: string;
  salt: string;
  hash: string;
  params: { N: number; r: number; p: number; keylen: number };
  createdAt: string;
}

const PARAMS = { N: 1 << 15, r: 8, p: 1, keylen: 64 };
const ADMIN_FILE = 'admin.json';
const KEY_FILE = 'session.key';

const derive = (password: string, salt: Buffer, params: StoredCredential['params']): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
    scrypt(password.normalize('NFKC'), salt, params.keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });

// Written whole, then renamed: a reader never sees half a file. Only the owner may read it.
const writePrivate = (file: string, content: string | Buffer): void => {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
};

/** Hashes a password for storage. */
export const hashPassword = async (username: string, password: string, now = new Date()): Promise<StoredCredential> => {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, PARAMS);
  return { username, salt: salt.toString('base64'), hash: hash.toString('base64'), params: PARAMS, createdAt: now.toISOString() };
};

/** Checks a username and password against a stored credential, in constant time. */
export const verifyCredential = async (stored: StoredCredential, username: string, password: string): Promise<boolean> => {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await derive(password, Buffer.from(stored.salt, 'base64'), stored.params);
  return timingSafeEqual(actual, expected) && username === stored.username;
};

export const readCredential = (dir: string): StoredCredential | undefined => {
  try {
    return JSON.parse(readFileSync(join(dir, ADMIN_FILE), 'utf8')) as StoredCredential;
  } catch {
    return undefined;
  }
};

/** The session signing key of this data dir, created (32 random bytes) when missing. */
export const ensureSessionKey = (dir: string): Buffer => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, KEY_FILE);
  if (!existsSync(file)) writePrivate(file, randomBytes(32).toString('base64'));
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
};

export const readSessionKey = (dir: string): Buffer => Buffer.from(readFileSync(join(dir, KEY_FILE), 'utf8').trim(), 'base64');

/**
 * Makes sure the local admin exists. With `password` (from `SHIPLOG_ADMIN_PASSWORD`) the admin
 * gets that password; otherwise a first start creates a random one and returns it, once, to be
 * printed. Later starts return nothing: only the hash is kept.
 *
 * @example
 * const { created } = await ensureAdminCredential(join(dataDir, 'dashboard'));
 * if (created) log(`dashboard: admin / ${created}`);
 */
export const ensureAdminCredential = async (
  dir: string,
  opts: { username?: string; password?: string } = {},
): Promise<{ username: string; created: string | null }> => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ensureSessionKey(dir);
  const username = opts.username ?? 'admin';
  const existing = readCredential(dir);
  if (opts.password) {
    if (!existing || existing.username !== username || !(await verifyCredential(existing, username, opts.password))) {
      writePrivate(join(dir, ADMIN_FILE), `${JSON.stringify(await hashPassword(username, opts.password), null, 2)}\n`);
    }
    return { username, created: null };
  }
  if (existing) return { username: existing.username, created: null };
  const password = randomBytes(18).toString('base64url');
  writePrivate(join(dir, ADMIN_FILE), `${JSON.stringify(await hashPassword(username, password), null, 2)}\n`);
  return { username, created: password };
};
