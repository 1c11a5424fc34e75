import type { Actor } from '../events/index.ts';
import type { ProjectionEvent } from './types.ts';

const short = (sha: string): string => sha.slice(0, 7);
const firstLine = (text: string): string => text.split('\n', 1)[0] ?? '';
const who = (a: Actor): string => `${a.kind}:${a.id}`;

/**
 * One line saying what an event means, for timelines and the activity feed.
 *
 * @example
 * describeEvent(buildFailed); // 'build b1 failed (build-failed, exit 1): next build exited with code 1'
 */
export const describeEvent = (e: ProjectionEvent): string => {
  switch (e.type) {
    case 'ProjectCreated': return `project ${e.data.projectId} created from ${e.data.repository.fullName}`;
    case 'ProjectSettingsChanged': return `settings changed: ${e.data.changed.join(', ')}`;
    case 'ProjectMountsChanged': return e.data.change.op === 'add' ? `${e.data.change.project} mounted at ${e.data.change.prefix}` : `${e.data.change.project} unmounted from ${e.data.change.prefix}`;
    case 'EnvVarSet': return `env var ${e.data.name} (${e.data.target}) set to version ${e.data.version}${e.data.sensitive ? ', sensitive' : ''}`;
    case 'EnvVarRemoved': return `env var ${e.data.name} (${e.data.target}) removed at version ${e.data.version}`;
    case 'PushReceived': return `${e.data.pusher.username ?? e.data.pusher.name} pushed ${e.data.ref} ${short(e.data.before)}..${short(e.data.after)}${e.data.forced ? ' (forced)' : ''}`;
    case 'PushIgnored': return `push ${short(e.data.sha)} to ${e.data.ref} ignored: ${e.data.reason}`;
    case 'DeploymentRequested': return `${e.data.trigger} deployment of ${e.data.branch}@${short(e.data.commit.sha)} to ${e.data.alias} requested by ${who(e.data.requestedBy)}`;
    case 'RollbackRequested': return `rollback of ${e.data.alias}${e.data.toDeploymentId ? ` to ${e.data.toDeploymentId}` : ''} requested by ${who(e.data.requestedBy)}: ${e.data.reason}`;
    case 'PromoteRequested': return `promotion of ${e.data.deploymentId} to ${e.data.alias} requested by ${who(e.data.requestedBy)}`;
    case 'BuildQueued': return `build ${e.data.buildId} queued`;
    case 'BuildStarted': return `build ${e.data.buildId} started on ${e.data.runner}`;
    case 'BuildSucceeded': return `build ${e.data.buildId} succeeded in ${e.data.durations.buildMs} ms (Next ${e.data.versions.next}, OpenNext ${e.data.versions.opennext})`;
    case 'BuildFailed': return `build ${e.data.buildId} failed (${e.data.reason}${e.data.exitCode === null ? '' : `, exit ${e.data.exitCode}`}): ${firstLine(e.data.message)}`;
    case 'BuildCanceled': return `build ${e.data.buildId} canceled: ${e.data.reason}${e.data.supersededBy ? ` by ${e.data.supersededBy}` : ''}`;
    case 'BuildTimedOut': return `build ${e.data.buildId} timed out after ${e.data.limitSeconds} s (${e.data.detectedBy})`;
    case 'AssetsUploaded': return `${e.data.fileCount} assets uploaded (${e.data.totalBytes} bytes)`;
    case 'FunctionVersionPublished': return `${e.data.role} function published as version ${e.data.version}`;
    case 'AliasShifted': return `${e.data.alias} now serves ${e.data.toDeploymentId} (${e.data.reason})`;
    case 'DeploymentLive': return `live on ${e.data.alias} after ${e.data.totalMs} ms`;
    case 'DeploymentFailed': return `deployment failed at ${e.data.stage}: ${firstLine(e.data.message)}`;
    case 'DeploymentRejected': return `deployment rejected (${e.data.reason})${e.data.liveDeploymentId ? `, ${e.data.liveDeploymentId} stays live` : ''}`;
    case 'RolledBack': return `${e.data.alias} rolled back from ${e.data.fromDeploymentId} to ${e.data.toDeploymentId} by ${who(e.data.requestedBy)}: ${e.data.reason}`;
    case 'RollbackRejected': return `rollback of ${e.data.alias}${e.data.toDeploymentId ? ` to ${e.data.toDeploymentId}` : ''} refused: ${e.data.reason}`;
    case 'Promoted': return `${e.data.deploymentId} promoted to ${e.data.alias} by ${who(e.data.requestedBy)}`;
    case 'DomainAdded': return `domain ${e.data.host} added for ${e.data.alias}${e.data.redirectTo ? ` (redirects to ${e.data.redirectTo})` : ''}`;
    case 'CertificateRequested': return `certificate requested for ${e.data.host} (${e.data.provider})`;
    case 'DomainValidationPending': return `${e.data.host} waits for ${e.data.records.length} DNS record(s)`;
    case 'CertificateIssued': return `certificate for ${e.data.host} issued by ${e.data.issuer}`;
    case 'DomainActive': return `${e.data.host} serves ${e.data.alias}`;
    case 'DomainFailed': return `domain ${e.data.host} failed: ${e.data.reason}`;
    case 'DomainRemoved': return `domain ${e.data.host} removed`;
    case 'AlarmRaised': return `${e.data.severity} alarm ${e.data.metric}: ${e.data.observed} over ${e.data.threshold}`;
    case 'AlarmCleared': return `alarm ${e.data.metric} cleared (${e.data.observed})`;
    case 'AlarmRuleSet': return `alarm ${e.data.alarmId}: 5xx rate over ${e.data.maxErrorRate} in ${e.data.windowSeconds} s (at least ${e.data.minRequests} requests)${e.data.autoRollback ? ', rolls back' : ''}`;
    case 'SubscriptionCreated': return `webhook ${e.data.subscriptionId} created for ${e.data.targetUrl}`;
    case 'SubscriptionRemoved': return `webhook ${e.data.subscriptionId} removed (${e.data.reason})`;
    case 'DeliverySucceeded': return `${e.data.eventType} delivered to ${e.data.subscriptionId} (${e.data.statusCode})`;
    case 'DeliveryFailed': return `${e.data.eventType} delivery to ${e.data.subscriptionId} failed: ${e.data.error}`;
    default: return (e as { type: string }).type;
  }
};

/**
 * Who did it, as the audit feed names them: the person behind a push or a request when the
 * event says so, else the event's actor.
 *
 * @example
 * actorOf(pushReceived); // { kind: 'github', id: 'ada', name: 'Ada Lovelace' }
 */
export const actorOf = (e: ProjectionEvent): Actor & { name?: string } => {
  switch (e.type) {
    case 'PushReceived': {
      const p = e.data.pusher;
      return { kind: e.data.source, id: p.username ?? p.email ?? p.name, name: p.name };
    }
    case 'DeploymentRequested':
    case 'RollbackRequested':
    case 'PromoteRequested':
    case 'RolledBack':
    case 'RollbackRejected':
    case 'Promoted':
      return e.data.requestedBy;
    case 'SubscriptionCreated':
      return e.data.createdBy;
    default:
      return e.metadata.actor;
  }
};
