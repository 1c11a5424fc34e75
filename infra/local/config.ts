import { resolve } from 'node:path';

/**
 * Where the local runtime keeps its data and which ports it serves, from the environment.
 *
 * @example
 * const cfg = localConfig(process.env); // { dataDir: '/abs/.shiplog', port: 3000, sitesPort: 3001 }
 */
export interface LocalConfig {
  dataDir: string;
  port: number;
  sitesPort: number;
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
});

/** Table names of the local runtime. */
export const localTables = {
  events: 'shiplog-events',
  deliveries: 'shiplog-bus-deliveries',
  deadLetters: 'shiplog-dlq',
  outbox: 'shiplog-outbox-checkpoints',
  idempotency: 'shiplog-idempotency',
  secrets: 'shiplog-secrets',
  views: 'shiplog-views',
} as const;
