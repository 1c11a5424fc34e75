/**
 * Physical names of the stack's named resources, and the environment variables through which
 * functions learn them.
 *
 * The production stage owns the plain names (`shiplog` bus, `shiplog-events` table), so outside
 * subscribers can write rules against a bus name that does not change; every other stage is
 * suffixed with its stage. S3 bucket names are global, so buckets get a prefix and a suffix
 * Pulumi chooses (`bucketPrefix`), never a fixed name.
 *
 * @example
 * stackNames('shiplog', 'production').eventsTable; // 'shiplog-events'
 * stackNames('shiplog', 'production').viewsTable;  // 'shiplog-views'
 * stackNames('shiplog', 'ci').buildProject;        // 'shiplog-ci-build'
 * stackNames('shiplog', 'box').tokensTable;        // 'shiplog-box-tokens'
 */
export interface StackNames {
  /** Prefix for names this stack chooses itself. */
  prefix: string;
  bus: string;
  eventsTable: string;
  /** The read models (projections), from `viewsTableDefinition`. */
  viewsTable: string;
  idempotencyTable: string;
  /** The API tokens (hashes only), from `pkSkTableDefinition`, read and written by the API function. */
  tokensTable: string;
  /** The secret store's current-version pointers (values are SSM parameters), from `pkSkTableDefinition`. */
  secretsTable: string;
  /** The platform API (API Gateway HTTP API). */
  api: string;
  buildProject: string;
  buildLogGroup: string;
  /** The execution role of every project's site function. */
  siteRole: string;
  artifactsBucketPrefix: string;
  sitesBucketPrefix: string;
}

/**
 * The stage that owns the plain names, keeps its resources on removal and protects its store.
 *
 * @example
 * $app.stage === PRODUCTION_STAGE;
 */
export const PRODUCTION_STAGE = 'production';

/** Site functions are `<prefix>-site-<project>` (services/deploy/adapters/site-host/aws-site.ts), cut at 55 characters. */
const MAX_PREFIX = 40;
/** `bucketPrefix` takes at most 37 characters; Pulumi appends a unique suffix. */
const bucketPrefix = (prefix: string, what: string) =>
  `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 35 - what.length)}-${what}-`;

/**
 * The names of a stage's resources (see {@link StackNames}). Refuses a stage with a `site`
 * segment (`site`, `pr-site`, `site-2`): deploy functions may change every Lambda named
 * `<prefix>-site-*`, and such a stage's functions would carry another stage's site prefix.
 *
 * @example
 * stackNames('shiplog', 'pr-12').bus; // 'shiplog-pr-12'
 * stackNames('shiplog', 'pr-site');   // throws
 */
export const stackNames = (app: string, stage: string): StackNames => {
  if (stage.split('-').includes('site')) {
    throw new Error(`stage "${stage}" has a "site" segment: its functions would look like another stage's site functions`);
  }
  const prefix = stage === PRODUCTION_STAGE ? app : `${app}-${stage}`;
  if (prefix.length > MAX_PREFIX) throw new Error(`"${prefix}" is longer than ${MAX_PREFIX} characters: use a shorter stage name`);
  return {
    prefix,
    bus: prefix,
    eventsTable: `${prefix}-events`,
    viewsTable: `${prefix}-views`,
    idempotencyTable: `${prefix}-idempotency`,
    tokensTable: `${prefix}-tokens`,
    secretsTable: `${prefix}-secrets`,
    api: `${prefix}-api`,
    buildProject: `${prefix}-build`,
    // CodeBuild's own default group name, so the runtime's fallback names the same group.
    buildLogGroup: `/aws/codebuild/${prefix}-build`,
    siteRole: `${prefix}-site`,
    artifactsBucketPrefix: bucketPrefix(prefix, 'artifacts'),
    sitesBucketPrefix: bucketPrefix(prefix, 'sites'),
  };
};

/**
 * The names of a stage's site functions, as an IAM pattern: the only Lambda functions (with
 * their versions and aliases) a deploy function may change.
 *
 * @example
 * siteFunctionPattern('shiplog'); // 'shiplog-site-*'
 */
export const siteFunctionPattern = (prefix: string): string => `${prefix}-site-*`;

/**
 * The dead-letter queue of a subscription or rule (`infra/aws/subscription.ts` declares it): what
 * its EventBridge target and its function's failed asynchronous invocations send to, and what
 * the API lists and redrives (`shiplog events dlq`).
 *
 * @example
 * deadLetterQueueName('shiplog', 'DeployOnBuildSucceeded'); // 'shiplog-DeployOnBuildSucceeded-dlq'
 */
export const deadLetterQueueName = (prefix: string, name: string): string => `${prefix}-${name}-dlq`;

/**
 * The environment variables shiplog functions read. `infra/aws/runtime/root.ts` (`AwsRuntimeEnv`)
 * reads these names; `infra/aws/adapter-access.ts` decides which function gets which.
 *
 * @example
 * process.env[FunctionEnv.eventsTable]; // 'shiplog-events'
 */
export const FunctionEnv = {
  eventsTable: 'SHIPLOG_EVENTS_TABLE',
  /** The read models' table: the Projections function only (`infra/aws/functions/projections.ts`). */
  viewsTable: 'SHIPLOG_VIEWS_TABLE',
  busName: 'SHIPLOG_BUS_NAME',
  prefix: 'SHIPLOG_PREFIX',
  idempotencyTable: 'SHIPLOG_IDEMPOTENCY_TABLE',
  buildProject: 'SHIPLOG_BUILD_PROJECT',
  buildLogGroup: 'SHIPLOG_BUILD_LOG_GROUP',
  buildTimeoutMinutes: 'SHIPLOG_BUILD_TIMEOUT_MINUTES',
  /** The permissions boundary of the per-project build roles (`infra/aws/build-runner.ts`): the build entry that starts builds. */
  buildRoleBoundaryArn: 'SHIPLOG_BUILD_ROLE_BOUNDARY_ARN',
  /** The stage's CodeConnections connection to GitHub (`build-runner.ts`): the build entry that starts builds fetches GitHub sources through it. */
  githubConnectionArn: 'SHIPLOG_GITHUB_CONNECTION_ARN',
  artifactsBucket: 'SHIPLOG_ARTIFACTS_BUCKET',
  sitesBucket: 'SHIPLOG_SITES_BUCKET',
  siteRoleArn: 'SHIPLOG_SITE_ROLE_ARN',
  /** The permissions boundary of the per-project site roles (`infra/aws/site-role.ts`): the deploy entries. */
  siteRoleBoundaryArn: 'SHIPLOG_SITE_ROLE_BOUNDARY_ARN',
  siteDomain: 'SHIPLOG_SITE_DOMAIN',
  siteCacheTable: 'SHIPLOG_SITE_CACHE_TABLE',
  siteRevalidationQueueUrl: 'SHIPLOG_SITE_REVALIDATION_QUEUE_URL',
  /** The sites' routing state (`infra/aws/sites-edge.ts`): the CloudFront KeyValueStore the deploy service writes. */
  sitesKeyValueStoreArn: 'SHIPLOG_SITES_KVS_ARN',
  /** The sites' multi-tenant distribution: the `AWS:SourceArn` of a site function's Function URL permission. */
  sitesDistributionArn: 'SHIPLOG_SITES_DISTRIBUTION_ARN',
  /** Where custom domains point (the sites' connection group's routing endpoint): the domains entry that shows the records. */
  sitesDnsTarget: 'SHIPLOG_SITES_DNS_TARGET',
  /** `route53`: the domains entries that add and remove records create them in the account's hosted zones. */
  dnsZones: 'SHIPLOG_DNS_ZONES',
  /** The API tokens' table: the API function only (`infra/aws/functions/api.ts`). */
  tokensTable: 'SHIPLOG_TOKENS_TABLE',
  /** The platform API's own URL (webhook URLs it shows): the API function only. */
  apiUrl: 'SHIPLOG_API_URL',
  /** `served` where something in front of the API serves the shiplog git remote (the AWS box); AWS has none. */
  gitRemote: 'SHIPLOG_GIT_REMOTE',
  /** The secret store (`infra/aws/secrets.ts`): its pointers table and its KMS key's alias. */
  secretsTable: 'SHIPLOG_SECRETS_TABLE',
  secretsKey: 'SHIPLOG_SECRETS_KEY',
} as const;

/**
 * Link names, as they appear in a function's SST `Resource` (`Resource.ShiplogEvents.name`).
 *
 * @example
 * LinkName.eventStore; // 'ShiplogEvents'
 */
export const LinkName = {
  eventStore: 'ShiplogEvents',
  bus: 'ShiplogBus',
} as const;
