import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { streams } from '../../../../../events/index.ts';
import { EmptyState } from '../../../../components/bits.tsx';
import { CopyButton } from '../../../../components/copy-button.tsx';
import { LiveRefresh } from '../../../../components/live-refresh.tsx';
import { ProjectTabs } from '../../../../components/project-tabs.tsx';
import { requireSession } from '../../../../lib/auth/index.ts';
import { hostOf } from '../../../../lib/format.ts';
import { context } from '../../../../lib/server/context.ts';

export default async function ProjectLayout({ children, params }: { children: ReactNode; params: Promise<{ project: string }> }) {
  const { project: raw } = await params;
  const projectId = decodeURIComponent(raw);
  await requireSession(`/projects/${raw}`);
  const { models, store } = context();
  const project = await models.getProject(projectId);
  if (!project) {
    // Created a moment ago: in the store already, not yet in the read model.
    if ((await store.streamVersion(streams.project(projectId)).catch(() => 0)) === 0) notFound();
    return (
      <EmptyState title={`Setting up ${projectId}…`} action={<LiveRefresh active everyMs={1000} />}>
        The project was created; its page appears in a moment.
      </EmptyState>
    );
  }
  const repo = project.repository;
  return (
    <>
      <div className="page-head">
        <div>
          <Link href="/" className="crumb">
            ← Projects
          </Link>
          <h1>{project.name ?? project.projectId}</h1>
          <div className="head-facts">
            <a href={project.productionUrl} target="_blank" rel="noreferrer" className="url" data-testid="production-url">
              {hostOf(project.productionUrl)}
            </a>
            <CopyButton value={project.productionUrl} label="Copy URL" />
            {repo ? <span className="muted mono">{repo.source === 'github' ? `github.com/${repo.fullName}` : `git: ${repo.fullName}`}</span> : null}
          </div>
        </div>
      </div>
      <ProjectTabs base={`/projects/${encodeURIComponent(projectId)}`} projectId={projectId} />
      {children}
    </>
  );
}
