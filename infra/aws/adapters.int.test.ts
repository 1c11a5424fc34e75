import { describe, expect, it } from 'vitest';
import { idempotencyTableDefinition } from '../../services/shell/idempotency.ts';
import { subscriptions } from '../topology.ts';
import { ACCOUNT, BUCKET_SUFFIX, declareUnderMocks, REGION } from './mocked-stack.ts';

// The resources of the AWS build and deploy adapters (adapters.ts), declared under Pulumi mocks.

const Bucket = 'aws:s3/bucket:Bucket';
const PublicAccessBlock = 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock';
const Ownership = 'aws:s3/bucketOwnershipControls:BucketOwnershipControls';
const Project = 'aws:codebuild/project:Project';
const LogGroup = 'aws:cloudwatch/logGroup:LogGroup';
const Role = 'aws:iam/role:Role';
const RolePolicy = 'aws:iam/rolePolicy:RolePolicy';
const Table = 'aws:dynamodb/table:Table';

const artifacts = `shiplog-ci-artifacts-${BUCKET_SUFFIX}`;
const sites = `shiplog-ci-sites-${BUCKET_SUFFIX}`;
const logGroupArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/shiplog-ci-build`;
const statementsOf = (policy: { inputs: Record<string, unknown> }) => JSON.parse(policy.inputs.policy as string).Statement;
const trustOf = (role: { inputs: Record<string, unknown> }) => JSON.parse(role.inputs.assumeRolePolicy as string).Statement;

describe('infra/aws declares the build runner', () => {
  it('declares the CodeBuild project: no source (buildspec at StartBuild), Node 20 image, logs to its group, default timeout 20', async () => {
    const s = await declareUnderMocks(subscriptions);
    expect(s.ofType(Project)).toHaveLength(1);
    const project = s.one(Project, 'Build').inputs;
    expect(project).toMatchObject({
      name: 'shiplog-ci-build',
      serviceRole: `arn:aws:iam::${ACCOUNT}:role/BuildRole`,
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_MEDIUM', imagePullCredentialsType: 'CODEBUILD' },
      logsConfig: { cloudwatchLogs: { status: 'ENABLED', groupName: '/aws/codebuild/shiplog-ci-build' } },
      buildTimeout: 20,
    });
    const source = project.source as { type: string; buildspec: string; location?: string };
    expect(source.type).toBe('NO_SOURCE');
    expect(source.location).toBeUndefined();
    expect(source.buildspec).toMatch(/exit 1/);
    expect(s.one(LogGroup, 'BuildLogs').inputs).toMatchObject({ name: '/aws/codebuild/shiplog-ci-build', retentionInDays: 90 });
  });

  it('takes the timeout from the stack input, within CodeBuild range', async () => {
    const s = await declareUnderMocks(subscriptions, { buildTimeoutMinutes: 45 });
    expect(s.one(Project, 'Build').inputs.buildTimeout).toBe(45);
    await expect(declareUnderMocks(subscriptions, { buildTimeoutMinutes: 3 })).rejects.toThrow(/5 to 2160/);
  });

  it("bounds every build role by this stage's env parameters (decrypted through SSM only), sources, artifacts and logs; the default role writes logs only", async () => {
    const s = await declareUnderMocks(subscriptions);
    expect(trustOf(s.one(Role, 'BuildRole'))).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'codebuild.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ]);
    expect(statementsOf(s.one(RolePolicy, 'BuildRolePolicy'))).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [logGroupArn, `${logGroupArn}:*`] },
    ]);
    // The most any project's build role may do (each allows it for its own project: build-isolation.int.test.ts).
    const parameters = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shiplog-ci/env/*`;
    expect(statementsOf(s.one('aws:iam/policy:Policy', 'BuildRoleBoundary'))).toEqual([
      { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [parameters] },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: [`arn:aws:kms:${REGION}:${ACCOUNT}:key/*`],
        Condition: {
          StringEquals: { 'kms:ViaService': [`ssm.${REGION}.amazonaws.com`] },
          StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': [parameters] },
        },
      },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${artifacts}/sources/*`] },
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`arn:aws:s3:::${artifacts}/artifacts/*`] },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [`arn:aws:s3:::${artifacts}/cache/*`] },
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [logGroupArn, `${logGroupArn}:*`] },
      // GitHub sources through the stage's connection (github-connection.int.test.ts)
      {
        Effect: 'Allow', Action: ['codeconnections:GetConnection', 'codeconnections:GetConnectionToken', 'codeconnections:UseConnection'],
        Resource: [s.one('aws:codeconnections/connection:Connection', 'GitHubConnection').state.arn],
      },
    ]);
  });
});

describe('infra/aws declares the buckets and tables of the adapters', () => {
  it.each([
    ['Artifacts', 'shiplog-ci-artifacts-'],
    ['Sites', 'shiplog-ci-sites-'],
  ])('keeps the %s bucket private: every public access block on, no ACLs, no policy but the distribution reading sites/*', async (name, prefix) => {
    const s = await declareUnderMocks(subscriptions);
    expect(s.one(Bucket, name).inputs).toMatchObject({ bucketPrefix: prefix, forceDestroy: true });
    expect(s.one(PublicAccessBlock, `${name}PublicAccessBlock`).inputs).toEqual({
      bucket: `${prefix}${BUCKET_SUFFIX}`,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(s.one(Ownership, `${name}Ownership`).inputs).toEqual({ bucket: `${prefix}${BUCKET_SUFFIX}`, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    // The one bucket policy: the sites' distribution reads `sites/*` of the sites bucket (sites-edge.int.test.ts).
    expect(s.ofType('aws:s3/bucketPolicy:BucketPolicy').map((p) => p.inputs.bucket)).toEqual([`shiplog-ci-sites-${BUCKET_SUFFIX}`]);
    expect(s.ofType('aws:s3/bucketAclV2:BucketAclV2')).toHaveLength(0);
  });

  it('declares exactly two buckets, kept with their objects in production', async () => {
    const s = await declareUnderMocks(subscriptions, { stage: 'production' });
    expect(s.ofType(Bucket).map((b) => [b.name, b.inputs.bucketPrefix, b.inputs.forceDestroy])).toEqual([
      ['Artifacts', 'shiplog-artifacts-', false],
      ['Sites', 'shiplog-sites-', false],
    ]);
  });

  it('declares the idempotency table from idempotencyTableDefinition, with TTL on expiration', async () => {
    const s = await declareUnderMocks(subscriptions);
    const def = idempotencyTableDefinition('shiplog-ci-idempotency');
    expect(s.one(Table, 'Idempotency').inputs).toMatchObject({
      name: def.TableName,
      billingMode: def.BillingMode,
      hashKey: 'id',
      attributes: [{ name: 'id', type: 'S' }],
      ttl: { attributeName: 'expiration', enabled: true },
      streamEnabled: false,
    });
  });
});

describe('infra/aws declares the site role', () => {
  const logs = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/shiplog-ci-site-*`;
  const parameters = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shiplog-ci/env/*`;
  // the env entry reads the project's env vars at cold start, decrypted through SSM only: the boundary has it, the shared role not
  const env = [
    { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [parameters] },
    {
      Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [`arn:aws:kms:${REGION}:${ACCOUNT}:key/*`],
      Condition: { StringEquals: { 'kms:ViaService': [`ssm.${REGION}.amazonaws.com`] }, StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': [parameters] } },
    },
  ];
  const base = [
    { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [logs] },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: [`arn:aws:s3:::${sites}/cache/*`] },
    // the image functions' loader reads the deployments' public files
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${sites}/sites/*`] },
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${sites}`] },
  ];

  it("lets Lambda run site functions with their env parameters, their logs, the sites bucket's ISR cache and the stage's ISR tag cache and queue, and nothing else", async () => {
    const s = await declareUnderMocks(subscriptions);
    const role = s.one(Role, 'SiteRole');
    expect(role.inputs.name).toBe('shiplog-ci-site');
    expect(trustOf(role)).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const tags = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/shiplog-ci-isr-tags`;
    const isr = [
      { Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:BatchWriteItem'], Resource: [tags, `${tags}/index/*`] },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [`arn:aws:sqs:${REGION}:${ACCOUNT}:queue/shiplog-ci-isr-revalidation.fifo`] },
    ];
    // The shared role (functions made before their project had its own) reads no env parameter.
    expect(statementsOf(s.one(RolePolicy, 'SiteRolePolicy'))).toEqual([...base, ...isr]);
    // The most any project's site role may do (each allows it for its own project: site-isolation.int.test.ts).
    expect(s.one('aws:iam/policy:Policy', 'SiteRoleBoundary').inputs.name).toBe('shiplog-ci-site-boundary');
    expect(statementsOf(s.one('aws:iam/policy:Policy', 'SiteRoleBoundary'))).toEqual([...env, ...base, ...isr]);
  });

  it("adds the tag cache table and the revalidation queue when the stage has them", async () => {
    const table = { name: 'shiplog-ci-site-tags', arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/shiplog-ci-site-tags` };
    const queue = { url: 'https://sqs.example/revalidate.fifo', arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:revalidate.fifo` };
    const s = await declareUnderMocks(subscriptions, { siteCache: { table, revalidationQueue: queue } });
    expect(statementsOf(s.one(RolePolicy, 'SiteRolePolicy'))).toEqual([
      ...base,
      { Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:BatchWriteItem'], Resource: [table.arn, `${table.arn}/index/*`] },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [queue.arn] },
    ]);
  });
});
