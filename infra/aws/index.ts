import type { Subscription } from '../topology-types.ts';
import { adapterNeeds } from './adapter-access.ts';
import { declareApi } from './api.ts';
import type { AdapterResources } from './adapter-access.ts';
import { declareAdapters } from './adapters.ts';
import { declareSecrets, secretNeeds } from './secrets.ts';
import { awsRules } from './aws-rules.ts';
import { DEFAULT_BUILD_TIMEOUT_MINUTES, type GitHubConnectionInput } from './build-runner.ts';
import type { AccountScope, Cloud, DeclareFunction, LinkSpec } from './cloud.ts';
import { declareEventStore } from './event-store.ts';
import { FunctionEnv, LinkName, type StackNames } from './names.ts';
import { declareOutbox } from './outbox.ts';
import { busPut, eventStoreAccess } from './permissions.ts';
import { declareViewsTable, readModelNeeds } from './read-models.ts';
import type { SiteCache } from './site-role.ts';
import { declareRevalidation, declareSiteCache } from './site-cache.ts';
import { declareSiteEdge } from './sites-edge.ts';
import { declareRule, declareSubscription, type FunctionNeeds, type SubscriptionNeeds } from './subscription.ts';

export { adapterNeeds, idempotencyAccess, siteEdgeAccess, type AdapterResources, type EdgeResources } from './adapter-access.ts';
export { ADMIN_TOKEN_HANDLER, AdminTokenEnv, API_HANDLER, API_THROTTLE, API_TIMEOUT_SECONDS, apiAccess, DEAD_LETTER_ACTIONS, eventRoutesAccess, TOKENS_ACTIONS } from './api.ts';
export { awsRules, codeBuildStateChangePattern, RECONCILE_SCHEDULE } from './aws-rules.ts';
export {
  BUILD_ENVIRONMENT, BUILD_LOG_RETENTION_DAYS, DEFAULT_BUILD_TIMEOUT_MINUTES, githubConnectionFrom, PLACEHOLDER_BUILDSPEC, type GitHubConnectionInput,
} from './build-runner.ts';
export * from './cloud.ts';
export { DASHBOARD_READ_ACTIONS, DashboardEnv, dashboardSpec, type DashboardInput, type DashboardSpec } from './dashboard.ts';
export { DASHBOARD_TOKEN_HANDLER, DASHBOARD_TOKEN_NAME, dashboardTokenAccess, DashboardTokenEnv } from './dashboard-token.ts';
export { tableArgsFrom } from './event-store.ts';
export { DASHBOARD_DOMAIN_ENV, hostedAuth, hostedDashboardSpec } from './hosted-dashboard.ts';
export * from './names.ts';
export { OUTBOX_FILTER, OUTBOX_STREAM_PARAMETERS, OUTBOX_TARGET_PARAMETERS } from './outbox.ts';
export { EVENT_STORE_ACTIONS } from './permissions.ts';
export { PROJECTIONS_HANDLER, readModelNeeds, VIEWS_ACTIONS, VIEWS_INDEXES, viewsAccess } from './read-models.ts';
export type { SiteCache } from './site-role.ts';
export { REVALIDATE_BATCH_SIZE, REVALIDATE_HANDLER, REVALIDATE_MAX_RECEIVES, REVALIDATE_TIMEOUT_SECONDS, revalidationAccess, siteTagsTableDefinition } from './site-cache.ts';
export { ALL_VIEWER_EXCEPT_HOST_POLICY_ID, declareSiteEdge, SERVER_CACHE_HEADERS, type SiteEdge, type SiteEdgeInput } from './sites-edge.ts';
export { IDEMPOTENCY_TTL_ATTRIBUTE } from './storage.ts';
export { asyncInvokePolicy, targetRetryPolicy, type FunctionNeeds, type RuleSpec, type SubscriptionNeeds } from './subscription.ts';

/**
 * The outbox enrichment Lambda's handler, in SST's `<module>.<export>` form.
 *
 * @example
 * new sst.aws.Function('OutboxEnrich', { handler: OUTBOX_ENRICH_HANDLER });
 */
export const OUTBOX_ENRICH_HANDLER = 'infra/aws/functions/outbox-enrich.handler';

/**
 * What the AWS stack is declared from.
 *
 * @example
 * const input: ShiplogStackInput = {
 *   names: stackNames($app.name, $app.stage), subscriptions, protect: $app.stage === 'production',
 *   siteDomain: 'apps.example.com',
 *   declareFunction: (spec) => new sst.aws.Function(spec.name, { handler: spec.handler }),
 * };
 */
export interface ShiplogStackInput {
  names: StackNames;
  subscriptions: Subscription[];
  declareFunction: DeclareFunction;
  /** Deletion protection on the event store; non-empty buckets are kept too. */
  protect: boolean;
  /** The domain sites are served on (`<project>.<siteDomain>`), through the sites' CloudFront front (`sites-edge.ts`). */
  siteDomain: string;
  /** CodeBuild's build timeout; default {@link DEFAULT_BUILD_TIMEOUT_MINUTES}. */
  buildTimeoutMinutes?: number;
  /**
   * How builds fetch GitHub sources: by default through a CodeConnections connection the stack
   * declares (PENDING until its GitHub App handshake is completed in the console); `none`, or an
   * existing connection's ARN (`githubConnectionFrom(process.env)`).
   */
  githubConnection?: GitHubConnectionInput;
  /**
   * OpenNext's tag cache table and revalidation queue, when the stage brings its own; otherwise
   * the stack declares them (`site-cache.ts`). Either way the revalidation function consumes the queue.
   */
  siteCache?: SiteCache;
  /** Extra needs of a subscription or an AWS-only rule, by name. */
  needs?: SubscriptionNeeds;
}

const checkNames = (names: string[], needs: SubscriptionNeeds): void => {
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`subscription ${duplicate} is declared twice`);
  const unknown = Object.keys(needs).filter((n) => !names.includes(n));
  if (unknown.length > 0) throw new Error(`needs name unknown subscriptions: ${unknown.join(', ')}`);
};

const mergeNeeds = (a: FunctionNeeds, b: FunctionNeeds = {}): FunctionNeeds => ({
  links: [...(a.links ?? []), ...(b.links ?? [])],
  permissions: [...(a.permissions ?? []), ...(b.permissions ?? [])],
  environment: { ...a.environment, ...b.environment },
  ...((b.timeoutSeconds ?? a.timeoutSeconds) ? { timeoutSeconds: b.timeoutSeconds ?? a.timeoutSeconds } : {}),
});

/**
 * Declares shiplog's AWS stack: the `shiplog` EventBridge bus, the event store table, the read
 * models' (views) table, the outbox (table stream → Pipe → bus), one function, rule, target and
 * dead-letter queue per subscription of the topology and per AWS-only rule (`aws-rules.ts`), and
 * the resources of the build and deploy adapters (`adapters.ts`) and the sites' CloudFront front
 * (`sites-edge.ts`, returned as `edge`). Every function is linked to the
 * event store (read and append) and the bus (put); build and deploy functions get what
 * `adapterNeeds` grants them, the Projections function what `readModelNeeds` grants it (the views
 * table), and nothing else unless `needs` says so. The platform API (`api.ts`) is a function behind an
 * API Gateway HTTP API, with its tokens table; `api.url` is its endpoint.
 *
 * @example
 * // sst.config.ts, inside run()
 * const stack = declareShiplog({ aws, pulumi: $util }, { names, subscriptions, declareFunction, protect, siteDomain });
 * return { bus: stack.bus.name, table: stack.table.name, views: stack.views.name, api: stack.api.url };
 */
export const declareShiplog = (cloud: Cloud, input: ShiplogStackInput) => {
  const { aws } = cloud;
  const { names, declareFunction } = input;
  const needs = input.needs ?? {};
  const rules = awsRules(names.buildProject);
  checkNames([...input.subscriptions, ...rules].map((s) => s.name), needs);
  // 1. the bus, the store and the read models
  const accountId = aws.getCallerIdentityOutput({}).accountId;
  const scope: AccountScope = { accountId, region: aws.getRegionOutput({}).region };
  const bus = new aws.cloudwatch.EventBus('Bus', {
    name: names.bus,
    description: 'shiplog: every committed event, as source shiplog.<service> and detail-type <EventType>',
  });
  const table = declareEventStore(cloud, { name: names.eventsTable, protect: input.protect });
  const views = declareViewsTable(cloud, names.viewsTable);
  // 2. the outbox
  const enrich = declareFunction({
    name: 'OutboxEnrich',
    handler: OUTBOX_ENRICH_HANDLER,
    description: 'shiplog outbox: turns a stored event into its bus entry',
    environment: {},
    links: [],
    permissions: [],
  });
  const outbox = declareOutbox(cloud, { prefix: names.prefix, table, bus, enrich, accountId });
  // 3. what every function is linked to
  const links: LinkSpec[] = [
    {
      name: LinkName.eventStore,
      properties: { name: table.name, arn: table.arn },
      permissions: eventStoreAccess(cloud, table.arn),
    },
    { name: LinkName.bus, properties: { name: bus.name, arn: bus.arn }, permissions: busPut(bus.arn) },
  ];
  const environment = { [FunctionEnv.eventsTable]: table.name, [FunctionEnv.busName]: bus.name, [FunctionEnv.prefix]: names.prefix };
  // 4. what the build and deploy adapters use, and who may use it; ISR's tag cache and queue
  const isr = input.siteCache ? undefined : declareSiteCache(cloud, { names });
  const siteCache = input.siteCache ?? isr!.cache;
  const adapters = declareAdapters(cloud, {
    names, scope, protect: input.protect, siteDomain: input.siteDomain, siteCache,
    buildTimeoutMinutes: input.buildTimeoutMinutes ?? DEFAULT_BUILD_TIMEOUT_MINUTES,
    ...(input.githubConnection ? { githubConnection: input.githubConnection } : {}),
  });
  // the sites' front needs the sites bucket; the deploy functions need its store and distribution
  const edge = declareSiteEdge(cloud, { names, siteDomain: input.siteDomain, sitesBucket: adapters.buckets.sites.bucket, protect: input.protect });
  const resources: AdapterResources = {
    ...adapters.resources,
    sitesKeyValueStore: { name: edge.keyValueStore.name, arn: edge.keyValueStore.arn },
    sitesDistributionArn: edge.distribution.arn,
    sitesDnsTarget: edge.dnsTarget,
  };
  // the stage-wide revalidation of stale ISR pages, routed as the edge routes
  const revalidation = siteCache.revalidationQueue
    ? declareRevalidation(cloud, {
        names, scope, declareFunction, queue: siteCache.revalidationQueue, sitesBucket: { name: adapters.buckets.sites.bucket.bucket, arn: adapters.buckets.sites.bucket.arn },
        keyValueStore: edge.keyValueStore, siteDomain: input.siteDomain,
      })
    : undefined;
  const secrets = declareSecrets(cloud, { prefix: names.prefix, tableName: names.secretsTable, scope });
  const needsOf = (name: string, handler: string) =>
    mergeNeeds(
      mergeNeeds(
        mergeNeeds(adapterNeeds(cloud, handler, resources), readModelNeeds(cloud, handler, { name: views.name, arn: views.arn })),
        secretNeeds(cloud, handler, secrets.resources),
      ),
      needs[name],
    );
  // 5. the subscriptions, and the rules only AWS has
  const subscriptions = input.subscriptions.map((sub) =>
    declareSubscription(cloud, {
      sub, prefix: names.prefix, bus, declareFunction, links, environment, needs: { [sub.name]: needsOf(sub.name, sub.handler) },
    }),
  );
  const awsOnly = rules.map((rule) =>
    declareRule(cloud, { rule, prefix: names.prefix, declareFunction, links, environment, needs: needsOf(rule.name, rule.handler) }),
  );
  // 6. the platform API, behind API Gateway
  const deadLetters = subscriptions.flatMap((d) => (d.deadLetter ? [{ queueArn: d.deadLetter.arn, functionArn: d.fn.arn }] : []));
  const api = declareApi(cloud, { names, declareFunction, eventStore: links[0]!, environment, resources, secrets: secrets.resources, bus, deadLetters });
  return { bus, table, views, outbox: { ...outbox, enrich }, links, subscriptions, rules: awsOnly, adapters: { ...adapters, resources }, edge, isr: { ...isr, cache: siteCache, revalidation }, secrets, api, scope };
};
