import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecretKey, open, seal } from './secret-key.ts';

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shiplog-key-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('local secret key', () => {
  it('is created 0600 on first use and reused after', () => {
    const dir = dataDir();
    const key = loadOrCreateSecretKey(dir);
    expect(key).toHaveLength(32);
    expect(statSync(join(dir, 'secrets.key')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecretKey(dir).equals(key)).toBe(true);
  });

  it('is refused when others can read it', () => {
    const dir = dataDir();
    loadOrCreateSecretKey(dir);
    chmodSync(join(dir, 'secrets.key'), 0o644);
    expect(() => loadOrCreateSecretKey(dir)).toThrow(/readable by others .*chmod 600/);
  });

  it('seals with AES-256-GCM bound to a context: another context, key or byte does not open', () => {
    const key = loadOrCreateSecretKey(dataDir());
    const sealed = seal(key, 'hunter2', 'ctx-1');
    expect(Buffer.from(sealed.ciphertext).toString('utf8')).not.toContain('hunter2');
    expect(open(key, sealed, 'ctx-1')).toBe('hunter2');
    expect(() => open(key, sealed, 'ctx-2')).toThrow();
    expect(() => open(loadOrCreateSecretKey(dataDir()), sealed, 'ctx-1')).toThrow(/sealed with key/);
    const flipped = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext).map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(() => open(key, flipped, 'ctx-1')).toThrow();
  });
});
