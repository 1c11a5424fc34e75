import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { EmptyState, Field, Section, When } from '../../../../components/bits.tsx';
import { DeploymentActions } from '../../../../components/deployment-actions.tsx';
import { LiveRefresh } from '../../../../components/live-refresh.tsx';
import { LogView } from '../../../../components/log-view.tsx';
import { RuntimeLogView } from '../../../../components/runtime-log-view.tsx';
import { DeploymentRuntimeMetrics } from './runtime-metrics.tsx';
import { Chip, isInProgress, StatusBadge } from '../../../../components/status-badge.tsx';
import { TimeTravel } from '../../../../components/time-travel.tsx';
import { Timeline } from '../../../../components/timeline.tsx';
import { requireSession } from '../../../../lib/auth/index.ts';
import { duration, hostOf, shortId, utc } from '../../../../lib/format.ts';
import { context } from '../../../../lib/server/context.ts';
import { loadDeployment } from '../../../../lib/server/deployment.ts';

type Params = Promise<{ id: string }>;
type Search = Promise<Record<string, string | string[] | undefined>>;

export const metadata: Metadata = { title: 'Deployment' };

export default async function DeploymentPage({ params, searchParams }: { params: Params; searchParams: Search }) {
  const { id } = await params;
  const search = await searchParams;
  const session = await requireSession(`/deployments/${id}`);
  const at = typeof search.at === 'string' && /^\d+$/.test(search.at) ? Number(search.at) : null;
  const data = await loadDeployment(id, at);
  if (!data) notFound();
  const { state: d, timeline, events } = data;
  const project = d.projectId ? await context().models.getProject(d.projectId) : undefined;
  const isCurrent = project?.liveDeploymentId === d.deploymentId;
  const running = data.at === null && isInProgress(d.status);
  const byId = new Map(events.map((e) => [e.metadata.eventId, e]));
  const stops = events.map((e, i) => ({ n: i + 1, type: e.type, at: e.metadata.occurredAt }));
  const shown = data.at !== null ? events[data.at - 1] : undefined;
  const tab = search.tab === 'runtime' ? 'runtime' : 'build';
  const tabHref = (t: string) => `/deployments/${encodeURIComponent(id)}${t === 'runtime' ? '?tab=runtime' : ''}`;

  return (
    <>
      <div className="page-head">
        <div>
          {d.projectId ? (
            <Link href={`/projects/${encodeURIComponent(d.projectId)}`} className="crumb">
              ← {d.projectId}
            </Link>
          ) : null}
          <h1 className="deployment-title">
            <span className="mono">{shortId(d.deploymentId)}</span>
            <StatusBadge status={d.status} />
            {d.target ? <Chip tone={d.target === 'production' ? 'blue' : 'neutral'}>{d.target === 'production' ? 'Production' : 'Preview'}</Chip> : null}
            {isCurrent && data.at === null ? <Chip tone="green">Current production</Chip> : null}
            <LiveRefresh active={running} />
          </h1>
          <p className="muted mono small">{d.deploymentId}</p>
        </div>
        {data.at === null && project ? (
          <DeploymentActions csrf={session.csrf} deployment={d} projectId={project.projectId} isCurrent={isCurrent} />
        ) : null}
      </div>

      <TimeTravel stops={stops} at={data.at} />
      {data.at !== null && shown ? (
        <p className="banner" data-testid="travel-banner">
          As it was after event {data.at} of {events.length} ({shown.type}, {utc(shown.metadata.occurredAt)}), replayed from the event store. <Link href={`/deployments/${id}`}>Back to now</Link>
        </p>
      ) : null}

      <div className="panel overview" data-testid="overview">
        <dl className="grid-facts">
          <Field label="Status">
            <StatusBadge status={d.status} />
          </Field>
          <Field label="Deployment URL">
            {d.url && d.status === 'ready' ? (
              <a href={d.url} target="_blank" rel="noreferrer" className="url" data-testid="deployment-url">
                {hostOf(d.url)}
              </a>
            ) : (
              <span className="muted">{d.url ? `${hostOf(d.url)} (when ready)` : '—'}</span>
            )}
          </Field>
          <Field label="Aliases">
            {d.live?.aliasUrls.length ? d.live.aliasUrls.map((u) => (
              <a key={u} href={u} target="_blank" rel="noreferrer" className="url block">
                {hostOf(u)}
              </a>
            )) : <span className="muted">—</span>}
          </Field>
          <Field label="Source">
            <span className="mono">{d.branch ?? '—'}</span> <span className="mono muted">{d.commit?.sha.slice(0, 12) ?? ''}</span>
            <div className="commit-message">{d.commit?.message.split('\n')[0]}</div>
          </Field>
          <Field label="Author">{d.commit?.author.name ?? '—'}</Field>
          <Field label="Requested">
            <When iso={d.requestedAt} /> {d.trigger ? <span className="muted">by {d.trigger}</span> : null}
          </Field>
          <Field label="Durations">
            <span className="mono small">
              queued {duration(d.durations.queuedMs)} · build {duration(d.durations.buildMs)} · deploy {duration(d.durations.deployMs)} · total {duration(d.durations.totalMs)}
            </span>
          </Field>
          <Field label="Built with">{d.versions ? <span className="mono small">next {d.versions.next} · node {d.versions.node}</span> : <span className="muted">—</span>}</Field>
        </dl>
        {d.error ? (
          <div className="alert error" role="alert">
            <strong>Failed in {d.error.stage}:</strong> {d.error.message}
            {d.error.logTail.length ? <pre className="log-tail">{d.error.logTail.slice(-15).join('\n')}</pre> : null}
          </div>
        ) : null}
        {d.rejection ? (
          <div className="alert warn">
            Not made live: {d.rejection.reason === 'stale' ? 'a newer deployment went live first' : 'production is pinned by a rollback'}.
          </div>
        ) : null}
      </div>

      <Section title="Logs">
        <nav className="tabs" aria-label="Logs">
          {(['build', 'runtime'] as const).map((t) => (
            <Link key={t} href={tabHref(t)} className={tab === t ? 'tab active' : 'tab'} aria-current={tab === t ? 'page' : undefined} data-testid={`tab-${t}`}>
              {t === 'build' ? 'Build log' : 'Runtime logs'}
            </Link>
          ))}
        </nav>
        {tab === 'runtime' ? (
          <RuntimeLogView deploymentId={d.deploymentId} />
        ) : data.logError ? (
          <EmptyState title="The build log is not available">{data.logError}</EmptyState>
        ) : (
          <LogView deploymentId={d.deploymentId} initial={data.log} follow={data.at === null && (d.status === 'queued' || d.status === 'building')} />
        )}
      </Section>

      {d.projectId && d.status === 'ready' ? (
        <Section title="Requests" description="What this deployment served in the last hour, per route.">
          <DeploymentRuntimeMetrics projectId={d.projectId} deploymentId={d.deploymentId} />
        </Section>
      ) : null}

      <Section
        title="Timeline"
        description={d.timelineOmitted
          ? `This deployment's first and last events, across all services, with what caused them: ${d.timelineOmitted} events between them are left out here (the store keeps them all).`
          : 'Every event of this deployment, across all services, with what caused it.'}
      >
        {timeline.length ? <Timeline entries={timeline} events={byId} /> : <EmptyState title="No events yet" />}
      </Section>
    </>
  );
}
