import type { ReactNode } from 'react';
import { BarChart, LineChart, type Bar } from '../../../../components/charts.tsx';
import { duration, percent, perDay, shortId } from '../../../../lib/format.ts';
import { context } from '../../../../lib/server/context.ts';
import { deliverySeries } from '../../../../lib/metrics.ts';

const week = (iso: string) => iso.slice(5, 10);

function Tile({ label, value, detail, children }: { label: string; value: string; detail: string; children: ReactNode }) {
  return (
    <div className="metric">
      <div className="metric-label">{label}</div>
      <div className="metric-value">{value}</div>
      <div className="metric-detail muted">{detail}</div>
      {children}
    </div>
  );
}

/** The DORA four of the last 30 days with 12 weeks of history, and recent build durations. */
export async function MetricsPanel({ projectId }: { projectId: string }) {
  const { views, models } = context();
  const [{ summary, weekly }, recent] = await Promise.all([
    deliverySeries(views, projectId, { days: 30, weeks: 12 }),
    models.listDeployments(projectId, { limit: 30 }),
  ]);
  const w = (fn: (p: (typeof weekly)[number]) => number | null, tone?: Bar['tone']): Bar[] =>
    weekly.map((p) => ({ label: `week of ${week(p.from)}`, value: fn(p), ...(tone ? { tone } : {}) }));
  const builds: Bar[] = recent.items
    .slice()
    .reverse()
    .map((d) => ({ label: `${shortId(d.deploymentId)} (${d.status})`, value: d.durations.buildMs, tone: d.status === 'error' ? 'bad' : d.status === 'ready' ? 'ok' : 'neutral' }));

  return (
    <div className="metrics" data-testid="metrics">
      <Tile
        label="Deployment frequency"
        value={`${perDay(summary.deploymentFrequency.perDay)}/day`}
        detail={`${summary.deployments} to production in 30 days`}
      >
        <BarChart title="Production deployments per week" bars={w((p) => p.metrics.deployments, 'ok')} format={(v) => `${v} deployments`} />
      </Tile>
      <Tile label="Lead time for changes" value={duration(summary.leadTime.medianMs)} detail={`median commit → live; p90 ${duration(summary.leadTime.p90Ms)}`}>
        <LineChart title="Median lead time per week" points={w((p) => p.metrics.leadTime.medianMs)} format={duration} />
      </Tile>
      <Tile
        label="Change failure rate"
        value={percent(summary.changeFailureRate)}
        detail={`${summary.changeFailures} rolled back or alarmed`}
      >
        <BarChart title="Change failure rate per week" bars={w((p) => p.metrics.changeFailureRate, 'bad')} format={percent} />
      </Tile>
      <Tile
        label="Time to restore"
        value={duration(summary.timeToRestore.medianMs)}
        detail={summary.timeToRestore.unresolved ? `${summary.timeToRestore.unresolved} not restored yet` : 'median failure → restored'}
      >
        <LineChart title="Median time to restore per week" points={w((p) => p.metrics.timeToRestore.medianMs)} format={duration} />
      </Tile>
      <Tile label="Build duration" value={duration(recent.items[0]?.durations.buildMs)} detail={`last ${builds.length} deployments, oldest first`}>
        <BarChart title="Build duration of recent deployments" bars={builds} format={duration} />
      </Tile>
    </div>
  );
}

export function MetricsSkeleton() {
  return (
    <div className="metrics" aria-busy>
      {['Deployment frequency', 'Lead time for changes', 'Change failure rate', 'Time to restore', 'Build duration'].map((l) => (
        <div className="metric" key={l}>
          <div className="metric-label">{l}</div>
          <div className="metric-value skeleton" style={{ width: 80, height: 28 }} />
          <div className="chart skeleton" style={{ height: 96 }} />
        </div>
      ))}
    </div>
  );
}
