import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The key file of the local runtime, in the data dir.
 *
 * @example
 * join(dataDir, SECRET_KEY_FILE); // '.shiplog/secrets.key'
 */
export const SECRET_KEY_FILE = 'secrets.key';

const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * Loads the local data key (`<dataDir>/secrets.key`: 32 random bytes, base64), creating it with
 * mode 0600 on first use. Refuses a key file that others can read, as ssh does.
 *
 * @example
 * const key = loadOrCreateSecretKey('/home/me/app/.shiplog');
 */
export const loadOrCreateSecretKey = (dataDir: string): Buffer => {
  const file = join(dataDir, SECRET_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails when the file exists, so two processes starting at once never overwrite each other's key.
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) throw new Error(`${file} is readable by others (mode ${mode.toString(8)}): run \`chmod 600 ${file}\``);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${file} does not hold a ${KEY_BYTES}-byte base64 key; restore it from a backup`);
  return key;
};

/**
 * One encrypted value: AES-256-GCM with a random 96-bit IV, its auth tag, and the id of the key.
 *
 * @example
 * const sealed: Sealed = seal(key, 'value', 'env#web#production/API_KEY/3');
 */
export interface Sealed {
  keyId: string;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

/**
 * A short, non-secret id of a key (first bytes of its SHA-256), stored with each value so a
 * value sealed under another key is recognized instead of failing to decrypt obscurely.
 *
 * @example
 * keyIdOf(key); // '3f9a0c1b'
 */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

/**
 * Encrypts a value. `context` is bound as additional authenticated data, so a ciphertext moved
 * to another scope, name or version no longer decrypts.
 *
 * @example
 * const sealed = seal(key, 's3cret', 'env#web#production\0API_KEY\03');
 */
export const seal = (key: Buffer, value: string, context: string): Sealed => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { keyId: keyIdOf(key), iv, ciphertext, tag: cipher.getAuthTag() };
};

/**
 * Decrypts a sealed value; throws when the key, the context or the bytes do not match.
 *
 * @example
 * open(key, sealed, 'env#web#production\0API_KEY\03'); // 's3cret'
 */
export const open = (key: Buffer, sealed: Sealed, context: string): string => {
  if (sealed.keyId !== keyIdOf(key)) throw new Error(`secret was sealed with key ${sealed.keyId}, but the data dir key is ${keyIdOf(key)}`);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
};
