import { resolve } from 'node:path';

/**
 * Where the local runtime keeps its data and which ports it serves, from the environment.
 *
 * @example
 * const cfg = localConfig(process.env); // { dataDir: '/abs/.shiplog', port: 3000, sitesPort: 3001, host: '127.0.0.1' }
 */
export interface LocalConfig {
  dataDir: string;
  port: number;
  sitesPort: number;
  /** Interface of the API and the site router: 127.0.0.1 unless `SHIPLOG_HOST` says otherwise. */
  host?: string;
}

const portFrom = (raw: string | undefined, fallback: number, name: string): number => {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
};

export const localConfig = (env: NodeJS.ProcessEnv = process.env): LocalConfig => ({
  dataDir: resolve(env.SHIPLOG_DATA_DIR || '.shiplog'),
  port: portFrom(env.SHIPLOG_PORT, 3000, 'SHIPLOG_PORT'),
  sitesPort: portFrom(env.SHIPLOG_SITES_PORT, 3001, 'SHIPLOG_SITES_PORT'),
  host: env.SHIPLOG_HOST?.trim() || '127.0.0.1',
});

/**
 * Whether an interface address keeps a server on this machine (127.0.0.0/8, ::1, localhost).
 *
 * @example
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('0.0.0.0');   // false: every interface
 */
export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);

/** Table names of the local runtime. */
export const localTables = {
  events: 'shiplog-events',
  deliveries: 'shiplog-bus-deliveries',
  deadLetters: 'shiplog-dlq',
  outbox: 'shiplog-outbox-checkpoints',
  idempotency: 'shiplog-idempotency',
  secrets: 'shiplog-secrets',
  views: 'shiplog-views',
  tokens: 'shiplog-tokens',
} as const;
