import { readCredential, readSessionKey, verifyCredential } from './credential.ts';
import type { PasswordAuth } from './port.ts';

/**
 * The local adapter: one admin whose scrypt hash `shiplog dev` keeps in its data dir
 * (`<dataDir>/dashboard/admin.json`), next to the session key.
 *
 * @example
 * const auth = localAuth('/home/me/.shiplog/dashboard');
 */
export const localAuth = (dir: string): PasswordAuth => {
  let key: Buffer | undefined;
  return {
    method: 'password',
    verifyPassword: async (username, password) => {
      // Read on every attempt: `SHIPLOG_ADMIN_PASSWORD` may have changed it since.
      const stored = readCredential(dir);
      if (!stored || !(await verifyCredential(stored, username, password))) return null;
      return { id: stored.username, name: stored.username, provider: 'local' };
    },
    sessionKey: async () => (key ??= readSessionKey(dir)),
  };
};
