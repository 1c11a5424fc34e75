import { ActionForm } from '../../../../../components/action-form.tsx';
import { EmptyState, Section, When } from '../../../../../components/bits.tsx';
import { createSubscriptionAction, removeSubscriptionAction } from '../../../../../lib/server/actions.ts';
import { context } from '../../../../../lib/server/context.ts';
import { projectSubscriptions } from '../../../../../lib/server/subscriptions.ts';

export async function SubscriptionsSection({ projectId, csrf }: { projectId: string; csrf: string }) {
  const subs = await projectSubscriptions(context().store, projectId);
  const hidden = { project: projectId };
  return (
    <Section title="Webhook subscriptions" description="Events matching a pattern are POSTed to your URL, signed with the subscription's secret.">
      {subs.length === 0 ? (
        <EmptyState title="No subscriptions">Send deployment events to Slack, a CI system or your own service.</EmptyState>
      ) : (
        <ul className="domain-list" data-testid="subscriptions">
          {subs.map((s) => (
            <li key={s.subscriptionId} className="panel domain">
              <div className="domain-head">
                <span className="mono strong wrap">{s.targetUrl}</span>
                {s.kind === 'runtime-logs' ? (
                  <span className="muted" data-testid="subscription-kind">log drain · runtime logs in batches</span>
                ) : (
                  <span className="muted">
                    {s.delivered} delivered · {s.failed} failed · last <When iso={s.lastDeliveryAt} />
                  </span>
                )}
                <ActionForm action={removeSubscriptionAction} csrf={csrf} hidden={{ ...hidden, subscriptionId: s.subscriptionId }} variant="danger" submitLabel="Remove" confirm={{ title: 'Remove this subscription?', body: <p>No more events are sent to {s.targetUrl}.</p> }} />
              </div>
              {s.description ? <p>{s.description}</p> : null}
              <pre className="json small">{s.eventPattern}</pre>
            </li>
          ))}
        </ul>
      )}
      <ActionForm action={createSubscriptionAction} csrf={csrf} hidden={hidden} name="create-subscription" submitLabel="Create subscription" className="stack">
        <label className="label">
          Target URL
          <input name="targetUrl" type="url" required placeholder="https://hooks.example.com/shiplog" autoComplete="off" />
        </label>
        <label className="label">
          Event pattern <span className="muted">(EventBridge syntax)</span>
          <textarea name="eventPattern" rows={3} className="mono" defaultValue={'{"detail-type":["DeploymentLive","DeploymentFailed"]}'} spellCheck={false} />
        </label>
        <label className="label">
          Description <span className="muted">(optional)</span>
          <input name="description" maxLength={500} />
        </label>
      </ActionForm>
    </Section>
  );
}
