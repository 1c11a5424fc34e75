import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { ActionForm } from '../../../../components/action-form.tsx';
import { EmptyState, Section, When } from '../../../../components/bits.tsx';
import { DeploymentTable } from '../../../../components/deployment-table.tsx';
import { LiveRefresh } from '../../../../components/live-refresh.tsx';
import { isInProgress, StatusBadge } from '../../../../components/status-badge.tsx';
import { requireSession } from '../../../../lib/auth/index.ts';
import { hostOf, shortId, shortSha } from '../../../../lib/format.ts';
import { rollbackAction } from '../../../../lib/server/actions.ts';
import { context } from '../../../../lib/server/context.ts';
import { deploymentsPage, filterFrom } from '../../../../lib/server/deployments.ts';
import { MetricsPanel, MetricsSkeleton } from './metrics-panel.tsx';
import { RuntimePanel } from './runtime-panel.tsx';

type Params = Promise<{ project: string }>;
type Search = Promise<Record<string, string | string[] | undefined>>;

const statuses = ['queued', 'building', 'deploying', 'ready', 'error', 'canceled', 'rejected'];

export const metadata: Metadata = { title: 'Project' };

export default async function ProjectPage({ params, searchParams }: { params: Params; searchParams: Search }) {
  const projectId = decodeURIComponent((await params).project);
  const search = await searchParams;
  const session = await requireSession(`/projects/${encodeURIComponent(projectId)}`);
  const { models } = context();
  const filter = filterFrom(search);
  const cursor = typeof search.cursor === 'string' ? search.cursor : null;
  const [project, page] = await Promise.all([models.getProject(projectId), deploymentsPage(models, projectId, filter, { limit: 20, cursor })]);
  if (!project) return null; // the layout answers 404
  const live = project.liveDeploymentId ? await models.getDeployment(project.liveDeploymentId) : undefined;
  const busy = page.items.some((d) => isInProgress(d.status));
  const base = `/projects/${encodeURIComponent(projectId)}`;
  const query = (extra: Record<string, string>) => `${base}?${new URLSearchParams({ ...filter, ...extra }).toString()}`;
  const filtered = Boolean(filter.status || filter.target || filter.branch);

  return (
    <>
      <Section title="Production" actions={<LiveRefresh active={busy} />}>
        <div className="panel production" data-testid="production">
          {live ? (
            <>
              <div className="production-main">
                <StatusBadge status={live.status} />
                <Link href={`/deployments/${live.deploymentId}`} className="mono strong" data-testid="live-deployment" data-deployment={live.deploymentId}>
                  {shortId(live.deploymentId)}
                </Link>
                <span className="mono">
                  {live.branch} · {shortSha(live.commit?.sha)}
                </span>
                <span className="commit-message">{live.commit?.message.split('\n')[0]}</span>
                <span className="muted">
                  live <When iso={project.aliases.production?.since ?? live.live?.at} />
                  {project.aliases.production?.reason === 'rollback' ? ' · by rollback (pinned)' : ''}
                </span>
              </div>
              <div className="production-actions">
                <a className="button secondary" href={project.productionUrl} target="_blank" rel="noreferrer">
                  Visit {hostOf(project.productionUrl)}
                </a>
                <ActionForm
                  action={rollbackAction}
                  csrf={session.csrf}
                  hidden={{ project: projectId }}
                  name="rollback"
                  variant="danger"
                  submitLabel="Roll back"
                  confirm={{
                    title: 'Roll back production?',
                    body: <p>Production goes back to the deployment that was live before {shortId(live.deploymentId)}, at once and with no rebuild. It stays pinned there until you promote a deployment.</p>,
                    confirmLabel: 'Roll back now',
                  }}
                >
                  <label className="label">
                    Reason <span className="muted">(recorded in the event)</span>
                    <input name="reason" maxLength={1000} placeholder="500s on /cart" />
                  </label>
                </ActionForm>
              </div>
            </>
          ) : (
            <p className="muted">Nothing is live yet. The first deployment of the production branch goes live when it is ready.</p>
          )}
        </div>
      </Section>

      <Section title="Deployments" description={`${project.deploymentCount} in all`}>
        <form className="filters" method="get" action={base}>
          <select name="status" defaultValue={filter.status} aria-label="Status">
            <option value="">All statuses</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <select name="target" defaultValue={filter.target} aria-label="Environment">
            <option value="">All environments</option>
            <option value="production">Production</option>
            <option value="preview">Preview</option>
          </select>
          <input name="branch" defaultValue={filter.branch} placeholder="Branch" aria-label="Branch" />
          <button type="submit" className="button secondary">
            Filter
          </button>
          {filtered ? (
            <Link href={base} className="button ghost">
              Clear
            </Link>
          ) : null}
        </form>
        {page.items.length === 0 ? (
          filtered ? (
            <EmptyState title="No deployments match">Looked at the {page.scanned} most recent deployments. Widen the filter, or clear it.</EmptyState>
          ) : (
            <EmptyState title="No deployments yet">
              <p>Push the production branch ({project.settings?.productionBranch ?? 'main'}) to the project&apos;s git remote and the deployment shows up here.</p>
            </EmptyState>
          )
        ) : (
          <DeploymentTable items={page.items} liveId={project.liveDeploymentId} />
        )}
        <div className="pager">
          {cursor ? (
            <Link href={query({})} className="button ghost">
              ← Newest
            </Link>
          ) : (
            <span />
          )}
          {page.cursor ? (
            <Link href={query({ cursor: page.cursor })} className="button secondary" data-testid="older">
              Older →
            </Link>
          ) : null}
        </div>
      </Section>

      <Section title="Runtime" description="Requests each deployment served in the last hour, what 30 days of usage would cost on AWS, and the alarm that guards production.">
        <Suspense fallback={<MetricsSkeleton />}>
          <RuntimePanel projectId={projectId} csrf={session.csrf} />
        </Suspense>
      </Section>

      <Section title="Delivery" description="The DORA four for production over the last 30 days, week by week for 12 weeks.">
        <Suspense fallback={<MetricsSkeleton />}>
          <MetricsPanel projectId={projectId} />
        </Suspense>
      </Section>
    </>
  );
}
