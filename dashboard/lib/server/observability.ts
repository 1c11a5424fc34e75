import 'server-only';
import { apiGet } from './api.ts';

const seg = (value: string): string => encodeURIComponent(value);

/**
 * One line of a deployment's runtime log, as the API answers it (`services/observability`).
 *
 * @example
 * { time: '2026-11-22T10:00:00.123Z', level: 'error', kind: 'request', requestId: '6f1c…', method: 'GET', path: '/', status: 500, durationMs: 35, message: 'GET / 500 in 35 ms' }
 */
export interface RuntimeRecord {
  time: string;
  level: 'debug' | 'info' | 'warning' | 'error';
  kind: 'console' | 'request';
  requestId?: string;
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  message: string;
}

/** Request metrics of one deployment (function requests), and per route. */
export interface DeploymentMetricsRow {
  id: string;
  live: boolean;
  requests: number;
  errors: number;
  status4xx: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  coldStarts: number;
  routes: { route: string; requests: number; status4xx: number; status5xx: number; p50Ms: number; p99Ms: number }[];
}

/** The cost estimate of a project, per deployment, from measured usage. */
export interface CostsView {
  total: number;
  currency: string;
  prices: { asOf: string; region: string };
  deployments: { id: string; usage: { invocations: number; gbSeconds: number; bytesOut: number; cdnRequests: number; assetRequests: number; storageBytes: number }; cost: Record<string, number> & { total: number } }[];
}

/** A project's alarm rule and whether it is raised. */
export interface AlarmView {
  rule: { maxErrorRate: number; windowSeconds: number; minRequests: number; autoRollback: boolean; watchSeconds: number } | null;
  status: 'ok' | 'raised';
  raised?: { deploymentId?: string; at: string; observed: number };
}

// A read that may fail (an older API, the platform restarting): the page shows why instead.
const attempt = async <T>(read: () => Promise<T>): Promise<{ data: T; error: null } | { data: null; error: string }> => {
  try {
    return { data: await read(), error: null };
  } catch (err) {
    return { data: null, error: (err as Error).message };
  }
};

/**
 * The newest runtime log records of a deployment (at or above `level`).
 *
 * @example
 * const { data: records } = await loadRuntimeLogs(id, 'error');
 */
export const loadRuntimeLogs = (deploymentId: string, level?: string) =>
  attempt(async () => (await apiGet<{ records: RuntimeRecord[] }>(`/api/deployments/${seg(deploymentId)}/runtime-logs?limit=200${level ? `&level=${seg(level)}` : ''}`)).records);

/**
 * Request metrics of a project's deployments over the last `since` (`1h` by default).
 *
 * @example
 * const { data } = await loadRequestMetrics('web', '24h');
 */
export const loadRequestMetrics = (projectId: string, since = '1h') =>
  attempt(async () => (await apiGet<{ deployments: DeploymentMetricsRow[] }>(`/api/projects/${seg(projectId)}/metrics?since=${seg(since)}`)).deployments);

/**
 * The cost estimate of a project over the last 30 days.
 *
 * @example
 * const { data: costs } = await loadCosts('web');
 */
export const loadCosts = (projectId: string) => attempt(() => apiGet<CostsView>(`/api/projects/${seg(projectId)}/costs`));

/**
 * The project's alarm rule.
 *
 * @example
 * const { data: alarm } = await loadAlarm('web');
 */
export const loadAlarm = (projectId: string) => attempt(() => apiGet<AlarmView>(`/api/projects/${seg(projectId)}/alarms`));
