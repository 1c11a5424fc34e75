import type { ReactNode } from 'react';
import { ActionForm } from '../../../../components/action-form.tsx';
import { BarChart, type Bar } from '../../../../components/charts.tsx';
import { EmptyState } from '../../../../components/bits.tsx';
import { duration, percent, shortId } from '../../../../lib/format.ts';
import { loadAlarm, loadCosts, loadRequestMetrics } from '../../../../lib/server/observability.ts';
import { setAlarmRuleAction } from '../../../../lib/server/observability-actions.ts';

function Tile({ label, value, detail, children }: { label: string; value: string; detail: string; children?: ReactNode }) {
  return (
    <div className="metric">
      <div className="metric-label">{label}</div>
      <div className="metric-value">{value}</div>
      <div className="metric-detail muted">{detail}</div>
      {children}
    </div>
  );
}

const dollars = (n: number) => (n >= 0.01 ? `$${n.toFixed(2)}` : n > 0 ? `$${n.toFixed(6)}` : '$0');
const megabytes = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

/** Request metrics of the last hour per deployment, the usage estimate of 30 days, and the alarm rule. */
export async function RuntimePanel({ projectId, csrf }: { projectId: string; csrf: string }) {
  const [metrics, costs, alarm] = await Promise.all([loadRequestMetrics(projectId, '1h'), loadCosts(projectId), loadAlarm(projectId)]);
  if (metrics.error !== null) return <EmptyState title="Request metrics are not available">{metrics.error}</EmptyState>;
  const rows = metrics.data.slice().sort((a, b) => (a.id < b.id ? -1 : 1));
  const bars = (value: (r: (typeof rows)[number]) => number, tone: Bar['tone']): Bar[] =>
    rows.map((r) => ({ label: `${shortId(r.id)}${r.live ? ' (live)' : ''}`, value: value(r), tone, href: `/deployments/${r.id}` }));
  const requests = rows.reduce((n, r) => n + r.requests, 0);
  const errors = rows.reduce((n, r) => n + r.errors, 0);
  const live = rows.find((r) => r.live);
  const rule = alarm.data?.rule;

  return (
    <>
      <div className="metrics" data-testid="request-metrics">
        <Tile label="Requests" value={String(requests)} detail={`last hour, ${rows.length} deployment(s)`}>
          <BarChart title="Requests per deployment" bars={bars((r) => r.requests, 'ok')} format={(v) => `${v} requests`} />
        </Tile>
        <Tile label="5xx errors" value={String(errors)} detail={requests ? `${percent(errors / requests)} of requests` : 'no requests'}>
          <BarChart title="5xx answers per deployment" bars={bars((r) => r.errors, 'bad')} format={(v) => `${v} errors`} />
        </Tile>
        <Tile label="p99 duration" value={live ? duration(live.p99Ms) : '—'} detail={live ? `live deployment; p50 ${duration(live.p50Ms)}` : 'nothing live served requests'}>
          <BarChart title="p99 duration per deployment" bars={bars((r) => r.p99Ms, 'neutral')} format={duration} />
        </Tile>
        <Tile label="Cold starts" value={String(rows.reduce((n, r) => n + r.coldStarts, 0))} detail="function environments started">
          <BarChart title="Cold starts per deployment" bars={bars((r) => r.coldStarts, 'neutral')} format={(v) => `${v} cold starts`} />
        </Tile>
        <Tile
          label="Usage (30 days)"
          value={costs.data ? dollars(costs.data.total) : '—'}
          detail={costs.data ? `estimate at AWS prices of ${costs.data.prices.asOf}, before free tiers` : (costs.error ?? '')}
        >
          {costs.data ? (
            <ul className="usage" data-testid="usage">
              {costs.data.deployments.map((d) => (
                <li key={d.id} className="small mono">
                  {shortId(d.id)}: {dollars(d.cost.total)} · {d.usage.invocations} invocations · {d.usage.gbSeconds.toFixed(2)} GB-s · {megabytes(d.usage.bytesOut)} out
                </li>
              ))}
            </ul>
          ) : null}
        </Tile>
      </div>

      <div className="panel" data-testid="alarm">
        <h3>Alarm on production errors</h3>
        <p className="muted">
          {rule
            ? `Raised when more than ${percent(rule.maxErrorRate)} of at least ${rule.minRequests} requests in ${rule.windowSeconds} s answer 5xx${rule.autoRollback ? `; a deployment that breaches within ${rule.watchSeconds} s of going live is rolled back` : ''}. Now: ${alarm.data?.status === 'raised' ? 'raised' : 'ok'}.`
            : 'No rule yet: set one to be told of a bad deployment, and to roll it back automatically.'}
        </p>
        <ActionForm action={setAlarmRuleAction} csrf={csrf} hidden={{ project: projectId }} name="alarm" submitLabel="Save alarm rule">
          <label className="label">
            Max 5xx rate (%) <input name="maxErrorRatePercent" type="number" min={0} max={100} step="any" required defaultValue={rule ? rule.maxErrorRate * 100 : 5} />
          </label>
          <label className="label">
            Window (seconds) <input name="windowSeconds" type="number" min={10} max={86400} required defaultValue={rule?.windowSeconds ?? 300} />
          </label>
          <label className="label">
            Minimum requests <input name="minRequests" type="number" min={1} required defaultValue={rule?.minRequests ?? 20} />
          </label>
          <label className="label">
            Watch period (seconds) <input name="watchSeconds" type="number" min={0} max={86400} defaultValue={rule?.watchSeconds ?? 600} />
          </label>
          <label>
            <input name="autoRollback" type="checkbox" defaultChecked={rule?.autoRollback ?? false} /> Roll back automatically
          </label>
        </ActionForm>
      </div>
    </>
  );
}
