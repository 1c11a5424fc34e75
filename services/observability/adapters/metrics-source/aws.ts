import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { percentile } from '../../metrics.ts';
import type { DeploymentMetrics, MetricsSource } from '../../ports.ts';
import { reportOf, runtimeRecordOf, versionEvents, type InvocationReport, type SiteFunctionVersion } from '../runtime-log-store/aws.ts';

/**
 * Request metrics on AWS from the site functions' invocation reports (Lambda's `platform.report`
 * records in their CloudWatch Logs, JSON log format), per deployment version: invocations,
 * errors, duration percentiles, cold starts (a report with an init duration), and GB-seconds
 * from billed durations. An error (counted as 5xx) is an invocation that failed or timed out, or
 * one that logged an ERROR record: a page that throws does not fail the invocation (Next.js
 * answers its 500 page and logs the error with `console.error`). The reports carry no path or
 * HTTP status: no per-route rows and no 4xx here (CloudFront's request logs would give them), a
 * 5xx answered without an error logged is not counted, and bytes out, CDN requests and storage
 * are not measured (0).
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
  const summarizeReports = (deploymentId: string, rs: InvocationReport[], errored: ReadonlySet<string>): DeploymentMetrics => {
    const durations = rs.map((r) => r.durationMs).sort((a, b) => a - b);
    const stats = {
      requests: rs.length,
      status4xx: 0,
      status5xx: rs.filter((r) => r.status !== 'success' || errored.has(r.requestId)).length,
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
        // Invocations that logged an error: a line may be written a little before its report's window.
        const errored = new Set<string>();
        for await (const page of versionEvents(deps.logs, await deps.versionsOf(id), from - 60_000, to)) {
          for (const e of page) {
            const r = reportOf(e);
            if (r) {
              if (r.time >= since && r.time < until) reports.push(r);
              continue;
            }
            const line = runtimeRecordOf(e, { projectId, deploymentId: id });
            if (line?.kind === 'console' && line.level === 'error' && line.requestId) errored.add(line.requestId);
          }
        }
        return { named: deploymentIds !== undefined, m: summarizeReports(id, reports, errored) };
      }));
      return all.filter((x) => x.named || x.m.requests > 0).map((x) => x.m);
    },
  };
};
