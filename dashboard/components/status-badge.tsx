import type { ReactNode } from 'react';
import type { DeploymentStatus } from '../../projections/index.ts';

const labels: Record<DeploymentStatus, string> = {
  queued: 'Queued',
  building: 'Building',
  deploying: 'Deploying',
  ready: 'Ready',
  error: 'Error',
  canceled: 'Canceled',
  rejected: 'Skipped',
};

const hints: Partial<Record<DeploymentStatus, string>> = {
  rejected: 'Built, but not made live: a newer deployment went first, or the alias is pinned by a rollback.',
};

export const isInProgress = (status: DeploymentStatus): boolean => status === 'queued' || status === 'building' || status === 'deploying';

/** A deployment's status as a coloured dot and a word. */
export function StatusBadge({ status }: { status: DeploymentStatus }) {
  return (
    <span className={`badge status-${status}`} data-status={status} title={hints[status]}>
      <span className="dot" aria-hidden />
      {labels[status]}
    </span>
  );
}

/** A small neutral label: target, alias, "Current". */
export function Chip({ children, tone = 'neutral' }: { children: ReactNode; tone?: 'neutral' | 'blue' | 'green' | 'amber' | 'red' }) {
  return <span className={`chip ${tone}`}>{children}</span>;
}
