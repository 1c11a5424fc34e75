/**
 * The stream prefixes of the store, one per aggregate kind. Each is written by exactly one
 * service (see `catalog.ts`).
 *
 * @example
 * StreamPrefix.build; // 'build'
 */
export const StreamPrefix = {
  project: 'project',
  deployment: 'deployment',
  build: 'build',
  release: 'release',
  domain: 'domain',
  alarm: 'alarm',
  subscription: 'subscription',
  delivery: 'delivery',
} as const;
export type StreamPrefix = (typeof StreamPrefix)[keyof typeof StreamPrefix];

/**
 * The shape of each stream id, for documentation and the CLI.
 *
 * @example
 * StreamTemplate.release; // 'release#<projectId>#<alias>'
 */
export const StreamTemplate: { readonly [P in StreamPrefix]: string } = {
  project: 'project#<projectId>',
  deployment: 'deployment#<deploymentId>',
  build: 'build#<deploymentId>',
  release: 'release#<projectId>#<alias>',
  domain: 'domain#<host>',
  alarm: 'alarm#<projectId>#<alarmId>',
  subscription: 'subscription#<subscriptionId>',
  delivery: 'delivery#<subscriptionId>#<eventId>',
};

/** `#` separates the parts of a stream id, so it (and `%`, the escape) is escaped inside a part. */
const part = (value: string, what: string): string => {
  if (value.length === 0) throw new Error(`stream id part "${what}" must not be empty`);
  return value.replaceAll('%', '%25').replaceAll('#', '%23');
};

const join = (prefix: StreamPrefix, ...parts: [value: string, what: string][]): string =>
  [prefix, ...parts.map(([value, what]) => part(value, what))].join('#');

/**
 * Builds every stream id, so no code assembles one by hand. Parts containing `#` or `%` are
 * escaped (`%23`, `%25`), so ids never collide.
 *
 * @example
 * streams.project('web');                   // 'project#web'
 * streams.release('web', 'production');     // 'release#web#production'
 * streams.delivery('s1', '01JD2Z8J6X…');    // 'delivery#s1#01JD2Z8J6X…'
 */
export const streams = {
  /** Project settings, env vars, pushes, rollback and promote requests (ingest). */
  project: (projectId: string): string => join(StreamPrefix.project, [projectId, 'projectId']),
  /** The request of one deployment (ingest). */
  deployment: (deploymentId: string): string => join(StreamPrefix.deployment, [deploymentId, 'deploymentId']),
  /** The build of one deployment (build). */
  build: (deploymentId: string): string => join(StreamPrefix.build, [deploymentId, 'deploymentId']),
  /** What an alias of a project serves, and its history (deploy). */
  release: (projectId: string, alias: string): string =>
    join(StreamPrefix.release, [projectId, 'projectId'], [alias, 'alias']),
  /** One custom domain (domains). */
  domain: (host: string): string => join(StreamPrefix.domain, [host, 'host']),
  /** One alarm of a project (observability). */
  alarm: (projectId: string, alarmId: string): string =>
    join(StreamPrefix.alarm, [projectId, 'projectId'], [alarmId, 'alarmId']),
  /** One webhook subscription (subscriptions). */
  subscription: (subscriptionId: string): string => join(StreamPrefix.subscription, [subscriptionId, 'subscriptionId']),
  /** The delivery attempts of one event to one subscription (subscriptions). */
  delivery: (subscriptionId: string, eventId: string): string =>
    join(StreamPrefix.delivery, [subscriptionId, 'subscriptionId'], [eventId, 'eventId']),
} as const;

/**
 * The prefix of a stream id, or undefined when it is not one of ours.
 *
 * @example
 * streamPrefixOf('release#web#production'); // 'release'
 */
export const streamPrefixOf = (streamId: string): StreamPrefix | undefined => {
  const head = streamId.split('#', 1)[0];
  return Object.values(StreamPrefix).find((p) => p === head);
};
