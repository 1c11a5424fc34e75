import { afterEach, describe, expect, it } from 'vitest';
import { subscriptions } from '../topology.ts';
import { adapterNeeds, FunctionEnv } from './index.ts';
import { DECLARED_ROUTING_ENDPOINT } from '../aws-box/declared.ts';
import { ACCOUNT, arnOf, BUCKET_SUFFIX, declareUnderMocks, REGION, resolved, stateOf } from './mocked-stack.ts';
import { awsBuild, awsDeploy, awsDomains, AwsRuntimeEnv, siteCname } from './runtime/root.ts';

// What each build and deploy function gets (adapter-access.ts): its environment and its IAM
// statements, written out in full, under Pulumi mocks.

const artifacts = `arn:aws:s3:::shiplog-ci-artifacts-${BUCKET_SUFFIX}`;
const sites = `arn:aws:s3:::shiplog-ci-sites-${BUCKET_SUFFIX}`;
const project = `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/shiplog-ci-build`;
const idempotencyTable = arnOf('aws:dynamodb/table:Table', 'shiplog-ci-idempotency');
const siteRole = `arn:aws:iam::${ACCOUNT}:role/shiplog-ci-site`;
const dlq = (name: string) => ({ actions: ['sqs:SendMessage'], resources: [arnOf('aws:sqs/queue:Queue', `shiplog-ci-${name}-dlq`)] });
const idempotency = { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [idempotencyTable] };
const viewsTable = arnOf('aws:dynamodb/table:Table', 'shiplog-ci-views');
/** The Projections function's access to the read models (read-models.ts; read-models.int.test.ts). */
const views = {
  actions: [
    'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem',
  ],
  resources: [viewsTable, `${viewsTable}/index/byList`],
};

const base = { SHIPLOG_EVENTS_TABLE: 'shiplog-ci-events', SHIPLOG_BUS_NAME: 'shiplog-ci', SHIPLOG_PREFIX: 'shiplog-ci' };
const buildEnv = {
  ...base,
  SHIPLOG_BUILD_PROJECT: 'shiplog-ci-build',
  SHIPLOG_BUILD_LOG_GROUP: '/aws/codebuild/shiplog-ci-build',
  SHIPLOG_BUILD_TIMEOUT_MINUTES: '20',
  SHIPLOG_ARTIFACTS_BUCKET: `shiplog-ci-artifacts-${BUCKET_SUFFIX}`,
};
/** The sites' routing store and distribution (sites-edge.ts), as the mocks name them. */
const kvs = stateOf({ type: 'aws:cloudfront/keyValueStore:KeyValueStore', name: 'SitesKeyValueStore', inputs: { name: 'shiplog-ci-sites' } }).arn as string;
const distribution = stateOf({ type: 'aws:cloudfront/multitenantDistribution:MultitenantDistribution', name: 'SitesDistribution', inputs: {} }).arn as string;
/** The stage's GitHub connection (build-runner.ts), as the mocks name it: the entry that starts builds passes it to StartBuild. */
const githubConnection = stateOf({ type: 'aws:codeconnections/connection:Connection', name: 'GitHubConnection', inputs: { name: 'shiplog-ci-github' } }).arn as string;
const deployEnv = {
  ...base,
  SHIPLOG_SITES_BUCKET: `shiplog-ci-sites-${BUCKET_SUFFIX}`,
  SHIPLOG_SITE_ROLE_ARN: siteRole,
  SHIPLOG_SITE_ROLE_BOUNDARY_ARN: `arn:aws:iam::${ACCOUNT}:policy/shiplog-ci-site-boundary`,
  SHIPLOG_SITE_DOMAIN: 'apps.example.com',
  SHIPLOG_IDEMPOTENCY_TABLE: 'shiplog-ci-idempotency',
  SHIPLOG_SITES_KVS_ARN: kvs,
  SHIPLOG_SITES_DISTRIBUTION_ARN: distribution,
  // ISR's backends (site-cache.ts), for the site functions' environment
  SHIPLOG_SITE_CACHE_TABLE: 'shiplog-ci-isr-tags',
  SHIPLOG_SITE_REVALIDATION_QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/shiplog-ci-isr-revalidation.fifo`,
};
const tagsTable = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/shiplog-ci-isr-tags`;
const buildBoundary = `arn:aws:iam::${ACCOUNT}:policy/shiplog-ci-build-boundary`;
const buildRoles = `arn:aws:iam::${ACCOUNT}:role/shiplog/shiplog-ci/build-*`;
const completes = (name: string) => [
  dlq(name),
  { actions: ['codebuild:ListBuildsForProject', 'codebuild:BatchGetBuilds'], resources: [project] },
  { actions: ['s3:GetObject'], resources: [`${artifacts}/artifacts/*`] },
  { actions: ['s3:ListBucket'], resources: [artifacts] },
  { actions: ['logs:GetLogEvents'], resources: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/shiplog-ci-build:log-stream:*`] },
];
const deploys = (name: string) => [
  dlq(name),
  {
    actions: [
      'lambda:CreateFunction', 'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration', 'lambda:PublishVersion', 'lambda:ListVersionsByFunction',
      'lambda:GetFunctionConfiguration', 'lambda:GetAlias', 'lambda:CreateAlias', 'lambda:UpdateAlias', 'lambda:TagResource',
      'lambda:InvokeFunction',
    ],
    resources: [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:shiplog-ci-site-*`],
  },
  {
    actions: ['iam:CreateRole', 'iam:PutRolePolicy'],
    resources: [`arn:aws:iam::${ACCOUNT}:role/shiplog/shiplog-ci/site-*`],
    conditions: [{ test: 'StringEquals', variable: 'iam:PermissionsBoundary', values: [`arn:aws:iam::${ACCOUNT}:policy/shiplog-ci-site-boundary`] }],
  },
  {
    actions: ['iam:PassRole'],
    resources: [siteRole, `arn:aws:iam::${ACCOUNT}:role/shiplog/shiplog-ci/site-*`],
    conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['lambda.amazonaws.com'] }],
  },
  { actions: ['s3:GetObject'], resources: [`${artifacts}/artifacts/*`] },
  { actions: ['s3:GetObject', 's3:PutObject'], resources: [`${sites}/*`] },
  { actions: ['dynamodb:BatchWriteItem'], resources: [tagsTable] },
  { actions: ['s3:ListBucket'], resources: [artifacts, sites] },
  idempotency,
  // a Function URL on each site function and its aliases, callable by the distribution; the routing keys
  {
    actions: ['lambda:CreateFunctionUrlConfig', 'lambda:GetFunctionUrlConfig', 'lambda:AddPermission'],
    resources: [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:shiplog-ci-site-*`, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:shiplog-ci-site-*:*`],
  },
  {
    actions: [
      'cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:GetKey', 'cloudfront-keyvaluestore:PutKey',
      'cloudfront-keyvaluestore:DeleteKey', 'cloudfront-keyvaluestore:UpdateKeys',
    ],
    resources: [kvs],
  },
];

// CloudFront reads certificates from us-east-1 only, whatever the stack's region.
const certificates = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/*`;
const domainsEnv = { ...base, SHIPLOG_SITE_DOMAIN: 'apps.example.com', SHIPLOG_IDEMPOTENCY_TABLE: 'shiplog-ci-idempotency' };
// The entries that attach (a check finds the certificate issued) or detach a domain on the sites distribution.
const edgeEnv = { ...domainsEnv, SHIPLOG_SITES_KVS_ARN: kvs, SHIPLOG_SITES_DISTRIBUTION_ARN: distribution };
// The entries that add and remove domains create and delete their records in the account's hosted zones.
const dnsZones = [
  { actions: ['route53:ListHostedZones'], resources: ['*'] },
  {
    actions: ['route53:ChangeResourceRecordSets'],
    resources: ['arn:aws:route53:::hostedzone/*'],
    conditions: [{ test: 'ForAllValues:StringEquals', variable: 'route53:ChangeResourceRecordSetsRecordTypes', values: ['CNAME', 'A', 'AAAA'] }],
  },
];
const domainEdge = [
  {
    actions: ['cloudfront:CreateDistributionTenant', 'cloudfront:GetDistributionTenant', 'cloudfront:UpdateDistributionTenant', 'cloudfront:DeleteDistributionTenant', 'cloudfront:TagResource'],
    resources: [distribution, `arn:aws:cloudfront::${ACCOUNT}:distribution-tenant/*`],
  },
  { actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:UpdateKeys'], resources: [kvs] },
];

const expected: [name: string, environment: Record<string, string>, permissions: object[], timeoutSeconds: number | undefined][] = [
  [
    'BuildOnDeploymentRequested',
    { ...buildEnv, SHIPLOG_IDEMPOTENCY_TABLE: 'shiplog-ci-idempotency', SHIPLOG_BUILD_ROLE_BOUNDARY_ARN: buildBoundary, SHIPLOG_GITHUB_CONNECTION_ARN: githubConnection },
    [
      dlq('BuildOnDeploymentRequested'),
      { actions: ['codebuild:ListBuildsForProject', 'codebuild:BatchGetBuilds', 'codebuild:StartBuild', 'codebuild:StopBuild'], resources: [project] },
      // each project's build role, under the stage's boundary (build-isolation.int.test.ts)
      {
        actions: ['iam:CreateRole', 'iam:PutRolePolicy'], resources: [buildRoles],
        conditions: [{ test: 'StringEquals', variable: 'iam:PermissionsBoundary', values: [buildBoundary] }],
      },
      { actions: ['iam:PassRole'], resources: [buildRoles], conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['codebuild.amazonaws.com'] }] },
      idempotency,
    ],
    120,
  ],
  ['BuildOnCodeBuildStateChange', buildEnv, completes('BuildOnCodeBuildStateChange'), 120],
  ['BuildReconcile', buildEnv, completes('BuildReconcile'), 300],
  ['DeployOnBuildSucceeded', deployEnv, deploys('DeployOnBuildSucceeded'), 900],
  ['DeployOnBuildEnded', deployEnv, deploys('DeployOnBuildEnded'), 900],
  ['DeployOnReleaseRequest', deployEnv, deploys('DeployOnReleaseRequest'), 900],
  ['DeployOnMountsChanged', deployEnv, deploys('DeployOnMountsChanged'), 900],
  [
    'DomainsOnDomainAdded',
    // the records it shows point at the sites' routing endpoint
    { ...domainsEnv, SHIPLOG_DNS_ZONES: 'route53', SHIPLOG_SITES_DNS_TARGET: DECLARED_ROUTING_ENDPOINT },
    [
      dlq('DomainsOnDomainAdded'),
      { actions: ['acm:RequestCertificate'], resources: ['*'] },
      { actions: ['acm:DescribeCertificate'], resources: [certificates] },
      ...dnsZones,
      idempotency,
    ],
    60,
  ],
  ['DomainsOnValidationPending', edgeEnv, [dlq('DomainsOnValidationPending'), { actions: ['acm:DescribeCertificate'], resources: [certificates] }, ...domainEdge, idempotency], 60],
  ['DomainsOnDomainRemoved', { ...edgeEnv, SHIPLOG_DNS_ZONES: 'route53' }, [dlq('DomainsOnDomainRemoved'), { actions: ['acm:DeleteCertificate'], resources: [certificates] }, ...dnsZones, ...domainEdge, idempotency], 60],
  // The scheduled reconcile of pending certificates: ACM reads, and reads of the read models to find them.
  [
    'DomainsReconcile',
    { ...edgeEnv, SHIPLOG_VIEWS_TABLE: 'shiplog-ci-views' },
    [
      dlq('DomainsReconcile'),
      { actions: ['acm:DescribeCertificate'], resources: [certificates] },
      ...domainEdge,
      idempotency,
      { actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], resources: [viewsTable] },
    ],
    60,
  ],
  ['Projections', { ...base, SHIPLOG_VIEWS_TABLE: 'shiplog-ci-views' }, [dlq('Projections'), views], undefined],
  // Signing secrets only: SSM parameters under /<prefix>/subscription/, decrypted with the stack's key through SSM.
  [
    'SubscriptionsDeliver',
    { ...base, SHIPLOG_SECRETS_TABLE: 'shiplog-ci-secrets', SHIPLOG_SECRETS_KEY: 'alias/shiplog-ci-secrets' },
    [
      dlq('SubscriptionsDeliver'),
      { actions: ['ssm:GetParameter'], resources: [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shiplog-ci/subscription/*`] },
      {
        actions: ['kms:Decrypt'],
        resources: [`arn:aws:kms:${REGION}:${ACCOUNT}:key/Secrets`],
        conditions: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`ssm.${REGION}.amazonaws.com`] }],
      },
      { actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [arnOf('aws:dynamodb/table:Table', 'shiplog-ci-secrets')] },
    ],
    undefined,
  ],
  ['ObservabilityOnAlarmRaised', base, [dlq('ObservabilityOnAlarmRaised')], undefined],
  // The scheduled alarm evaluation: the site functions' logs (their invocation reports) and the projects from the read models.
  [
    'AlarmsEvaluate',
    { ...base, SHIPLOG_VIEWS_TABLE: 'shiplog-ci-views' },
    [
      dlq('AlarmsEvaluate'),
      { actions: ['logs:FilterLogEvents'], resources: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/shiplog-ci-site-*:*`] },
      { actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], resources: [viewsTable] },
    ],
    120,
  ],
];

describe('infra/aws gives each function what its AWS adapters and the read models need, and no more', () => {
  it.each(expected)('%s: environment, permissions and timeout', async (name, environment, permissions, timeoutSeconds) => {
    const s = await declareUnderMocks(subscriptions);
    const spec = s.spec(name);
    expect(await resolved(spec.environment)).toEqual(environment);
    expect(await resolved(spec.permissions)).toEqual(permissions);
    expect(spec.timeoutSeconds).toBe(timeoutSeconds);
    expect(spec.links.map((l) => l.name)).toEqual(['ShiplogEvents', 'ShiplogBus']);
  });

  it('covers every function of the stack', async () => {
    const s = await declareUnderMocks(subscriptions);
    // The Api function's access is api.ts's (api.int.test.ts, the AdminToken function's too), IsrRevalidate's site-cache.ts's (site-cache.int.test.ts).
    expect(s.specs.map((f) => f.name).sort()).toEqual([...expected.map(([name]) => name), 'OutboxEnrich', 'Api', 'AdminToken', 'IsrRevalidate'].sort());
  });

  it("passes the site cache table and revalidation queue to the deploy functions, for the site functions' environment", async () => {
    const siteCache = { table: { name: 'tags', arn: 'arn:aws:dynamodb:::table/tags' }, revalidationQueue: { url: 'https://q', arn: 'arn:aws:sqs:::q' } };
    const s = await declareUnderMocks(subscriptions, { siteCache });
    expect(await resolved(s.spec('DeployOnBuildSucceeded').environment)).toEqual({
      ...deployEnv,
      SHIPLOG_SITE_CACHE_TABLE: 'tags',
      SHIPLOG_SITE_REVALIDATION_QUEUE_URL: 'https://q',
    });
    expect(await resolved(s.spec('BuildReconcile').environment)).toEqual(buildEnv);
  });

  it('refuses a build entry it has not decided the rights of', async () => {
    const s = await declareUnderMocks(subscriptions);
    expect(() => adapterNeeds({} as never, 'infra/aws/functions/build.somethingNew', s.stack.adapters.resources)).toThrow(/somethingNew/);
    expect(() => adapterNeeds({} as never, 'infra/aws/functions/domains.somethingNew', s.stack.adapters.resources)).toThrow(/somethingNew/);
    expect(adapterNeeds({} as never, 'infra/aws/functions/subscriptions.fanout', s.stack.adapters.resources)).toEqual({});
  });
});

describe('the environment infra/aws sets is the one infra/aws/runtime reads', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('names every AwsRuntimeEnv variable as FunctionEnv does', () => {
    for (const [key, name] of Object.entries(AwsRuntimeEnv)) expect(FunctionEnv[key as keyof typeof FunctionEnv], key).toBe(name);
  });

  it('is enough for the AWS composition roots of build, deploy and domains', async () => {
    const s = await declareUnderMocks(subscriptions);
    process.env = { ...saved, AWS_REGION: REGION, ...(await resolved(s.spec('BuildReconcile').environment)) };
    expect(() => awsBuild()).not.toThrow();
    process.env = { ...saved, AWS_REGION: REGION, ...(await resolved(s.spec('DeployOnReleaseRequest').environment)) };
    expect(() => awsDeploy()).not.toThrow();
    process.env = { ...saved, AWS_REGION: REGION, ...(await resolved(s.spec('DomainsReconcile').environment)) };
    expect(() => awsDomains()).not.toThrow();
  });
});

describe('the AWS domains composition root', () => {
  it('routes a custom host with a CNAME to the sites domain', () => {
    expect(siteCname('apps.example.com')({ projectId: 'web', host: 'www.example.com', alias: 'production' }))
      .toEqual({ purpose: 'routing', name: 'www.example.com', type: 'CNAME', value: 'apps.example.com' });
  });
});
