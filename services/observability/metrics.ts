import type { DeploymentMetrics, RequestRecord, RequestStats, Usage } from './ports.ts';

/** Routes kept per deployment; the rest are summed under `other`. */
const maxRoutes = 50;

/**
 * The value at percentile `p` (0..100) of sorted numbers, nearest-rank; 0 for none.
 *
 * @example
 * percentile([10, 20, 30, 40], 50); // 20
 */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

const statsOf = (rs: readonly RequestRecord[]): RequestStats => {
  const durations = rs.map((r) => r.durationMs).sort((a, b) => a - b);
  return {
    requests: rs.length,
    status4xx: rs.filter((r) => r.status >= 400 && r.status < 500).length,
    status5xx: rs.filter((r) => r.status >= 500).length,
    p50Ms: percentile(durations, 50),
    p95Ms: percentile(durations, 95),
    p99Ms: percentile(durations, 99),
    coldStarts: rs.filter((r) => r.coldStart).length,
  };
};

/**
 * What a deployment's requests used. GB-seconds are billed durations (rounded up to the
 * millisecond, as Lambda bills) times the function memory.
 *
 * @example
 * usageOf(records, { memoryMb: 1024, storageBytes: 0 }).gbSeconds;
 */
export const usageOf = (rs: readonly RequestRecord[], fn: { memoryMb: number; storageBytes: number }): Usage => {
  const fns = rs.filter((r) => r.origin === 'function');
  return {
    invocations: fns.length,
    gbSeconds: (fns.reduce((n, r) => n + Math.ceil(r.durationMs), 0) / 1000) * (fn.memoryMb / 1024),
    bytesOut: rs.reduce((n, r) => n + r.bytesOut, 0),
    cdnRequests: rs.length,
    assetRequests: rs.length - fns.length,
    storageBytes: fn.storageBytes,
  };
};

/**
 * The metrics of one deployment from its request records: function requests in total and per
 * route (path; the busiest {@link maxRoutes}, the rest as `other`), and everything it used.
 *
 * @example
 * summarize('d1', records, { memoryMb: 1024, storageBytes: 0 }).status5xx;
 */
export const summarize = (deploymentId: string, rs: readonly RequestRecord[], fn: { memoryMb: number; storageBytes: number }): DeploymentMetrics => {
  const fns = rs.filter((r) => r.origin === 'function');
  const byRoute = new Map<string, RequestRecord[]>();
  for (const r of fns) byRoute.set(r.path, [...(byRoute.get(r.path) ?? []), r]);
  const ranked = [...byRoute].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const routes = ranked.slice(0, maxRoutes).map(([route, list]) => ({ route, ...statsOf(list) }));
  const rest = ranked.slice(maxRoutes).flatMap(([, list]) => list);
  if (rest.length > 0) routes.push({ route: 'other', ...statsOf(rest) });
  return { deploymentId, ...statsOf(fns), routes, usage: usageOf(rs, fn) };
};
