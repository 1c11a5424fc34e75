import type { Metadata } from 'next';
import Link from 'next/link';
import { EmptyState, When } from '../../components/bits.tsx';
import { LiveRefresh } from '../../components/live-refresh.tsx';
import { isInProgress, StatusBadge } from '../../components/status-badge.tsx';
import { requireSession } from '../../lib/auth/index.ts';
import { hostOf, shortId, shortSha } from '../../lib/format.ts';
import { context } from '../../lib/server/context.ts';

export const metadata: Metadata = { title: 'Projects' };

export default async function ProjectsPage() {
  await requireSession('/');
  const { models } = context();
  const projects = (await models.listProjects()).sort((a, b) => ((b.updatedAt ?? '') < (a.updatedAt ?? '') ? -1 : 1));
  const latest = await Promise.all(projects.map(async (p) => (await models.listDeployments(p.projectId, { limit: 1 })).items[0]));
  const busy = latest.some((d) => d && isInProgress(d.status));

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Projects</h1>
          <p className="muted">Every project, what its production URL serves, and how its last deployment went.</p>
        </div>
        <div className="page-actions">
          <LiveRefresh active={busy} everyMs={3000} />
          <Link href="/new" className="button primary">
            New project
          </Link>
        </div>
      </div>
      {projects.length === 0 ? (
        <EmptyState title="No projects yet" action={<Link href="/new" className="button primary">Create your first project</Link>}>
          <p>
            A project gets a git remote: push a Next.js app to it and shiplog builds it and puts it live. From a terminal:{' '}
            <code>npx shiplog projects create web</code>
          </p>
        </EmptyState>
      ) : (
        <ul className="cards" data-testid="projects">
          {projects.map((p, i) => {
            const last = latest[i];
            return (
              <li key={p.projectId} className="card project-card" data-project={p.projectId}>
                <div className="card-head">
                  <Link href={`/projects/${encodeURIComponent(p.projectId)}`} className="card-title">
                    {p.name ?? p.projectId}
                  </Link>
                  {last ? <StatusBadge status={last.status} /> : <span className="chip neutral">No deployments</span>}
                </div>
                <a href={p.productionUrl} className="url" target="_blank" rel="noreferrer">
                  {hostOf(p.productionUrl)}
                </a>
                <dl className="card-facts">
                  <div>
                    <dt>Live</dt>
                    <dd>
                      {p.liveDeploymentId ? (
                        <Link href={`/deployments/${p.liveDeploymentId}`} className="mono">
                          {shortId(p.liveDeploymentId)}
                        </Link>
                      ) : (
                        <span className="muted">nothing yet</span>
                      )}
                    </dd>
                  </div>
                  <div>
                    <dt>Last</dt>
                    <dd>
                      {last ? (
                        <>
                          <span className="mono">{last.branch ?? '—'}</span> · <span className="mono">{shortSha(last.commit?.sha)}</span> · <When iso={last.requestedAt} />
                        </>
                      ) : (
                        <span className="muted">push to deploy</span>
                      )}
                    </dd>
                  </div>
                </dl>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
