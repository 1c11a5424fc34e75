import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Tokens `shiplog login` stored for other instances, by API origin, in
 * `$XDG_CONFIG_HOME/shiplog/credentials.json` (default `~/.config/shiplog/`), mode 0600.
 *
 * @example
 * { "instances": { "https://api.example.com": { "token": "shp_…", "savedAt": "2026-…" } } }
 */
export interface CredentialsFile {
  instances: Record<string, { token: string; savedAt: string }>;
}

export const credentialsPath = (env: NodeJS.ProcessEnv = process.env): string =>
  join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'shiplog', 'credentials.json');

/** The origin an API URL is stored under (`https://api.example.com`). */
export const instanceKey = (url: string): string => new URL(url).origin;

export const readCredentials = (env: NodeJS.ProcessEnv = process.env): CredentialsFile => {
  try {
    const parsed = JSON.parse(readFileSync(credentialsPath(env), 'utf8')) as Partial<CredentialsFile>;
    return { instances: parsed.instances ?? {} };
  } catch {
    return { instances: {} };
  }
};

/**
 * Stores the token of an instance (replacing an earlier one), readable by the owner only.
 *
 * @example
 * saveCredential('https://api.example.com', 'shp_…');
 */
export const saveCredential = (url: string, token: string, env: NodeJS.ProcessEnv = process.env): string => {
  const file = credentialsPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const creds = readCredentials(env);
  creds.instances[instanceKey(url)] = { token, savedAt: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
};

/** The token stored for an instance, if any. */
export const storedToken = (url: string, env: NodeJS.ProcessEnv = process.env): string | undefined =>
  readCredentials(env).instances[instanceKey(url)]?.token;
