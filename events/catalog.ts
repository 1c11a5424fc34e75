import { z } from 'zod';
import * as build from './build.ts';
import * as deploy from './deploy.ts';
import * as domains from './domains.ts';
import { EventMetadata } from './envelope.ts';
import * as ingest from './ingest.ts';
import * as observability from './observability.ts';
import { StreamPrefix } from './streams.ts';
import * as subscriptions from './subscriptions.ts';

/**
 * The services of shiplog. Each owns its streams and emits with source `shiplog.<service>`.
 *
 * @example
 * Service.deploy; // 'deploy'
 */
export const Service = {
  ingest: 'ingest',
  build: 'build',
  deploy: 'deploy',
  domains: 'domains',
  observability: 'observability',
  subscriptions: 'subscriptions',
} as const;
export type Service = (typeof Service)[keyof typeof Service];

/**
 * EventBridge `source` of each service's events.
 *
 * @example
 * Source.build; // 'shiplog.build'
 */
export const Source = {
  ingest: 'shiplog.ingest',
  build: 'shiplog.build',
  deploy: 'shiplog.deploy',
  domains: 'shiplog.domains',
  observability: 'shiplog.observability',
  subscriptions: 'shiplog.subscriptions',
} as const satisfies { [S in Service]: `shiplog.${S}` };
export type Source = (typeof Source)[keyof typeof Source];

type EventSchema = z.ZodObject<{ type: z.ZodLiteral<string>; data: z.ZodObject }>;
interface Definition<E extends EventSchema> {
  service: Service;
  stream: StreamPrefix;
  deploymentScoped: boolean;
  event: E;
  description: string;
  schemaVersion: number;
}
const define = <E extends EventSchema>(
  service: Service, stream: StreamPrefix, deploymentScoped: boolean, event: E, description: string, schemaVersion = 1,
): Definition<E> => ({ service, stream, deploymentScoped, event, description, schemaVersion });

const { ingest: I, build: B, deploy: D, domains: M, observability: O, subscriptions: S } = Service;
const P = StreamPrefix;

const definitions = {
  ProjectCreated: define(I, P.project, false, ingest.ProjectCreated, 'A project was registered.'),
  ProjectSettingsChanged: define(I, P.project, false, ingest.ProjectSettingsChanged, "A project's settings changed."),
  ProjectMountsChanged: define(I, P.project, false, ingest.ProjectMountsChanged, 'A project mounted another project at a path prefix of its domain, or removed a mount.'),
  EnvVarSet: define(I, P.project, false, ingest.EnvVarSet, 'An env var got a new version (never its value).'),
  EnvVarRemoved: define(I, P.project, false, ingest.EnvVarRemoved, 'An env var was removed from a target.'),
  PushReceived: define(I, P.project, false, ingest.PushReceived, 'A git push reached shiplog.'),
  PushIgnored: define(I, P.project, false, ingest.PushIgnored, 'A push was deliberately not deployed.'),
  DeploymentRequested: define(I, P.deployment, true, ingest.DeploymentRequested, 'A deployment was requested, with a snapshot of what to build.'),
  RollbackRequested: define(I, P.project, false, ingest.RollbackRequested, 'Someone asked to roll an alias back.'),
  PromoteRequested: define(I, P.project, true, ingest.PromoteRequested, 'Someone asked to make an existing deployment live on an alias.'),
  BuildQueued: define(B, P.build, true, build.BuildQueued, 'A build was queued for a deployment.'),
  BuildStarted: define(B, P.build, true, build.BuildStarted, 'A runner started the build.'),
  BuildSucceeded: define(B, P.build, true, build.BuildSucceeded, 'The build produced an OpenNext artifact.'),
  BuildFailed: define(B, P.build, true, build.BuildFailed, 'The build failed.', 2),
  BuildCanceled: define(B, P.build, true, build.BuildCanceled, 'The build was stopped, e.g. superseded by a newer deployment.'),
  BuildTimedOut: define(B, P.build, true, build.BuildTimedOut, 'The build exceeded its time limit.'),
  AssetsUploaded: define(D, P.release, true, deploy.AssetsUploaded, "The deployment's static assets are in place."),
  FunctionVersionPublished: define(D, P.release, true, deploy.FunctionVersionPublished, 'A function of the deployment was published as an immutable version.'),
  AliasShifted: define(D, P.release, true, deploy.AliasShifted, 'An alias now points at another deployment.'),
  DeploymentLive: define(D, P.release, true, deploy.DeploymentLive, 'The deployment serves traffic.'),
  DeploymentFailed: define(D, P.release, true, deploy.DeploymentFailed, 'The deployment will not go live because a step failed.'),
  DeploymentRejected: define(D, P.release, true, deploy.DeploymentRejected, 'The deployment was refused, e.g. stale: a newer one is live.'),
  RolledBack: define(D, P.release, true, deploy.RolledBack, 'An alias was rolled back to an earlier deployment.'),
  RollbackRejected: define(D, P.release, false, deploy.RollbackRejected, 'A rollback could not be done, and why.'),
  Promoted: define(D, P.release, true, deploy.Promoted, 'An existing deployment was promoted to an alias.'),
  DomainAdded: define(M, P.domain, false, domains.DomainAdded, 'A custom domain was attached to a project alias.'),
  CertificateRequested: define(M, P.domain, false, domains.CertificateRequested, 'A TLS certificate was requested for a domain.'),
  DomainValidationPending: define(M, P.domain, false, domains.DomainValidationPending, 'A domain waits for DNS records to be created.'),
  CertificateIssued: define(M, P.domain, false, domains.CertificateIssued, "A domain's certificate was issued."),
  DomainActive: define(M, P.domain, false, domains.DomainActive, 'A domain serves its alias over HTTPS.'),
  DomainFailed: define(M, P.domain, false, domains.DomainFailed, 'A domain could not be set up.'),
  DomainRemoved: define(M, P.domain, false, domains.DomainRemoved, 'A domain was detached from its project.'),
  AlarmRuleSet: define(O, P.alarm, false, observability.AlarmRuleSet, "A project's alarm rule was set or replaced."),
  AlarmRaised: define(O, P.alarm, false, observability.AlarmRaised, 'An alarm crossed its threshold.'),
  AlarmCleared: define(O, P.alarm, false, observability.AlarmCleared, 'An alarm is back under its threshold.'),
  SubscriptionCreated: define(S, P.subscription, false, subscriptions.SubscriptionCreated, 'A webhook subscription was created.'),
  SubscriptionRemoved: define(S, P.subscription, false, subscriptions.SubscriptionRemoved, 'A webhook subscription was removed.'),
  DeliverySucceeded: define(S, P.delivery, false, subscriptions.DeliverySucceeded, 'A webhook delivery was accepted.'),
  DeliveryFailed: define(S, P.delivery, false, subscriptions.DeliveryFailed, 'A webhook delivery attempt failed.'),
};
type Definitions = typeof definitions;

/**
 * Every event type name. Use these constants instead of string literals.
 *
 * @example
 * EventType.BuildSucceeded; // 'BuildSucceeded'
 */
export const EventType = Object.fromEntries(Object.keys(definitions).map((t) => [t, t])) as { readonly [T in keyof Definitions]: T };
export type EventType = keyof Definitions;

/**
 * EventBridge `detail-type` of each event: always equal to its type name.
 *
 * @example
 * const pattern = { source: [Source.build], 'detail-type': [DetailType.BuildSucceeded] };
 */
export const DetailType = EventType;
export type DetailType = EventType;

/**
 * The `data` of an event type, as parsed.
 *
 * @example
 * const data: EventData<'BuildSucceeded'> = parseEventData(EventType.BuildSucceeded, raw);
 */
export type EventData<T extends EventType> = z.infer<Definitions[T]['event']>['data'];

/**
 * Any shiplog event as `{ type, data }`, discriminated by `type`.
 *
 * @example
 * const describe = (e: ShiplogEvent) => (e.type === 'BuildFailed' ? e.data.reason : e.type);
 */
export type ShiplogEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/**
 * What the catalog knows about an event type.
 *
 * @example
 * const entry: CatalogEntry<'BuildFailed'> = catalog.BuildFailed;
 */
export interface CatalogEntry<T extends EventType = EventType> {
  type: T;
  detailType: T;
  source: Source;
  service: Service;
  /** The prefix of the streams this type is appended to (see `streams`). */
  stream: StreamPrefix;
  /** Whether `metadata.deploymentId` is required. */
  deploymentScoped: boolean;
  /** The current schema version; older stored events are upcast to it (see `upcasters.ts`). */
  schemaVersion: number;
  data: z.ZodType<EventData<T>>;
  description: string;
}

/**
 * The event catalog: one entry per event type.
 *
 * @example
 * catalog.BuildSucceeded.source; // 'shiplog.build'
 */
export const catalog = Object.fromEntries(
  Object.entries(definitions).map(([type, d]) => [type, {
    type, detailType: type, source: Source[d.service], service: d.service, stream: d.stream,
    deploymentScoped: d.deploymentScoped, schemaVersion: d.schemaVersion, data: d.event.shape.data, description: d.description,
  }]),
) as unknown as { readonly [T in EventType]: CatalogEntry<T> };

/**
 * Whether a string is a known event type.
 *
 * @example
 * if (isKnownEventType(raw['detail-type'])) catalog[raw['detail-type']].service;
 */
export const isKnownEventType = (type: string): type is EventType => Object.hasOwn(definitions, type);

/**
 * All catalog entries, sorted by type.
 *
 * @example
 * catalogEntries().map((e) => e.type); // ['AlarmCleared', 'AlarmRaised', …]
 */
export const catalogEntries = (): CatalogEntry[] =>
  (Object.values(catalog) as CatalogEntry[]).sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));

/**
 * Thrown for an event type the catalog does not know.
 *
 * @example
 * try { parseEventData('Nope', {}); } catch (e) { if (e instanceof UnknownEventTypeError) e.type; }
 */
export class UnknownEventTypeError extends Error {
  override readonly name = 'UnknownEventTypeError';
  constructor(readonly type: string) {
    super(`Unknown event type "${type}": not in the shiplog event catalog (see \`shiplog events types\`)`);
  }
}

/**
 * Thrown when event data (or a whole detail) does not match its schema. `issues` are zod's.
 *
 * @example
 * try { parseEventData(EventType.BuildStarted, {}); } catch (e) { if (e instanceof InvalidEventDataError) e.issues; }
 */
export class InvalidEventDataError extends Error {
  override readonly name = 'InvalidEventDataError';
  readonly issues: z.core.$ZodIssue[];
  constructor(readonly type: EventType, what: 'data' | 'detail', error: z.ZodError) {
    super(`Invalid ${what} for event ${type} (schemaVersion ${catalog[type].schemaVersion}):\n${z.prettifyError(error)}`);
    this.issues = error.issues;
  }
}

const entryOf = (type: string): CatalogEntry => {
  if (!isKnownEventType(type)) throw new UnknownEventTypeError(type);
  return catalog[type] as CatalogEntry;
};

/**
 * Parses the `data` of an event with its current schema; throws `UnknownEventTypeError` or
 * `InvalidEventDataError` (with a readable list of zod issues).
 *
 * @example
 * const data = parseEventData(EventType.BuildSucceeded, event.data);
 * data.artifact.uri;
 */
export function parseEventData<T extends EventType>(type: T, data: unknown): EventData<T>;
export function parseEventData(type: string, data: unknown): ShiplogEvent['data'];
export function parseEventData(type: string, data: unknown): unknown {
  const entry = entryOf(type);
  const result = entry.data.safeParse(data);
  if (!result.success) throw new InvalidEventDataError(entry.type, 'data', result.error);
  return result.data;
}

/**
 * Parses `{ type, data }` into a `ShiplogEvent`.
 *
 * @example
 * const e = parseEvent(stored);
 * if (e.type === EventType.DeploymentLive) e.data.url;
 */
export const parseEvent = (event: { type: string; data: unknown }): ShiplogEvent =>
  ({ type: event.type, data: parseEventData(event.type, event.data) }) as ShiplogEvent;

const detailSchemas = new Map<EventType, z.ZodType>();

/**
 * The full EventBridge `detail` of an event type, `{ metadata, data }`: `metadata.schemaVersion`
 * is the current version and `metadata.deploymentId` is required for deployment-scoped types.
 * Ids repeated in `data` must agree with `metadata` (`projectId`, and `deploymentId` or
 * `toDeploymentId`).
 *
 * @example
 * const detail = detailSchemaFor(EventType.BuildSucceeded).parse(ebEvent.detail);
 */
export const detailSchemaFor = <T extends EventType>(type: T): z.ZodType<{ metadata: EventMetadata; data: EventData<T> }> => {
  const entry = entryOf(type);
  const cached = detailSchemas.get(entry.type);
  if (cached) return cached as z.ZodType<{ metadata: EventMetadata; data: EventData<T> }>;
  const metadata = EventMetadata.extend({
    schemaVersion: z.literal(entry.schemaVersion),
    ...(entry.deploymentScoped ? { deploymentId: z.string().min(1) } : {}),
  });
  const schema = z.object({ metadata, data: entry.data }).check((ctx) => {
    const { metadata: m, data } = ctx.value as { metadata: EventMetadata; data: Record<string, unknown> };
    if (typeof data !== 'object' || data === null) return;
    const ids: [string, unknown, unknown][] = [['projectId', data.projectId, m.projectId]];
    if (entry.deploymentScoped) ids.push(['deploymentId', data.deploymentId ?? data.toDeploymentId, m.deploymentId]);
    for (const [name, inData, inMetadata] of ids) {
      if (inData !== undefined && inData !== inMetadata) {
        ctx.issues.push({ code: 'custom', input: ctx.value, path: ['metadata', name], message: `must equal the ${name} in data ("${String(inData)}")` });
      }
    }
  });
  detailSchemas.set(entry.type, schema);
  return schema as z.ZodType<{ metadata: EventMetadata; data: EventData<T> }>;
};
/**
 * Parses a whole EventBridge `detail` for a type, throwing `InvalidEventDataError` when it does not match.
 *
 * @example
 * const { metadata, data } = parseDetail(EventType.DeploymentLive, ebEvent.detail);
 */
export const parseDetail = <T extends EventType>(type: T, detail: unknown): { metadata: EventMetadata; data: EventData<T> } => {
  const result = detailSchemaFor(type).safeParse(detail);
  if (!result.success) throw new InvalidEventDataError(type, 'detail', result.error);
  return result.data;
};
