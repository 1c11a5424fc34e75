import { policies, EventType, Source } from '../events/index.ts';
import type { DeliveryPolicy, EventPattern, Subscription } from './topology-types.ts';

export type { DeliveryPolicy, EventPattern, Subscription } from './topology-types.ts';

/** The delivery policies the subscriptions use (`events/bus/policies.ts`). */
export { policies };

/**
 * Declares one subscription.
 *
 * @example
 * subscribe('DeployOnBuildSucceeded', 'infra/aws/functions/deploy.onBuildSucceeded',
 *   { source: [Source.build], 'detail-type': [EventType.BuildSucceeded] }, 'deploys a finished build')
 */
export const subscribe = (
  name: string,
  handler: string,
  pattern: EventPattern,
  description: string,
  policy: DeliveryPolicy = policies.service,
  kind: Subscription['kind'] = 'service',
): Subscription => ({ name, handler, pattern, description, policy: { ...policy }, kind });

const allShiplogEvents: EventPattern = { source: [{ prefix: 'shiplog.' }] };

/**
 * Every subscription of shiplog, declared once. `infra/aws` turns each into an EventBridge rule,
 * a Lambda target with this retry policy and an SQS dead-letter queue; `infra/local` runs the
 * same handlers on the local bus with the same patterns and policies.
 *
 * @example
 * subscriptions.find((s) => s.name === 'Projections')?.pattern;
 */
export const subscriptions: Subscription[] = [
  subscribe(
    'BuildOnDeploymentRequested',
    'infra/aws/functions/build.onDeploymentRequested',
    { source: [Source.ingest], 'detail-type': [EventType.DeploymentRequested] },
    'queues a build for every requested deployment',
  ),
  subscribe(
    'DeployOnBuildSucceeded',
    'infra/aws/functions/deploy.onBuildSucceeded',
    { source: [Source.build], 'detail-type': [EventType.BuildSucceeded] },
    'publishes a finished build and makes it live unless a newer one is',
  ),
  subscribe(
    'DeployOnBuildEnded',
    'infra/aws/functions/deploy.onBuildEnded',
    { source: [Source.build], 'detail-type': [EventType.BuildFailed, EventType.BuildTimedOut] },
    'records the deployment of a failed build as failed; what is live stays live',
  ),
  subscribe(
    'DeployOnReleaseRequest',
    'infra/aws/functions/deploy.onReleaseRequest',
    { source: [Source.ingest], 'detail-type': [EventType.RollbackRequested, EventType.PromoteRequested] },
    'rolls an alias back or promotes a deployment, with no rebuild',
  ),
  subscribe(
    'DeployOnMountsChanged',
    'infra/aws/functions/deploy.onMountsChanged',
    { source: [Source.ingest], 'detail-type': [EventType.ProjectMountsChanged] },
    'writes a project\'s path mounts into the sites\' routing state (AWS); locally the router reads them',
  ),
  subscribe(
    'DomainsOnDomainAdded',
    'infra/aws/functions/domains.onDomainAdded',
    { source: [Source.domains], 'detail-type': [EventType.DomainAdded] },
    'requests a certificate for an added domain and publishes the DNS records to create',
  ),
  subscribe(
    'DomainsOnValidationPending',
    'infra/aws/functions/domains.onValidationPending',
    { source: [Source.domains], 'detail-type': [EventType.DomainValidationPending] },
    'records the certificate once issued and makes the domain active, or failed',
  ),
  subscribe(
    'DomainsOnDomainRemoved',
    'infra/aws/functions/domains.onDomainRemoved',
    { source: [Source.domains], 'detail-type': [EventType.DomainRemoved] },
    "releases a removed domain's certificate",
  ),
  subscribe(
    'ObservabilityOnAlarmRaised',
    'infra/aws/functions/observability.onAlarmRaised',
    { source: [Source.observability], 'detail-type': [EventType.AlarmRaised] },
    'rolls production back when an alarm that acts was raised within the deployment\'s watch period',
  ),
  subscribe(
    'Projections',
    'infra/aws/functions/projections.handler',
    allShiplogEvents,
    'folds every event into the read models the dashboard and the CLI query',
    policies.projection,
    'projection',
  ),
  subscribe(
    'SubscriptionsDeliver',
    'infra/aws/functions/subscriptions.onEvent',
    // Every source but shiplog.subscriptions: its delivery events would feed their own deliveries.
    { source: Object.values(Source).filter((s) => s !== Source.subscriptions) },
    "sends each project's events to its matching webhook subscriptions, signed",
    policies.service,
    'fanout',
  ),
];

/**
 * Event types no service reacts to, on purpose: they are facts for the history, the read models
 * and outside subscribers. Every other type must have a service subscription.
 *
 * @example
 * terminalEvents.includes(EventType.DeploymentLive); // true
 */
export const terminalEvents: readonly EventType[] = [
  EventType.ProjectCreated,
  EventType.ProjectSettingsChanged,
  EventType.EnvVarSet,
  EventType.EnvVarRemoved,
  EventType.PushReceived,
  EventType.PushIgnored,
  EventType.BuildQueued,
  EventType.BuildStarted,
  EventType.BuildCanceled,
  EventType.AssetsUploaded,
  EventType.FunctionVersionPublished,
  EventType.AliasShifted,
  EventType.DeploymentLive,
  EventType.DeploymentFailed,
  EventType.DeploymentRejected,
  EventType.RolledBack,
  EventType.RollbackRejected,
  EventType.Promoted,
  EventType.CertificateRequested,
  EventType.CertificateIssued,
  EventType.DomainActive,
  EventType.DomainFailed,
  EventType.AlarmRuleSet,
  EventType.AlarmCleared,
  // Outside subscriptions are recorded; their service is not built yet.
  EventType.SubscriptionCreated,
  EventType.SubscriptionRemoved,
  EventType.DeliverySucceeded,
  EventType.DeliveryFailed,
];

/** The sources a subscription pattern may name. */
export const knownSources: readonly string[] = Object.values(Source);
