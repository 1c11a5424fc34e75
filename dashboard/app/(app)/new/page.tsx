import type { Metadata } from 'next';
import Link from 'next/link';
import { CreateProjectForm } from '../../../components/create-project-form.tsx';
import { requireSession } from '../../../lib/auth/index.ts';

export const metadata: Metadata = { title: 'New project' };

export default async function NewProjectPage() {
  const session = await requireSession('/new');
  return (
    <>
      <div className="page-head">
        <div>
          <Link href="/" className="crumb">
            ← Projects
          </Link>
          <h1>New project</h1>
          <p className="muted">A Next.js app in git. shiplog gives it a git remote; pushing to it deploys.</p>
        </div>
      </div>
      <div className="panel narrow">
        <CreateProjectForm csrf={session.csrf} />
      </div>
    </>
  );
}
