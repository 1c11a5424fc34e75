import { BarChart, type Bar } from '../../../../components/charts.tsx';
import { EmptyState } from '../../../../components/bits.tsx';
import { duration } from '../../../../lib/format.ts';
import { loadRequestMetrics } from '../../../../lib/server/observability.ts';

/** One deployment's request metrics of the last hour: totals, and requests, 5xx and p99 per route. */
export async function DeploymentRuntimeMetrics({ projectId, deploymentId }: { projectId: string; deploymentId: string }) {
  const metrics = await loadRequestMetrics(projectId, '1h');
  if (metrics.error !== null) return <EmptyState title="Request metrics are not available">{metrics.error}</EmptyState>;
  const m = metrics.data.find((r) => r.id === deploymentId);
  if (!m || m.requests === 0) return <EmptyState title="No requests in the last hour">Open the deployment URL and its requests show up here.</EmptyState>;
  const routes = m.routes;
  const per = (value: (r: (typeof routes)[number]) => number, tone: Bar['tone']): Bar[] => routes.map((r) => ({ label: r.route, value: value(r), tone }));
  const tiles = [
    { label: 'Requests', value: String(m.requests), detail: `${m.status4xx} 4xx · ${m.coldStarts} cold starts`, chart: <BarChart title="Requests per route" bars={per((r) => r.requests, 'ok')} format={(v) => `${v} requests`} /> },
    { label: '5xx errors', value: String(m.errors), detail: `${Math.round((m.errors / m.requests) * 1000) / 10}% of requests`, chart: <BarChart title="5xx per route" bars={per((r) => r.status5xx, 'bad')} format={(v) => `${v} errors`} /> },
    { label: 'p99 duration', value: duration(m.p99Ms), detail: `p50 ${duration(m.p50Ms)} · p95 ${duration(m.p95Ms)}`, chart: <BarChart title="p99 per route" bars={per((r) => r.p99Ms, 'neutral')} format={duration} /> },
  ];
  return (
    <div className="metrics" data-testid="deployment-metrics">
      {tiles.map((t) => (
        <div className="metric" key={t.label}>
          <div className="metric-label">{t.label}</div>
          <div className="metric-value">{t.value}</div>
          <div className="metric-detail muted">{t.detail}</div>
          {t.chart}
        </div>
      ))}
    </div>
  );
}
