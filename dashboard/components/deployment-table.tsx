import Link from 'next/link';
import type { DeploymentListItem } from '../../projections/index.ts';
import { duration, shortId, shortSha } from '../lib/format.ts';
import { When } from './bits.tsx';
import { Chip, StatusBadge } from './status-badge.tsx';

/** A project's deployments: a table at desktop width, stacked rows on a phone. */
export function DeploymentTable({ items, liveId }: { items: DeploymentListItem[]; liveId: string | null }) {
  return (
    <div className="table-wrap">
      <table className="table deployments" data-testid="deployments">
        <thead>
          <tr>
            <th>Deployment</th>
            <th>Status</th>
            <th>Source</th>
            <th>Author</th>
            <th className="num">Build</th>
            <th className="num">Total</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.deploymentId} data-deployment={d.deploymentId}>
              <td data-label="Deployment">
                <Link href={`/deployments/${d.deploymentId}`} className="mono strong">
                  {shortId(d.deploymentId)}
                </Link>
                <div className="row-chips">
                  {d.target ? <Chip tone={d.target === 'production' ? 'blue' : 'neutral'}>{d.target === 'production' ? 'Production' : 'Preview'}</Chip> : null}
                  {d.deploymentId === liveId ? <Chip tone="green">Current</Chip> : null}
                  {d.trigger && d.trigger !== 'push' ? <Chip>{d.trigger}</Chip> : null}
                </div>
              </td>
              <td data-label="Status">
                <StatusBadge status={d.status} />
                {d.error ? <div className="row-error" title={d.error}>{d.error}</div> : null}
              </td>
              <td data-label="Source">
                <div className="mono">
                  <span className="branch">{d.branch ?? '—'}</span> <span className="muted">{shortSha(d.commit?.sha)}</span>
                </div>
                <div className="commit-message" title={d.commit?.message}>
                  {d.commit?.message ?? ''}
                </div>
              </td>
              <td data-label="Author">{d.commit?.author.name ?? d.requestedBy?.id ?? '—'}</td>
              <td data-label="Build" className="num">
                {duration(d.durations.buildMs)}
              </td>
              <td data-label="Total" className="num">
                {duration(d.durations.totalMs)}
              </td>
              <td data-label="Created">
                <When iso={d.requestedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
