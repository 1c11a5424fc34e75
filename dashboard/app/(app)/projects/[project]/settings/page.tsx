import type { Metadata } from 'next';
import { Suspense } from 'react';
import { ActionForm } from '../../../../../components/action-form.tsx';
import { EmptyState, Section, Skeleton, When } from '../../../../../components/bits.tsx';
import { Chip } from '../../../../../components/status-badge.tsx';
import { requireSession } from '../../../../../lib/auth/index.ts';
import { removeEnvVarAction, setEnvVarAction, updateSettingsAction } from '../../../../../lib/server/actions.ts';
import { context } from '../../../../../lib/server/context.ts';
import { lastInstall } from '../../../../../lib/server/install.ts';
import { DomainsSection } from './domains-section.tsx';
import { MountsSection } from './mounts-section.tsx';
import { SubscriptionsSection } from './subscriptions-section.tsx';

// Env var values are write-only: the platform never returns them, so every value shows masked.
const MASK = '••••••••••••';

export const metadata: Metadata = { title: 'Settings' };

export default async function SettingsPage({ params }: { params: Promise<{ project: string }> }) {
  const projectId = decodeURIComponent((await params).project);
  const session = await requireSession(`/projects/${encodeURIComponent(projectId)}/settings`);
  const { models } = context();
  const [project, env, installed] = await Promise.all([models.getProject(projectId), models.listEnvVars(projectId), lastInstall(projectId).catch(() => undefined)]);
  if (!project) return null;
  const s = project.settings;
  const hidden = { project: projectId };

  return (
    <>
      <Section title="Environment variables" description="Values are encrypted and write-only: set or replace them here, they are never shown again. A new value applies from the next deployment.">
        {env.length === 0 ? (
          <EmptyState title="No environment variables">Add the first one below. Secrets (API keys, database URLs) stay write-only.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="env-vars">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Value</th>
                  <th>Environment</th>
                  <th>Version</th>
                  <th>Updated</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {env.map((v) => (
                  <tr key={`${v.target}:${v.name}`} data-env={v.name}>
                    <td data-label="Name" className="mono strong">
                      {v.name} {v.sensitive ? <Chip tone="amber">Secret</Chip> : null}
                    </td>
                    <td data-label="Value" className="mono muted" aria-label="hidden value">
                      {MASK}
                    </td>
                    <td data-label="Environment">{v.target}</td>
                    <td data-label="Version" className="mono">v{v.version}</td>
                    <td data-label="Updated">
                      <When iso={v.updatedAt} /> <span className="muted">by {v.updatedBy.id}</span>
                    </td>
                    <td>
                      <ActionForm action={removeEnvVarAction} csrf={session.csrf} hidden={{ ...hidden, name: v.name, target: v.target }} variant="danger" submitLabel="Remove" confirm={{ title: `Remove ${v.name} from ${v.target}?`, body: <p>Deployments already built keep it; the next ones will not have it.</p> }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <ActionForm action={setEnvVarAction} csrf={session.csrf} hidden={hidden} name="set-env" submitLabel="Save variable" className="inline-form">
          <label className="label">
            Name
            <input name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" placeholder="DATABASE_URL" autoComplete="off" spellCheck={false} />
          </label>
          <label className="label grow">
            Value
            <input name="value" type="password" required autoComplete="new-password" placeholder="write-only" spellCheck={false} />
          </label>
          <fieldset className="checks">
            <legend>Environments</legend>
            <label><input type="checkbox" name="target" value="production" defaultChecked /> Production</label>
            <label><input type="checkbox" name="target" value="preview" defaultChecked /> Preview</label>
            <label><input type="checkbox" name="sensitive" defaultChecked /> Secret</label>
          </fieldset>
        </ActionForm>
      </Section>

      <Section title="Build settings" description="How the next deployments are built. Changing them records a ProjectSettingsChanged event.">
        <ActionForm action={updateSettingsAction} csrf={session.csrf} hidden={hidden} name="settings" submitLabel="Save settings" className="grid-form">
          <label className="label">
            Production branch
            <input name="productionBranch" defaultValue={s?.productionBranch ?? 'main'} required />
          </label>
          <label className="label">
            Preview branches
            <select name="previewBranches" defaultValue={s?.previewBranches ?? 'all'}>
              <option value="all">Deploy every other branch as a preview</option>
              <option value="none">No previews</option>
            </select>
          </label>
          <label className="label">
            Root directory
            <input name="rootDir" defaultValue={s?.build.rootDirectory ?? '.'} />
          </label>
          <label className="label">
            Node.js
            <select name="nodeVersion" defaultValue={s?.build.nodeVersion ?? '20.x'}>
              <option value="20.x">20.x</option>
              <option value="22.x">22.x</option>
            </select>
          </label>
          <label className="label">
            Install command
            <input name="installCommand" defaultValue={s?.build.installCommand ?? ''} placeholder="detected at build time" />
            {/* What the latest build ran, from its log: the detected command (and why), or the project's own. */}
            <span className="hint" data-testid="last-install">
              {installed ? (
                <>
                  Last build (<a href={`/deployments/${encodeURIComponent(installed.deploymentId)}`}>log</a>): <code>{installed.line.replace(/^install: /, '')}</code>
                </>
              ) : (
                'Empty: detected at build time from the lockfile and packageManager (npm, pnpm, yarn, bun).'
              )}
            </span>
          </label>
          <label className="label">
            Build command
            <input name="buildCommand" defaultValue={s?.build.buildCommand ?? ''} placeholder="detected at build time" />
            <span className="hint">Empty: the build script of the app&apos;s package.json, run with its package manager (npm run build, pnpm run build…); without one, next build.</span>
          </label>
          <label className="check">
            <input type="checkbox" name="autoDeploy" defaultChecked={s?.autoDeploy ?? true} /> Deploy on every push
          </label>
        </ActionForm>
      </Section>

      <Suspense fallback={<Section title="Domains"><Skeleton height={60} /></Section>}>
        <DomainsSection projectId={projectId} csrf={session.csrf} />
      </Suspense>
      <Suspense fallback={<Section title="Mounted projects"><Skeleton height={60} /></Section>}>
        <MountsSection projectId={projectId} csrf={session.csrf} />
      </Suspense>
      <Suspense fallback={<Section title="Webhook subscriptions"><Skeleton height={60} /></Section>}>
        <SubscriptionsSection projectId={projectId} csrf={session.csrf} />
      </Suspense>
    </>
  );
}
