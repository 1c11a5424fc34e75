import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { percentile } from '../../metrics.ts';
import type { DeploymentMetrics, MetricsSource } from '../../ports.ts';
import { reportOf, versionEvents, type InvocationReport, type SiteFunctionVersion } from '../runtime-log-store/aws.ts';

/**
 * Request metrics on AWS from the site functions' invocation reports (Lambda's `platform.report`
 * records in their CloudWatch Logs, JSON log format), per deployment version: invocations,
 * function errors and timeouts as 5xx, duration percentiles, cold starts (a report with an init
 * duration), and GB-seconds from billed durations. The reports carry no path or HTTP status: no
 * per-route rows and no 4xx here (CloudFront's request logs would give them), and bytes out,
 * CDN requests and storage are not measured (0).
 *
 * @example
 * const metrics = cloudWatchMetricsSource({ logs, versionsOf, deploymentsOf });
 * const [m] = await metrics.deployments({ projectId: 'web', deploymentIds: ['d1'], since, until });
 */
export const cloudWatchMetricsSource = (deps: {
  logs: CloudWatchLogsClient;
  versionsOf: (deploymentId: string) => Promise<SiteFunctionVersion[]>;
  /** The project's deployments that published a function version (when no ids are named). */
  deploymentsOf: (projectId: string) => Promise<string[]>;
}): MetricsSource => {
  const summarizeReports = (deploymentId: string, rs: InvocationReport[]): DeploymentMetrics => {
    const durations = rs.map((r) => r.durationMs).sort((a, b) => a - b);
    const stats = {
      requests: rs.length,
      status4xx: 0,
      status5xx: rs.filter((r) => r.status !== 'success').length,
      p50Ms: percentile(durations, 50),
      p95Ms: percentile(durations, 95),
      p99Ms: percentile(durations, 99),
      coldStarts: rs.filter((r) => r.coldStart).length,
    };
    const gbSeconds = rs.reduce((n, r) => n + (Math.max(r.billedDurationMs, Math.ceil(r.durationMs)) / 1000) * ((r.memorySizeMB || 1024) / 1024), 0);
    return { deploymentId, ...stats, routes: [], usage: { invocations: rs.length, gbSeconds, bytesOut: 0, cdnRequests: rs.length, assetRequests: 0, storageBytes: 0 } };
  };
  return {
    async deployments({ projectId, deploymentIds, since, until }) {
      const ids = deploymentIds ?? (await deps.deploymentsOf(projectId));
      const from = Date.parse(since);
      const to = Date.parse(until);
      const all = await Promise.all(ids.map(async (id) => {
        const reports: InvocationReport[] = [];
        for await (const page of versionEvents(deps.logs, await deps.versionsOf(id), from, to)) {
          for (const e of page) {
            const r = reportOf(e);
            if (r && r.time >= since && r.time < until) reports.push(r);
          }
        }
        return { named: deploymentIds !== undefined, m: summarizeReports(id, reports) };
      }));
      return all.filter((x) => x.named || x.m.requests > 0).map((x) => x.m);
    },
  };
};
