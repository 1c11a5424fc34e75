import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { monotonicFactory } from 'ulid';
import type { Context } from 'aws-lambda';
import { EventType, isKnownEventType, type EventData, streams, eventTypes } from '../../../events/index.ts';
import { dynamoEventStore, sdkFailureLogger, type EventStore } from '../../../events/store/index.ts';
import { eventBridgeBus, sqsDeadLetters } from '../../../events/bus/index.ts';
import { makeProjectionRunner, dynamoViewStore, readModels } from '../../../projections/index.ts';
import type { ProjectionEvent, ViewStore } from '../../../projections/index.ts';
import { codeBuildScheduler, parameterStoreRef } from '../../../services/build/adapters/scheduler/aws.ts';
import { buildRoles } from '../../../services/build/adapters/scheduler/build-roles.ts';
import { cloudWatchLogStore, cloudWatchTail } from '../../../services/build/adapters/log-store/aws.ts';
import { codeBuildCompletions, readArtifactManifest } from '../../../services/build/adapters/scheduler/codebuild-events.ts';
import { buildDecider, isFinished, buildService, describeArtifactDir } from '../../../services/build/index.ts';
import { awsSiteHost } from '../../../services/deploy/adapters/site-host/aws.ts';
import { siteRoles } from '../../../services/deploy/adapters/site-host/site-roles.ts';
import { keyValueStoreRouting, routingEntries } from '../../../services/deploy/adapters/site-host/aws-routing.ts';
import { cloudFrontDomainEdge } from '../../../services/domains/adapters/domain-edge/aws.ts';
import { siteFunctionName } from '../../../services/deploy/adapters/site-host/aws-site.ts';
import { awsHealthProbe } from '../../../services/deploy/adapters/health-probe/aws.ts';
import type { SiteHost } from '../../../services/deploy/index.ts';
import { deployService, keyedLock } from '../../../services/deploy/index.ts';
import { acmCertificateAuthority } from '../../../services/domains/adapters/certificate-authority/aws.ts';
import { route53Zones } from '../../../services/domains/adapters/dns-zones/aws.ts';
import { domainCommands, domainsService } from '../../../services/domains/index.ts';
import type { DomainEdge, PendingDomains, RoutingRecord } from '../../../services/domains/index.ts';
import { defineHandler, fold, type IdempotencyOptions } from '../../../services/shell/index.ts';
import { ingestRollbackRequester } from '../../../services/observability/adapters/rollback-requester/ingest.ts';
import { cloudWatchMetricsSource } from '../../../services/observability/adapters/metrics-source/aws.ts';
import { cloudWatchRuntimeLogStore, type SiteFunctionVersion } from '../../../services/observability/adapters/runtime-log-store/aws.ts';
import { alarmEvaluator, observabilityCommands, observabilityService } from '../../../services/observability/index.ts';
import { fetchWebhookSender } from '../../../services/subscriptions/adapters/webhook-sender/fetch.ts';
import { parseAllowList, subscriptionCommands, subscriptionsService } from '../../../services/subscriptions/index.ts';
import { awsSecretStore } from '../../../services/ingest/adapters/secret-store/aws.ts';
import { storeProjectFinder } from '../../../services/ingest/adapters/project-finder/store.ts';
import { s3SourceRepos } from '../../../services/ingest/adapters/git-repos/s3.ts';
import { s3SourceUploads } from '../../../services/ingest/adapters/source-uploads/s3.ts';
import { accessCommands, dynamoTokenStore } from '../../../services/access/index.ts';
import { tokenVerifier } from '../../http/auth.ts';
import { ingestApi, type IngestApiDeps } from '../../http/app.ts';
import type { EventRouteDeps } from '../../http/routes/events.ts';
import { subscriptions } from '../../topology.ts';
import { deadLetterQueueName, FunctionEnv } from '../names.ts';
import { sitesKeyValueStoreClient } from './key-value-store-client.ts';

/**
 * The environment variables the AWS composition root reads. `infra/aws` sets them on the
 * functions that need them: the build functions (`infra/aws/functions/build.*`) the `build*` and
 * `artifactsBucket` ones, the deploy functions (`functions/deploy.*`) the `site*` ones, the
 * domains functions (`functions/domains.*`) `siteDomain`, the projections function
 * (`functions/projections.*`) and the domains reconcile `viewsTable`; all of them `eventsTable` and `prefix`.
 *
 * @example
 * process.env[AwsRuntimeEnv.buildProject]; // 'shiplog-build'
 */
export const AwsRuntimeEnv = {
  eventsTable: FunctionEnv.eventsTable,
  /** The shiplog bus: the API function, which puts replayed events on it. */
  busName: FunctionEnv.busName,
  /** The read models' table: the Projections function (read and write), the domains reconcile (read). */
  viewsTable: FunctionEnv.viewsTable,
  /** The stage's name prefix (`stackNames(...).prefix`): site function names, parameter paths. */
  prefix: FunctionEnv.prefix,
  /** Optional: remember handled event ids (Powertools idempotency); the deciders dedupe without it. */
  idempotencyTable: FunctionEnv.idempotencyTable,
  buildProject: FunctionEnv.buildProject,
  /** The build entry that starts builds: each project's builds run with a role of its own under this boundary. */
  buildRoleBoundaryArn: FunctionEnv.buildRoleBoundaryArn,
  /** Optional, the build entry that starts builds: GitHub sources are fetched through this CodeConnections connection. */
  githubConnectionArn: FunctionEnv.githubConnectionArn,
  buildLogGroup: FunctionEnv.buildLogGroup,
  buildTimeoutMinutes: FunctionEnv.buildTimeoutMinutes,
  artifactsBucket: FunctionEnv.artifactsBucket,
  sitesBucket: FunctionEnv.sitesBucket,
  siteRoleArn: FunctionEnv.siteRoleArn,
  /** The deploy entries: each project's site functions run with a role of its own under this boundary. */
  siteRoleBoundaryArn: FunctionEnv.siteRoleBoundaryArn,
  siteDomain: FunctionEnv.siteDomain,
  siteCacheTable: FunctionEnv.siteCacheTable,
  siteRevalidationQueueUrl: FunctionEnv.siteRevalidationQueueUrl,
  /** The sites' CloudFront front: its KeyValueStore and distribution (the deploy functions; optional). */
  sitesKeyValueStoreArn: FunctionEnv.sitesKeyValueStoreArn,
  /** Where custom domains point (the domains entry that shows records); the site domain when absent. */
  sitesDnsTarget: FunctionEnv.sitesDnsTarget,
  /** `route53`: records of added domains are created in the account's hosted zones. */
  dnsZones: FunctionEnv.dnsZones,
  sitesDistributionArn: FunctionEnv.sitesDistributionArn,
  /** The API tokens' table (hashes only): the API function. */
  tokensTable: FunctionEnv.tokensTable,
  /** The API function: its own URL, for the webhook URLs it shows. */
  apiUrl: FunctionEnv.apiUrl,
  /** The API function: `served` where the shiplog git remote is served beside it (the AWS box). */
  gitRemote: FunctionEnv.gitRemote,
  /** The secret store's pointers table and KMS key alias: the API (read and write), the webhook sender (read). */
  secretsTable: FunctionEnv.secretsTable,
  secretsKey: FunctionEnv.secretsKey,
} as const;

const required = (env: NodeJS.ProcessEnv, name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: this shiplog function needs it`);
  return value;
};

const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

/**
 * Makes `applyAlias` converge when several Lambdas race on one alias. A `RevisionId` guard
 * stops lost updates between reading and writing the alias, but not a writer that read the
 * release stream before a faster one shifted: so the lock re-runs the guarded function until a
 * round shifts nothing. Each round reads the stream again, and the stream only moves forward, so
 * the last writer of every race ends by checking the alias against the latest stream.
 *
 * @example
 * const { host, withLock } = convergingAliases(awsSiteHost(opts));
 * deployService({ store, host, withLock, ids, now });
 */
export const convergingAliases = (inner: SiteHost, maxRounds = 5) => {
  const shifts = new Map<string, number>();
  const local = keyedLock();
  const host: SiteHost = {
    ...inner,
    shiftAlias: async (input) => {
      await inner.shiftAlias(input);
      const key = `${input.projectId}#${input.alias}`;
      shifts.set(key, (shifts.get(key) ?? 0) + 1);
    },
  };
  const withLock = <T>(key: string, fn: () => Promise<T>): Promise<T> =>
    local(key, async () => {
      for (let round = 1; ; round++) {
        const before = shifts.get(key) ?? 0;
        const result = await fn();
        if ((shifts.get(key) ?? 0) === before || round >= maxRounds) return result;
      }
    });
  return { host, withLock };
};

/**
 * The AWS composition root: the only code that builds AWS SDK clients for shiplog's functions
 * and hands them to the services' adapters. Each `aws*` below is made on first use, so importing
 * a Lambda entry (`infra/aws/functions/*`) needs no environment.
 */
const core = once(() => {
  const env = process.env;
  // Failures only: the SDK's default logger copies every item it reads for an info line nobody logs.
  const client = new DynamoDBClient({ logger: sdkFailureLogger });
  const store: EventStore = dynamoEventStore({ client, tableName: required(env, AwsRuntimeEnv.eventsTable), types: eventTypes });
  const idempotencyTable = env[AwsRuntimeEnv.idempotencyTable];
  const idempotency: IdempotencyOptions | undefined = idempotencyTable ? { client, tableName: idempotencyTable } : undefined;
  const ids = monotonicFactory();
  return { client, store, ids: () => ids(), now: () => new Date().toISOString(), idempotency, prefix: env[AwsRuntimeEnv.prefix] ?? 'shiplog' };
});

/**
 * The build service on AWS: CodeBuild runs the builds, its state-change events and a scheduled
 * reconciliation complete them, CloudWatch Logs holds their logs. Made on first use, so
 * importing a Lambda module needs no environment.
 *
 * @example
 * export const onDeploymentRequested = (e: unknown) => awsBuild().build.onDeploymentRequested(e);
 */
export const awsBuild = once(() => {
  const env = process.env;
  const { store, ids, now, idempotency, prefix } = core();
  const projectName = required(env, AwsRuntimeEnv.buildProject);
  const artifactsBucket = required(env, AwsRuntimeEnv.artifactsBucket);
  const timeoutMs = Number(env[AwsRuntimeEnv.buildTimeoutMinutes] ?? 20) * 60_000;
  const logGroupName = env[AwsRuntimeEnv.buildLogGroup];
  const [codebuild, s3, cloudwatch] = [new CodeBuildClient({}), new S3Client({}), new CloudWatchLogsClient({})];

  const buildState = async (deploymentId: string) => fold(buildDecider, await store.readStream(streams.build(deploymentId)));
  const build = buildService({
    store, ids, now, timeoutMs,
    // Pushes to shiplog's own remote reach CodeBuild as `<sha>.zip` snapshots under this prefix.
    repoFor: (projectId, repository) => (repository.source === 'git' ? `s3://${artifactsBucket}/sources/${projectId}/` : repository.cloneUrl),
    describeArtifact: async (dir) => {
      if (!dir.startsWith('s3://')) return describeArtifactDir(dir);
      // Only a completion that has just read the manifest reports a success (`outcomeOf`), and S3
      // reads are strongly consistent: a manifest missing now was deleted, nothing to wait for.
      const manifest = await readArtifactManifest(s3, dir);
      if (!manifest) throw new Error(`${dir} lost its manifest after its build completed`);
      return { sha256: manifest.sha256, sizeBytes: manifest.sizeBytes };
    },
    ...(idempotency ? { idempotency } : {}),
  });
  // Each project's builds run with its own service role (build-roles.ts), made under the stage's boundary.
  const boundaryArn = env[AwsRuntimeEnv.buildRoleBoundaryArn];
  // GitHub sources are fetched through the stage's connection (a GitHub App), with the build's own role.
  const githubConnectionArn = env[AwsRuntimeEnv.githubConnectionArn] || undefined;
  const roles = boundaryArn
    ? once(async () => buildRoles({
        iam: new IAMClient({}), boundaryArn,
        scope: {
          prefix, artifactsBucket, accountId: boundaryArn.split(':')[4]!, region: await codebuild.config.region(), logGroupName: logGroupName ?? `/aws/codebuild/${projectName}`,
          ...(githubConnectionArn ? { githubConnectionArn } : {}),
        },
      }))
    : undefined;
  const scheduler = codeBuildScheduler({
    client: codebuild, projectName, artifactsBucket, events: build.schedulerEvents, secretRef: parameterStoreRef(prefix),
    ...(githubConnectionArn ? { githubConnectionArn } : {}),
    ...(logGroupName ? { logGroupName } : {}),
    ...(roles ? { serviceRoleFor: async (projectId: string) => (await roles()).roleFor(projectId) } : {}),
    envRefsFor: async (b) => {
      const queued = (await store.readStream(streams.build(b.deploymentId))).find((e) => e.type === 'BuildQueued');
      return (queued?.data as EventData<'BuildQueued'> | undefined)?.env ?? [];
    },
  });
  build.attach(scheduler);
  const completions = codeBuildCompletions({
    codebuild, s3, projectName, events: build.schedulerEvents,
    isOpen: async (id) => ['queued', 'running'].includes((await buildState(id)).status),
    logTail: cloudWatchTail(cloudwatch),
    // A build lives at most its queue time (60 min) plus its timeout; look a little further.
    windowMs: timeoutMs + 2 * 3600_000,
  });
  const logs = cloudWatchLogStore({
    client: cloudwatch,
    groupName: logGroupName ?? `/aws/codebuild/${projectName}`,
    isFinished: async (id) => isFinished(await buildState(id)),
  });
  return { build, scheduler, completions, logs };
});

/**
 * The deploy service on AWS: sites on Lambda versions and aliases, assets in S3.
 *
 * @example
 * export const onBuildSucceeded = (e: unknown) => awsDeploy().deploy.onBuildSucceeded(e);
 */
export const awsDeploy = once(() => {
  const env = process.env;
  const { store, ids, now, idempotency, prefix } = core();
  const [cacheTable, queueUrl] = [env[AwsRuntimeEnv.siteCacheTable], env[AwsRuntimeEnv.siteRevalidationQueueUrl]];
  const [lambda, s3] = [new LambdaClient({}), new S3Client({})];
  const [bucket, domain] = [required(env, AwsRuntimeEnv.sitesBucket), required(env, AwsRuntimeEnv.siteDomain)];
  const [kvsArn, distributionArn] = [env[AwsRuntimeEnv.sitesKeyValueStoreArn], env[AwsRuntimeEnv.sitesDistributionArn]];
  // Each project's site functions run with their own role (site-roles.ts), made under the stage's boundary.
  const siteBoundaryArn = env[AwsRuntimeEnv.siteRoleBoundaryArn];
  const siteRolesOf = siteBoundaryArn
    ? once(async () => {
        const [region, accountId] = [await lambda.config.region(), siteBoundaryArn.split(':')[4]!];
        // The queue's ARN from its URL: https://sqs.<region>.amazonaws.com/<account>/<name>
        const queue = queueUrl ? new URL(queueUrl).pathname.split('/').filter(Boolean) : undefined;
        return siteRoles({
          iam: new IAMClient({}), boundaryArn: siteBoundaryArn,
          scope: {
            prefix, accountId, region, sitesBucket: bucket,
            tagCacheTableArn: cacheTable ? `arn:aws:dynamodb:${region}:${accountId}:table/${cacheTable}` : undefined,
            revalidationQueueArn: queue?.length === 2 ? `arn:aws:sqs:${region}:${queue[0]}:${queue[1]}` : undefined,
          },
        });
      })
    : undefined;
  const edge = kvsArn && distributionArn
    ? { routing: keyValueStoreRouting(sitesKeyValueStoreClient(env.AWS_ENDPOINT_URL), kvsArn), distributionArn }
    : undefined;
  const site = awsSiteHost({
    lambda, s3, prefix, bucket, domain, ...(edge ? { edge } : {}),
    // The build's ISR tags go to the tag cache the site functions read (`dynamodb-lite`).
    ...(cacheTable ? { tagCache: { dynamodb: new DynamoDBClient({}), table: cacheTable } } : {}),
    site: {
      role: required(env, AwsRuntimeEnv.siteRoleArn),
      ...(siteRolesOf ? { roleFor: async (projectId: string) => (await siteRolesOf()).roleFor(projectId) } : {}),
      environment: {
        ...(cacheTable ? { CACHE_DYNAMO_TABLE: cacheTable } : {}),
        ...(queueUrl ? { REVALIDATION_QUEUE_URL: queueUrl, REVALIDATION_QUEUE_REGION: env.AWS_REGION ?? '' } : {}),
      },
    },
  });
  const { host, withLock } = convergingAliases(site);
  // The health gate invokes the new version itself before its alias moves.
  const probe = awsHealthProbe({ lambda, s3, bucket, prefix, domain });
  const deploy = deployService({ store, host, ids, now, withLock, probe, ...(idempotency ? { idempotency } : {}) });
  return { deploy, host };
});

/**
 * The record that points a custom host at the sites domain (`SHIPLOG_SITE_DOMAIN`): a CNAME, or
 * an ALIAS at a zone apex.
 *
 * @example
 * siteCname('apps.example.com')({ projectId: 'web', host: 'www.example.com', alias: 'production' });
 * // { purpose: 'routing', name: 'www.example.com', type: 'CNAME', value: 'apps.example.com' }
 * siteCname('apps.example.com')({ projectId: 'web', host: 'example.com', alias: 'production' }).type; // 'ALIAS'
 */
export const siteCname = (siteDomain: string): RoutingRecord => ({ host }) => ({ purpose: 'routing', name: host, type: isApex(host) ? 'ALIAS' : 'CNAME', value: siteDomain });

// Second-level public suffixes under which a name of three labels is still an apex. A heuristic
// without the Public Suffix List (not bundled): other multi-label suffixes get a CNAME shown.
const SECOND_LEVEL = new Set(['co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au', 'net.au', 'org.au', 'co.nz', 'co.jp', 'ne.jp', 'or.jp', 'com.br', 'com.mx', 'co.in', 'co.za', 'com.cn', 'com.tr', 'co.kr', 'com.sg', 'com.hk']);

/**
 * Whether a host is a zone apex (`example.com`, `example.co.uk`), where DNS allows no CNAME: its
 * routing record is an ALIAS (Route 53 alias A, or the provider's ALIAS/ANAME) instead.
 *
 * @example
 * isApex('example.com'); // true
 * isApex('www.example.com'); // false
 */
export const isApex = (host: string): boolean => {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  return labels.length === 2 || (labels.length === 3 && SECOND_LEVEL.has(labels.slice(1).join('.')));
};

/**
 * The hosts whose certificate waits for DNS validation, as the projects read model lists them
 * (every project's domains in status `validating`): one Query for the projects, one per project.
 *
 * @example
 * const pendingDomains = validatingDomains(dynamoViewStore({ client, tableName: 'shiplog-views' }));
 * await pendingDomains(); // ['www.example.com']
 */
export const validatingDomains = (views: ViewStore): PendingDomains => {
  // Only hosts are read here, never URLs.
  const models = readModels({ views, urls: { production: () => '', deployment: () => '' } });
  return async () => {
    const projects = await models.listProjects();
    const domains = await Promise.all(projects.map((p) => models.listDomains(p.projectId)));
    return domains.flat().filter((d) => d.status === 'validating').map((d) => d.host);
  };
};

/** The region CloudFront reads certificates from, and where its global API signs. */
export const CLOUDFRONT_REGION = 'us-east-1';

/**
 * Custom domains on the sites' multi-tenant distribution: a tenant per host, and the host's
 * entry in the sites' KeyValueStore.
 *
 * @example
 * const edge = domainEdgeOn(process.env.SHIPLOG_SITES_KVS_ARN!, process.env.SHIPLOG_SITES_DISTRIBUTION_ARN!, 'shiplog');
 */
export const domainEdgeOn = (kvsArn: string, distributionArn: string, prefix: string): DomainEdge => {
  const routing = keyValueStoreRouting(sitesKeyValueStoreClient(process.env.AWS_ENDPOINT_URL), kvsArn);
  return cloudFrontDomainEdge({
    cloudfront: new CloudFrontClient({ region: CLOUDFRONT_REGION }),
    distributionId: distributionArn.slice(distributionArn.lastIndexOf('/') + 1),
    prefix,
    route: (host, target) => (target ? routing.put([routingEntries.domain(host, target)]) : routing.remove([routingEntries.domainKey(host)])),
  });
};

/**
 * The domains service on AWS: certificates from ACM in us-east-1 (CloudFront's), a CNAME (ALIAS at
 * an apex) to the sites domain as the routing record, each issued domain attached to the sites
 * distribution (a tenant and a routing entry) when the stack has one, and the pending domains from the read models for the
 * scheduled reconcile (the only domains function given the views table, `SHIPLOG_VIEWS_TABLE`).
 *
 * @example
 * export const onDomainAdded = (e: unknown) => awsDomains().domains.onDomainAdded(e);
 * export const reconcile = () => awsDomains().domains.reconcile();
 */
export const awsDomains = once(() => {
  const env = process.env;
  const { client, store, ids, now, idempotency, prefix } = core();
  // CloudFront takes certificates from us-east-1 only.
  const ca = acmCertificateAuthority({ client: new ACMClient({ region: CLOUDFRONT_REGION }) });
  // Custom domains point at the sites' routing endpoint when the stack names it, else at the site domain.
  const routingRecord = siteCname(env[AwsRuntimeEnv.sitesDnsTarget] || required(env, AwsRuntimeEnv.siteDomain));
  const dns = env[AwsRuntimeEnv.dnsZones] === 'route53' ? route53Zones({ route53: new Route53Client({}) }) : undefined;
  const pending = once(() => validatingDomains(dynamoViewStore({ client, tableName: required(env, AwsRuntimeEnv.viewsTable) })));
  const [kvsArn, distributionArn] = [env[AwsRuntimeEnv.sitesKeyValueStoreArn], env[AwsRuntimeEnv.sitesDistributionArn]];
  const edge = kvsArn && distributionArn ? domainEdgeOn(kvsArn, distributionArn, prefix) : undefined;
  const domains = domainsService({
    store, ca, routingRecord, ids, now, pendingDomains: () => pending()(), ...(edge ? { edge } : {}), ...(dns ? { dns } : {}), ...(idempotency ? { idempotency } : {}),
  });
  return { domains, ca };
});

/**
 * The secret store on AWS: values as SSM SecureString parameters under the stack's KMS key,
 * current-version pointers in the secrets table (`infra/aws/secrets.ts` declares both and grants
 * each function only what it reads).
 *
 * @example
 * await awsSecrets().get(signingSecretScope(id), SIGNING_SECRET_NAME, 1);
 */
export const awsSecrets = once(() => {
  const { client, prefix } = core();
  return awsSecretStore({
    client, ssm: new SSMClient({}), prefix,
    tableName: required(process.env, AwsRuntimeEnv.secretsTable),
    keyId: required(process.env, AwsRuntimeEnv.secretsKey),
  });
});

// Webhooks never reach internal addresses unless the function's SHIPLOG_WEBHOOK_ALLOW names them.
const webhookAllow = once(() => parseAllowList(process.env.SHIPLOG_WEBHOOK_ALLOW));

/**
 * The subscriptions service on AWS: webhooks sent with `fetch`, signed with the secrets of the
 * secret store.
 *
 * @example
 * export const onEvent = (e: unknown) => awsSubscriptions().onEvent(e);
 */
export const awsSubscriptions = once(() => {
  const { store, ids, now, idempotency } = core();
  return subscriptionsService({
    store, secrets: awsSecrets(), sender: fetchWebhookSender({ allow: webhookAllow() }), allow: webhookAllow(), ids, now, secretRefScheme: 'ssm',
    ...(idempotency ? { idempotency } : {}),
  });
});

/**
 * The observability service on AWS: an alarm that acts asks for the rollback through the event
 * store, as ingest records it. (Runtime logs, metrics and alarm evaluation on AWS: CloudWatch, to come.)
 *
 * @example
 * export const onAlarmRaised = (e: unknown) => awsObservability().onAlarmRaised(e);
 */
export const awsObservability = once(() => {
  const { store, ids, now, idempotency } = core();
  return observabilityService({ store, rollback: ingestRollbackRequester({ store, ids, now }), ...(idempotency ? { idempotency } : {}) });
});

/**
 * The projection runner on AWS, on the event store and the views table (`SHIPLOG_VIEWS_TABLE`),
 * behind the handler shell: it parses (Powertools), logs with the event's ids and takes replays.
 * The runner's per-stream applied versions make it idempotent, so no idempotency table is
 * needed. Event types the catalog does not know skip the shell (which refuses them) and go
 * straight to the runner, which moves past them: a newer producer must not break an older
 * projection.
 *
 * @example
 * export const handler = (e: unknown, c?: Context) => awsProjections().handle(e, c);
 */
export const awsProjections = once(() => {
  const { client, store } = core();
  const runner = makeProjectionRunner({ store, views: dynamoViewStore({ client, tableName: required(process.env, AwsRuntimeEnv.viewsTable) }) });
  const shell = defineHandler({
    name: 'Projections',
    accepts: Object.values(EventType),
    acceptsReplays: true,
    handle: (e) => runner.apply({
      streamId: e.metadata.streamId,
      version: e.metadata.version,
      event: { type: e.type, data: e.data, metadata: e.metadata } as ProjectionEvent,
    }),
  });
  const handle = async (event: unknown, context?: Context): Promise<void> => {
    const type = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
    if (typeof type === 'string' && !isKnownEventType(type)) return runner.handle(event);
    return shell(event, context);
  };
  return { runner, handle };
});

/**
 * The platform API's ports on AWS (`infra/aws/functions/api.ts`): deployments folded from the
 * store, build logs from CloudWatch, aliases from the site host, and the domain commands.
 * Ingest and subscriptions join once the AWS runtime has a secret store.
 *
 * @example
 * const app = platformApi(awsApi());
 */
// The site functions' CloudWatch Logs, per deployment version: what runtime logs, metrics and alarms read.
// (An event names the version; the function is the project's site function, `<prefix>-site-<project>`.)
const siteTelemetry = once(() => {
  const { store, prefix } = core();
  const logs = new CloudWatchLogsClient({});
  const versionsOf = async (deploymentId: string): Promise<SiteFunctionVersion[]> =>
    (await store.readDeployment(deploymentId))
      .filter((e) => e.type === EventType.FunctionVersionPublished)
      .map((e) => e.data as EventData<'FunctionVersionPublished'>)
      .map((d) => ({ functionName: siteFunctionName(prefix, d.projectId), version: d.version }));
  const deploymentsOf = async (projectId: string): Promise<string[]> => [
    ...new Set((await store.readProject(projectId)).filter((e) => e.type === EventType.FunctionVersionPublished).map((e) => e.metadata.deploymentId!)),
  ];
  return { logs: cloudWatchRuntimeLogStore({ logs, versionsOf }), metrics: cloudWatchMetricsSource({ logs, versionsOf, deploymentsOf }) };
});

/**
 * The observability queries on AWS: runtime logs and request metrics read back from the site
 * functions' CloudWatch Logs, for the versions each deployment published.
 *
 * @example
 * await awsObservabilityQueries().runtimeLogs('d1', { level: 'error' });
 */
export const awsObservabilityQueries = once(() => {
  const { store, ids, now } = core();
  return observabilityCommands({ store, ids, now, ...siteTelemetry() });
});

/**
 * The alarm rules judged on AWS (the `AlarmsEvaluate` rule, every minute): every project of the
 * read models, its production deployment against its rule, with metrics from the site functions'
 * invocation reports. A breach appends `AlarmRaised`; the `ObservabilityOnAlarmRaised`
 * subscription rolls back when the rule says so.
 *
 * @example
 * await awsAlarms().evaluateAll(); // { projects: 3, appended: 1 }
 */
export const awsAlarms = once(() => {
  const { client, store, ids, now } = core();
  const models = readModels({ views: dynamoViewStore({ client, tableName: required(process.env, AwsRuntimeEnv.viewsTable) }), urls: { production: () => '', deployment: () => '' } });
  const evaluator = alarmEvaluator({ store, metrics: siteTelemetry().metrics, ids, now, log: (line) => console.error(line) });
  return {
    evaluateAll: async (): Promise<{ projects: number; appended: number }> => {
      const projects = await models.listProjects();
      let appended = 0;
      for (const p of projects) appended += (await evaluator.evaluate(p.projectId)).length;
      return { projects: projects.length, appended };
    },
  };
});

/**
 * The ingest service on AWS, as the Api function serves it: projects, env vars and credentials
 * (values in SSM through `awsSecrets`), GitHub webhooks, and `shiplog deploy` sources. shiplog
 * hosts no git repositories here: a project's own source is a `<sha>.zip` under
 * `sources/<project>/` of the artifacts bucket (`s3SourceRepos`; awsBuild's `repoFor` points
 * CodeBuild there), and an archive reaches the API by a presigned S3 PUT (`s3SourceUploads`),
 * since API Gateway and Lambda take no body of its size. Hooks that name no project are matched
 * by repository from the event store (`storeProjectFinder`, read once per function instance,
 * then incrementally).
 *
 * @example
 * platformApi({ guard, ingest: awsIngest() });
 */
export const awsIngest = once((): IngestApiDeps => {
  const env = process.env;
  const { store, ids } = core();
  const bucket = required(env, AwsRuntimeEnv.artifactsBucket);
  const s3 = new S3Client({});
  return ingestApi({
    store, secrets: awsSecrets(), repos: s3SourceRepos({ s3, bucket }), finder: storeProjectFinder(store), ids, clock: () => new Date(),
    publicUrl: env[AwsRuntimeEnv.apiUrl] ?? '',
    uploads: s3SourceUploads({ s3, bucket }),
    gitRemote: env[AwsRuntimeEnv.gitRemote] === 'served',
  });
});

/**
 * The event routes on AWS (`/api/replay`, `/api/events`, `/api/dlq`): replays put on the shiplog bus with
 * `PutEvents`, dead letters read from and redriven out of each subscription's SQS dead-letter
 * queue (`sqsDeadLetters`), for the topology's subscriptions, as locally.
 *
 * @example
 * platformApi({ guard, events: awsEventRoutes() });
 */
export const awsEventRoutes = once((): EventRouteDeps => {
  const { store, prefix } = core();
  const { host } = awsDeploy();
  const bus = eventBridgeBus({ client: new EventBridgeClient({}), busName: required(process.env, AwsRuntimeEnv.busName) });
  const dlq = sqsDeadLetters({ sqs: new SQSClient({}), lambda: new LambdaClient({}), queueName: (name) => deadLetterQueueName(prefix, name) });
  return {
    store,
    bus: { publish: (entries) => bus.publish(entries), redrive: (name, ids) => dlq.redrive(name, ids) },
    deadLetters: dlq,
    subscriptionNames: subscriptions.filter((s) => s.policy.deadLetter).map((s) => s.name),
    urls: {
      production: (projectId) => host.urls({ projectId, deploymentId: '' }).production,
      deployment: (projectId, deploymentId) => host.urls({ projectId, deploymentId }).deployment,
    },
  };
});

export const awsApi = once(() => {
  const { client, store, ids, now } = core();
  const { host } = awsDeploy();
  // Every /api/* route needs a token; API Gateway already routes by host, so no Host list here.
  const access = accessCommands({ tokens: dynamoTokenStore({ client, tableName: required(process.env, AwsRuntimeEnv.tokensTable) }), ids, now });
  return {
    access,
    guard: { verify: tokenVerifier(access) },
    deployments: { store, logs: awsBuild().logs, host, urls: (i: { projectId: string; deploymentId: string }) => host.urls(i) },
    domains: domainCommands({ store, ids, now }),
    observability: awsObservabilityQueries(),
    subscriptions: subscriptionCommands({ store, secrets: awsSecrets(), ids, now, secretRefScheme: 'ssm', allow: webhookAllow() }),
    ingest: awsIngest(),
    events: awsEventRoutes(),
  };
});
