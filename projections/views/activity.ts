import type { Actor, EventType } from '../../events/index.ts';
import { actorOf, describeEvent } from '../describe.ts';
import { flatString, type ProjectionEvent } from '../types.ts';

/**
 * One line of the audit feed: who did what, when.
 *
 * @example
 * (await models.activity({ projectId: 'web' })).items[0].summary; // 'env var API_KEY (production) set to version 3'
 */
export interface ActivityEntry {
  eventId: string;
  type: string;
  projectId: string;
  deploymentId: string | null;
  actor: Actor & { name?: string };
  occurredAt: string;
  summary: string;
}

/** The event types the audit feed records: what people (and GitHub on their behalf) did. */
export const auditedTypes: ReadonlySet<EventType> = new Set<EventType>([
  'ProjectCreated', 'ProjectSettingsChanged', 'ProjectMountsChanged', 'EnvVarSet', 'EnvVarRemoved', 'PushReceived', 'DeploymentRequested',
  'RollbackRequested', 'PromoteRequested', 'RolledBack', 'RollbackRejected', 'Promoted', 'DomainAdded', 'DomainRemoved',
  'SubscriptionCreated', 'SubscriptionRemoved',
]);

/** Whether an event goes into the feed (push-triggered deployments are already there as the push). */
export const isAudited = (e: ProjectionEvent): boolean =>
  auditedTypes.has(e.type) && !(e.type === 'DeploymentRequested' && e.data.trigger === 'push');

export const activityEntry = (e: ProjectionEvent): ActivityEntry => ({
  eventId: e.metadata.eventId,
  type: e.type,
  projectId: e.metadata.projectId,
  deploymentId: e.metadata.deploymentId ?? null,
  actor: actorOf(e),
  occurredAt: e.metadata.occurredAt,
  summary: flatString(describeEvent(e)),
});
