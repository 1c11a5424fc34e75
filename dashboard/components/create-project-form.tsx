'use client';

import Link from 'next/link';
import { createProjectAction } from '../lib/server/actions.ts';
import { ActionForm } from './action-form.tsx';
import { CopyButton } from './copy-button.tsx';

const Secret = ({ label, value, testId }: { label: string; value: string; testId: string }) => (
  <div className="credential">
    <span className="label-text">{label}</span>
    <div className="credential-row">
      <code data-testid={testId}>{value}</code>
      <CopyButton value={value} />
    </div>
  </div>
);

export function CreateProjectForm({ csrf }: { csrf: string }) {
  return (
    <ActionForm
      action={createProjectAction}
      csrf={csrf}
      name="create-project"
      submitLabel="Create project"
      pendingLabel="Creating…"
      className="stack"
      onSuccess={(state) => (
        <div className="created" data-testid="project-created">
          <h2>Ready for its first push</h2>
          <p className="muted">These are shown once. The git remote carries the push token.</p>
          {state.data?.gitRemoteUrl ? (
            <>
              <Secret label="Git remote" value={state.data.gitRemoteUrl} testId="git-remote" />
              <pre className="snippet">{`git remote add shiplog ${state.data.gitRemoteUrl}\ngit push shiplog main`}</pre>
            </>
          ) : (
            <pre className="snippet" data-testid="deploy-snippet">{`shiplog deploy . --project ${state.data?.projectId ?? ''} --prod`}</pre>
          )}
          <Secret label="GitHub webhook URL" value={state.data?.webhookUrl ?? ''} testId="webhook-url" />
          <Secret label="Webhook secret" value={state.data?.webhookSecret ?? ''} testId="webhook-secret" />
          <Link href={`/projects/${encodeURIComponent(state.data?.projectId ?? '')}`} className="button primary">
            Go to the project
          </Link>
        </div>
      )}
    >
      <label className="label">
        Name
        <input name="name" required maxLength={40} placeholder="web" autoComplete="off" />
        <span className="hint">Lower-case letters, digits and dashes. It becomes the production host: name.localhost</span>
      </label>
      <label className="label">
        Repository <span className="muted">(optional)</span>
        <input name="repo" placeholder="acme/web, a git URL, or empty for shiplog's own git remote" autoComplete="off" />
      </label>
      <label className="label">
        Production branch
        <input name="productionBranch" defaultValue="main" required autoComplete="off" />
      </label>
    </ActionForm>
  );
}
