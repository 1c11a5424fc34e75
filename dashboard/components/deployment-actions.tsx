import type { DeploymentView } from '../../projections/index.ts';
import { shortId } from '../lib/format.ts';
import { promoteAction, redeployAction, rollbackAction } from '../lib/server/actions.ts';
import { ActionForm } from './action-form.tsx';

type D = Pick<DeploymentView, 'deploymentId' | 'status' | 'target' | 'live'>;

/** Redeploy, promote and roll back, each behind a confirmation. Only what applies is offered. */
export function DeploymentActions({ csrf, deployment: d, projectId, isCurrent }: { csrf: string; deployment: D; projectId: string; isCurrent: boolean }) {
  const id = shortId(d.deploymentId);
  // Promote never rebuilds, so only a production build can be promoted; a preview is built for production instead.
  const canPromote = d.status === 'ready' && !isCurrent && d.target === 'production';
  const canBuildForProduction = d.target !== 'production';
  const canRollBack = d.target === 'production' && d.live !== null && !isCurrent;
  return (
    <div className="page-actions" data-testid="deployment-actions">
      {canRollBack ? (
        <ActionForm
          action={rollbackAction}
          csrf={csrf}
          name="rollback-to"
          hidden={{ project: projectId, to: d.deploymentId }}
          variant="danger"
          submitLabel="Roll back to this"
          confirm={{
            title: `Roll back production to ${id}?`,
            body: <p>Production serves {id} again at once, with no rebuild, and stays pinned to it until you promote a deployment.</p>,
            confirmLabel: 'Roll back now',
          }}
        >
          <label className="label">
            Reason <span className="muted">(recorded in the event)</span>
            <input name="reason" maxLength={1000} />
          </label>
        </ActionForm>
      ) : null}
      {canPromote ? (
        <ActionForm
          action={promoteAction}
          csrf={csrf}
          name="promote"
          hidden={{ deploymentId: d.deploymentId }}
          variant="secondary"
          submitLabel="Promote"
          confirm={{
            title: `Promote ${id} to production?`,
            body: <p>Production switches to this deployment at once, with no rebuild, and is unpinned.</p>,
            confirmLabel: 'Promote',
          }}
        >
          <label className="label">
            Reason <span className="muted">(optional)</span>
            <input name="reason" maxLength={1000} />
          </label>
        </ActionForm>
      ) : null}
      {canBuildForProduction ? (
        <ActionForm
          action={redeployAction}
          csrf={csrf}
          name="build-for-production"
          hidden={{ deploymentId: d.deploymentId, target: 'production', settings: 'current' }}
          variant="secondary"
          submitLabel="Build for production"
          confirm={{
            title: `Build ${id} for production?`,
            body: <p>Builds this preview&apos;s commit again with the production environment as a new deployment, which goes live when ready.</p>,
            confirmLabel: 'Build for production',
          }}
        />
      ) : null}
      <ActionForm
        action={redeployAction}
        csrf={csrf}
        name="redeploy"
        hidden={{ deploymentId: d.deploymentId }}
        variant="secondary"
        submitLabel="Redeploy"
        confirm={{ title: `Redeploy ${id}?`, body: <p>Builds the same commit again as a new deployment.</p>, confirmLabel: 'Redeploy' }}
      >
        <label className="label">
          Settings and env
          <select name="settings" defaultValue="current">
            <option value="current">The project&apos;s current ones</option>
            <option value="source">Exactly this deployment&apos;s</option>
          </select>
        </label>
      </ActionForm>
    </div>
  );
}
