import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { summarize } from '../../metrics.ts';
import type { DeploymentMetrics, MetricsSource, RequestRecord } from '../../ports.ts';
import { segmentedLog, type Retention } from '../runtime-log-store/segments.ts';

/**
 * The default retention of request records: 4 MiB files, 64 MiB and 35 days per deployment
 * (a month of usage for cost estimates).
 *
 * @example
 * localMetricsSource({ dir, retention: requestRetention });
 */
export const requestRetention: Retention = { segmentBytes: 4 << 20, maxBytes: 64 << 20, maxAgeMs: 35 * 24 * 3600_000 };

/**
 * Options of {@link localMetricsSource}: where request records live, the memory the functions
 * are billed for (1024 MB, the AWS site function's), and how big a deployment's static files are.
 *
 * @example
 * localMetricsSource({ dir: join(dataDir, 'observability', 'requests'), storageBytesOf: async (p, d) => sizeOf(assetsDir(p, d)) });
 */
export interface LocalMetricsOptions {
  dir: string;
  memoryMb?: number;
  storageBytesOf?: (projectId: string, deploymentId: string) => Promise<number>;
  retention?: Partial<Retention>;
}

/**
 * Request metrics on this machine: the site router's request records as JSON lines per
 * deployment under `dir`, summarized when asked (`record` is what the router's observer calls).
 *
 * @example
 * const metrics = localMetricsSource({ dir });
 * await metrics.record(request);
 * const [m] = await metrics.deployments({ projectId: 'web', deploymentIds: ['d1'], since, until });
 */
export const localMetricsSource = (opts: LocalMetricsOptions): MetricsSource & { record(r: RequestRecord): Promise<void>; sweep(): Promise<void> } => {
  const log = segmentedLog<RequestRecord>(opts.dir, { ...requestRetention, ...opts.retention });
  const memoryMb = opts.memoryMb ?? 1024;
  // A published deployment's files never change: measured once.
  const sizes = new Map<string, number>();
  const storageBytesOf = async (projectId: string, deploymentId: string): Promise<number> => {
    const key = `${projectId}/${deploymentId}`;
    if (!sizes.has(key)) {
      const n = (await opts.storageBytesOf?.(projectId, deploymentId).catch(() => 0)) ?? 0;
      if (n > 0) sizes.set(key, n);
      return n;
    }
    return sizes.get(key)!;
  };

  const recordsOf = async (projectId: string, deploymentId: string, since: string, until: string): Promise<RequestRecord[]> => {
    const found: RequestRecord[] = [];
    for await (const batch of log.newestFirst([projectId, deploymentId], Date.parse(since))) {
      found.unshift(...batch.filter((r) => r.time >= since && r.time < until));
    }
    return found;
  };

  return {
    record: (r) => log.append([r.projectId, r.deploymentId], [r]),
    async deployments({ projectId, deploymentIds, since, until }): Promise<DeploymentMetrics[]> {
      const ids = deploymentIds ?? (await log.children([projectId]));
      const all = await Promise.all(ids.map(async (id) => {
        const records = await recordsOf(projectId, id, since, until);
        const storageBytes = await storageBytesOf(projectId, id);
        return { named: deploymentIds !== undefined, m: summarize(id, records, { memoryMb, storageBytes }), n: records.length };
      }));
      return all.filter((x) => x.named || x.n > 0).map((x) => x.m);
    },
    sweep: () => log.sweep(),
  };
};

/**
 * The bytes of the files under a directory (0 when it does not exist).
 *
 * @example
 * await directoryBytes('/data/sites/web/01JD…/assets'); // 2_400_000
 */
export const directoryBytes = async (dir: string): Promise<number> => {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await directoryBytes(path);
    else if (e.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
};
