import type { Input } from '@pulumi/pulumi';
import { buildRolesPattern } from './build-runner.ts';
import type { AccountScope, Cloud, PermissionSpec } from './cloud.ts';
import { FunctionEnv, siteFunctionPattern } from './names.ts';
import { siteRolesPattern, type SiteCache } from './site-role.ts';
import type { FunctionNeeds } from './subscription.ts';

/**
 * The resources the AWS build and deploy adapters use, as their functions see them.
 *
 * @example
 * const r: AdapterResources = { prefix: 'shiplog', scope, buildProject: { name: project.name, arn: project.arn }, … };
 */
export interface AdapterResources {
  prefix: string;
  scope: AccountScope;
  buildProject: NamedArn;
  buildLogGroup: NamedArn;
  buildTimeoutMinutes: number;
  /** The permissions boundary every per-project build role is created under (`build-runner.ts`). */
  buildRoleBoundaryArn: Input<string>;
  /** The stage's connection to GitHub, when it has one: builds fetch GitHub sources through it (`build-runner.ts`). */
  githubConnectionArn?: Input<string>;
  artifactsBucket: NamedArn;
  sitesBucket: NamedArn;
  siteRoleArn: Input<string>;
  /** The permissions boundary every per-project site role is created under (`site-role.ts`). */
  siteRoleBoundaryArn: Input<string>;
  siteDomain: Input<string>;
  idempotencyTable: NamedArn;
  siteCache: SiteCache;
  /** The sites' routing state, which the deploy entries write (`infra/aws/sites-edge.ts`). */
  sitesKeyValueStore: NamedArn;
  /** The sites' multi-tenant distribution, the only caller a site's Function URL lets in. */
  sitesDistributionArn: Input<string>;
  /** Where custom domains point: the routing endpoint of the sites' connection group (`sites-edge.ts`). */
  sitesDnsTarget?: Input<string>;
}

/**
 * What the sites' CloudFront front adds to {@link AdapterResources}; the rest comes from
 * `declareAdapters`, declared before the front (which needs the sites bucket).
 *
 * @example
 * const edge: EdgeResources = { sitesKeyValueStore: { name: kvs.name, arn: kvs.arn }, sitesDistributionArn: distribution.arn };
 */
export type EdgeResources = Pick<AdapterResources, 'sitesKeyValueStore' | 'sitesDistributionArn'>;

/**
 * A resource's name and ARN.
 *
 * @example
 * const project: NamedArn = { name: p.name, arn: p.arn };
 */
export interface NamedArn {
  name: Input<string>;
  arn: Input<string>;
}

/** What each AWS build entry calls (infra/aws/functions/build.ts through infra/aws/runtime/root.ts). */
const BUILD_ENTRIES: Record<string, { starts: boolean; completes: boolean; idempotent: boolean; timeoutSeconds: number }> = {
  // codeBuildScheduler.submit: reads the lane, starts one build, stops superseded ones.
  'infra/aws/functions/build.onDeploymentRequested': { starts: true, completes: false, idempotent: true, timeoutSeconds: 120 },
  // codeBuildCompletions: reads builds, the artifact manifest and, for a failure, the log tail.
  'infra/aws/functions/build.onCodeBuildStateChange': { starts: false, completes: true, idempotent: false, timeoutSeconds: 120 },
  'infra/aws/functions/build.reconcile': { starts: false, completes: true, idempotent: false, timeoutSeconds: 300 },
};
const DEPLOY_MODULE = 'infra/aws/functions/deploy.';
/** Publishing waits up to 5 minutes for a function update (services/deploy/adapters/site-host/aws.ts) after copying the assets. */
const DEPLOY_TIMEOUT_SECONDS = 900;

const DOMAINS_MODULE = 'infra/aws/functions/domains.';
/** What each AWS domains entry calls of ACM (services/domains/adapters/certificate-authority/aws.ts). */
const DOMAIN_ENTRIES: Record<string, 'request' | 'status' | 'release'> = {
  // RequestCertificate, then DescribeCertificate until the validation record appears (up to 30 s).
  'infra/aws/functions/domains.onDomainAdded': 'request',
  'infra/aws/functions/domains.onValidationPending': 'status',
  'infra/aws/functions/domains.onDomainRemoved': 'release',
  // The scheduled reconcile: DescribeCertificate of every pending domain.
  'infra/aws/functions/domains.reconcile': 'status',
};
/** The entries that read the site functions' CloudWatch Logs (runtime logs, metrics, alarms). */
const SITE_LOG_READERS = new Set(['infra/aws/functions/observability.evaluateAlarms']);

/**
 * Reading the site functions' log groups (`/aws/lambda/<prefix>-site-*`): FilterLogEvents, what
 * the observability service's AWS adapters call.
 *
 * @example
 * siteLogsRead(cloud, resources); // [{ actions: ['logs:FilterLogEvents'], resources: ['arn:aws:logs:…:log-group:/aws/lambda/shiplog-site-*:*'] }]
 */
export const siteLogsRead = ({ pulumi }: Cloud, r: Pick<AdapterResources, 'prefix' | 'scope'>): PermissionSpec[] => [
  {
    actions: ['logs:FilterLogEvents'],
    resources: [pulumi.interpolate`arn:aws:logs:${r.scope.region}:${r.scope.accountId}:log-group:/aws/lambda/${siteFunctionPattern(r.prefix)}:*`],
  },
];

/** The request waits up to 30 s for ACM's validation records, after the event store's reads and writes. */
const DOMAINS_TIMEOUT_SECONDS = 60;

/**
 * Read and write of handled event ids: the calls of Powertools' `DynamoDBPersistenceLayer`.
 *
 * @example
 * idempotencyAccess(table.arn); // [{ actions: ['dynamodb:GetItem', …], resources: [table.arn] }]
 */
export const idempotencyAccess = (tableArn: Input<string>): PermissionSpec[] => [
  { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [tableArn] },
];

/**
 * What starting a project's build needs of IAM (services/build/adapters/scheduler/build-roles.ts):
 * creating the project's build role and writing its policy, only under the stage's build boundary
 * and only on the stage's build role path, and passing those roles to CodeBuild alone.
 */
const buildRolesAccess = (cloud: Cloud, r: AdapterResources): PermissionSpec[] => {
  const roles = buildRolesPattern(cloud, r);
  return [
    {
      actions: ['iam:CreateRole', 'iam:PutRolePolicy'],
      resources: [roles],
      conditions: [{ test: 'StringEquals', variable: 'iam:PermissionsBoundary', values: [r.buildRoleBoundaryArn] }],
    },
    { actions: ['iam:PassRole'], resources: [roles], conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['codebuild.amazonaws.com'] }] },
  ];
};

const buildAccess = (cloud: Cloud, r: AdapterResources, entry: (typeof BUILD_ENTRIES)[string]): PermissionSpec[] => [
  {
    actions: ['codebuild:ListBuildsForProject', 'codebuild:BatchGetBuilds', ...(entry.starts ? ['codebuild:StartBuild', 'codebuild:StopBuild'] : [])],
    resources: [r.buildProject.arn],
  },
  ...(entry.starts ? buildRolesAccess(cloud, r) : []),
  ...(entry.completes
    ? [
        { actions: ['s3:GetObject'], resources: [cloud.pulumi.interpolate`${r.artifactsBucket.arn}/artifacts/*`] },
        { actions: ['s3:ListBucket'], resources: [r.artifactsBucket.arn] },
        { actions: ['logs:GetLogEvents'], resources: [cloud.pulumi.interpolate`${r.buildLogGroup.arn}:log-stream:*`] },
      ]
    : []),
  ...(entry.idempotent ? idempotencyAccess(r.idempotencyTable.arn) : []),
];

const deployAccess = (cloud: Cloud, r: AdapterResources): PermissionSpec[] => {
  const { pulumi } = cloud;
  const { region, accountId } = r.scope;
  return [
    {
      actions: [
        // UpdateFunctionConfiguration: a function made before its builds carried the env entry gets its handler.
        'lambda:CreateFunction', 'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration', 'lambda:PublishVersion', 'lambda:ListVersionsByFunction',
        'lambda:GetFunctionConfiguration', 'lambda:GetAlias', 'lambda:CreateAlias', 'lambda:UpdateAlias', 'lambda:TagResource',
        // the health gate invokes a new version before its alias moves
        'lambda:InvokeFunction',
      ],
      resources: [pulumi.interpolate`arn:aws:lambda:${region}:${accountId}:function:${siteFunctionPattern(r.prefix)}`],
    },
    // each project's site role (site-roles.ts), only under the stage's site boundary; the shared one for functions made before
    {
      actions: ['iam:CreateRole', 'iam:PutRolePolicy'],
      resources: [siteRolesPattern(cloud, r)],
      conditions: [{ test: 'StringEquals', variable: 'iam:PermissionsBoundary', values: [r.siteRoleBoundaryArn] }],
    },
    {
      actions: ['iam:PassRole'],
      resources: [r.siteRoleArn, siteRolesPattern(cloud, r)],
      conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['lambda.amazonaws.com'] }],
    },
    // Reading a build's output, and (CreateFunction, UpdateFunctionCode) its server zip, read with the caller's rights.
    { actions: ['s3:GetObject'], resources: [pulumi.interpolate`${r.artifactsBucket.arn}/artifacts/*`] },
    { actions: ['s3:GetObject', 's3:PutObject'], resources: [pulumi.interpolate`${r.sitesBucket.arn}/*`] },
    // publish writes the tags each build found to ISR's tag cache
    ...(r.siteCache.table ? [{ actions: ['dynamodb:BatchWriteItem'], resources: [r.siteCache.table.arn] }] : []),
    // Without ListBucket a missing object is a 403, which the adapters would read as misconfiguration.
    { actions: ['s3:ListBucket'], resources: [r.artifactsBucket.arn, r.sitesBucket.arn] },
    ...idempotencyAccess(r.idempotencyTable.arn),
    ...siteEdgeAccess(cloud, r),
  ];
};

/** The KeyValueStore calls of the deploy service's routing writes (one key, or a batch). */
const KVS_ACTIONS = [
  'cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:GetKey', 'cloudfront-keyvaluestore:PutKey',
  'cloudfront-keyvaluestore:DeleteKey', 'cloudfront-keyvaluestore:UpdateKeys',
];

/**
 * What a deploy entry needs to put a site behind the sites' distribution: a Function URL on each
 * site function (and its aliases: the pattern's qualified form) with the permission that lets the
 * distribution call it, and the routing keys of the sites' KeyValueStore; nothing else.
 *
 * @example
 * siteEdgeAccess(cloud, resources)[1].resources; // [kvs.arn]
 */
export const siteEdgeAccess = ({ pulumi }: Cloud, r: Pick<AdapterResources, 'prefix' | 'scope' | 'sitesKeyValueStore'>): PermissionSpec[] => {
  const functions = pulumi.interpolate`arn:aws:lambda:${r.scope.region}:${r.scope.accountId}:function:${siteFunctionPattern(r.prefix)}`;
  return [
    {
      actions: ['lambda:CreateFunctionUrlConfig', 'lambda:GetFunctionUrlConfig', 'lambda:AddPermission'],
      resources: [functions, pulumi.interpolate`${functions}:*`],
    },
    { actions: KVS_ACTIONS, resources: [r.sitesKeyValueStore.arn] },
  ];
};

/**
 * What attaching and detaching a custom domain on the sites distribution calls
 * (services/domains/adapters/domain-edge/aws.ts): its distribution tenants and the domain keys of
 * the sites' KeyValueStore.
 */
const domainEdgeAccess = ({ pulumi }: Cloud, r: AdapterResources): PermissionSpec[] => [
  {
    actions: ['cloudfront:CreateDistributionTenant', 'cloudfront:GetDistributionTenant', 'cloudfront:UpdateDistributionTenant', 'cloudfront:DeleteDistributionTenant', 'cloudfront:TagResource'],
    resources: [r.sitesDistributionArn, pulumi.interpolate`arn:aws:cloudfront::${r.scope.accountId}:distribution-tenant/*`],
  },
  { actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:UpdateKeys'], resources: [r.sitesKeyValueStore.arn] },
];

const domainsAccess = (cloud: Cloud, r: AdapterResources, entry: (typeof DOMAIN_ENTRIES)[string]): PermissionSpec[] => {
  const { pulumi } = cloud;
  // CloudFront takes certificates from us-east-1 only: the domains functions request them there.
  const certificates = pulumi.interpolate`arn:aws:acm:us-east-1:${r.scope.accountId}:certificate/*`;
  const acm: Record<typeof entry, PermissionSpec[]> = {
    // RequestCertificate creates the certificate: it has no resource to scope it to.
    request: [
      { actions: ['acm:RequestCertificate'], resources: ['*'] },
      { actions: ['acm:DescribeCertificate'], resources: [certificates] },
    ],
    status: [{ actions: ['acm:DescribeCertificate'], resources: [certificates] }],
    release: [{ actions: ['acm:DeleteCertificate'], resources: [certificates] }],
  };
  // The records of an added domain go to the account's hosted zone that holds them; a removal deletes them.
  const dns: PermissionSpec[] = entry === 'status' ? [] : [
    { actions: ['route53:ListHostedZones'], resources: ['*'] },
    {
      actions: ['route53:ChangeResourceRecordSets'],
      resources: ['arn:aws:route53:::hostedzone/*'],
      conditions: [{ test: 'ForAllValues:StringEquals', variable: 'route53:ChangeResourceRecordSetsRecordTypes', values: ['CNAME', 'A', 'AAAA'] }],
    },
  ];
  // A check that finds the certificate issued attaches the domain; a removal detaches it.
  return [...acm[entry], ...dns, ...(entry === 'request' ? [] : domainEdgeAccess(cloud, r)), ...idempotencyAccess(r.idempotencyTable.arn)];
};

/**
 * What one function needs for the AWS adapters, by its handler: the build entries get the
 * CodeBuild project, the artifacts and the build logs; the deploy entries the site functions
 * (with their Function URLs), the sites' KeyValueStore,
 * the site role and the buckets; the domains entries ACM (us-east-1), the sites domain and, those
 * that attach or detach domains, the distribution's tenants and domain keys; everything else
 * nothing. A new build or domains entry must be listed here first, so it never runs with rights
 * nobody decided on.
 *
 * @example
 * adapterNeeds(cloud, 'infra/aws/functions/deploy.onBuildSucceeded', resources).environment?.SHIPLOG_SITES_BUCKET;
 */
export const adapterNeeds = (cloud: Cloud, handler: string, r: AdapterResources): FunctionNeeds => {
  const entry = BUILD_ENTRIES[handler];
  if (handler.startsWith('infra/aws/functions/build.') && !entry) throw new Error(`${handler}: no AWS access is declared for this build entry`);
  if (entry) {
    return {
      environment: {
        [FunctionEnv.buildProject]: r.buildProject.name,
        [FunctionEnv.buildLogGroup]: r.buildLogGroup.name,
        [FunctionEnv.buildTimeoutMinutes]: String(r.buildTimeoutMinutes),
        [FunctionEnv.artifactsBucket]: r.artifactsBucket.name,
        ...(entry.idempotent ? { [FunctionEnv.idempotencyTable]: r.idempotencyTable.name } : {}),
        ...(entry.starts ? { [FunctionEnv.buildRoleBoundaryArn]: r.buildRoleBoundaryArn } : {}),
        // An ARN, no secret: StartBuild names it, CodeBuild fetches the token with the build's role.
        ...(entry.starts && r.githubConnectionArn ? { [FunctionEnv.githubConnectionArn]: r.githubConnectionArn } : {}),
      },
      permissions: buildAccess(cloud, r, entry),
      timeoutSeconds: entry.timeoutSeconds,
    };
  }
  const domains = DOMAIN_ENTRIES[handler];
  if (handler.startsWith(DOMAINS_MODULE) && !domains) throw new Error(`${handler}: no AWS access is declared for this domains entry`);
  if (domains) {
    return {
      environment: {
        [FunctionEnv.siteDomain]: r.siteDomain, [FunctionEnv.idempotencyTable]: r.idempotencyTable.name,
        ...(domains === 'request' ? {} : { [FunctionEnv.sitesKeyValueStoreArn]: r.sitesKeyValueStore.arn, [FunctionEnv.sitesDistributionArn]: r.sitesDistributionArn }),
        ...(domains === 'status' ? {} : { [FunctionEnv.dnsZones]: 'route53' }),
        ...(domains === 'request' && r.sitesDnsTarget ? { [FunctionEnv.sitesDnsTarget]: r.sitesDnsTarget } : {}),
      },
      permissions: domainsAccess(cloud, r, domains),
      timeoutSeconds: DOMAINS_TIMEOUT_SECONDS,
    };
  }
  if (SITE_LOG_READERS.has(handler)) return { permissions: siteLogsRead(cloud, r), timeoutSeconds: 120 };
  if (!handler.startsWith(DEPLOY_MODULE)) return {};
  const { table, revalidationQueue } = r.siteCache;
  return {
    environment: {
      [FunctionEnv.sitesBucket]: r.sitesBucket.name,
      [FunctionEnv.siteRoleArn]: r.siteRoleArn,
      [FunctionEnv.siteRoleBoundaryArn]: r.siteRoleBoundaryArn,
      [FunctionEnv.siteDomain]: r.siteDomain,
      [FunctionEnv.idempotencyTable]: r.idempotencyTable.name,
      ...(table ? { [FunctionEnv.siteCacheTable]: table.name } : {}),
      ...(revalidationQueue ? { [FunctionEnv.siteRevalidationQueueUrl]: revalidationQueue.url } : {}),
      [FunctionEnv.sitesKeyValueStoreArn]: r.sitesKeyValueStore.arn,
      [FunctionEnv.sitesDistributionArn]: r.sitesDistributionArn,
    },
    permissions: deployAccess(cloud, r),
    timeoutSeconds: DEPLOY_TIMEOUT_SECONDS,
  };
};
