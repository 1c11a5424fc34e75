import type * as AwsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { AccountScope, Cloud, PermissionSpec } from './cloud.ts';
import { buildRolePath, connectionActions } from '../../services/build/adapters/scheduler/build-roles.ts';
import type { StackNames } from './names.ts';
import { assumeRolePolicy, policyDocument } from './permissions.ts';
import { envParametersRead } from './secrets.ts';

/**
 * The build environment: Ubuntu 22.04 with git, zip, the aws CLI and Node 20 beside the image's
 * default Node 18. Medium compute (4 vCPU, 7 GB): `next build` of a real app can run out of
 * memory on the 3 GB small one.
 *
 * The buildspec (services/build/adapters/scheduler/buildspec.ts) selects Node 20 (`runtime-versions: nodejs: 20`
 * in `install`); without it builds would run on Node 18, which current Next.js refuses.
 *
 * @example
 * BUILD_ENVIRONMENT.image; // 'aws/codebuild/standard:7.0'
 */
export const BUILD_ENVIRONMENT = {
  type: 'LINUX_CONTAINER',
  computeType: 'BUILD_GENERAL1_MEDIUM',
  image: 'aws/codebuild/standard:7.0',
  imagePullCredentialsType: 'CODEBUILD',
} as const;

/**
 * The build timeout when the stack input gives none (`SHIPLOG_BUILD_TIMEOUT_MINUTES`'s default).
 *
 * @example
 * declareBuildRunner(cloud, { ..., timeoutMinutes: DEFAULT_BUILD_TIMEOUT_MINUTES });
 */
export const DEFAULT_BUILD_TIMEOUT_MINUTES = 20;

/**
 * How long build logs are kept. The dashboard links a deployment's log; past this it is gone,
 * while the deployment's events (with the failure's log tail) stay.
 *
 * @example
 * new aws.cloudwatch.LogGroup('BuildLogs', { retentionInDays: BUILD_LOG_RETENTION_DAYS });
 */
export const BUILD_LOG_RETENTION_DAYS = 90;

/**
 * CodeBuild requires a buildspec on a project without a source. shiplog passes the real one with
 * every `StartBuild` (`buildspecOverride`), so a build started any other way fails at once.
 *
 * @example
 * new aws.codebuild.Project('Build', { source: { type: 'NO_SOURCE', buildspec: PLACEHOLDER_BUILDSPEC } });
 */
export const PLACEHOLDER_BUILDSPEC = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  `      - "echo 'shiplog passes the buildspec with StartBuild; this project is not built on its own' >&2; exit 1"`,
  '',
].join('\n');

/**
 * How a stage's builds fetch GitHub sources: through a CodeConnections connection the stack
 * declares (`declared`, the default: a GitHub App installation the user approves once), through
 * an existing connection (`{ arn }`, also a `codestar-connections` one), or (`none`) with whatever
 * credential CodeBuild holds for the account (`aws codebuild import-source-credentials`: a
 * stage that uses a GitHub App token of its own).
 *
 * @example
 * const c: GitHubConnectionInput = { arn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0f4d…' };
 */
export type GitHubConnectionInput = 'declared' | 'none' | { arn: string };

/**
 * Reads {@link GitHubConnectionInput} from `SHIPLOG_GITHUB_CONNECTION`: unset or `declared`, `none`,
 * or a connection's ARN.
 *
 * @example
 * githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: 'none' }); // 'none'
 */
export const githubConnectionFrom = (env: Record<string, string | undefined>): GitHubConnectionInput => {
  const v = env.SHIPLOG_GITHUB_CONNECTION?.trim();
  if (!v || v === 'declared') return 'declared';
  if (v === 'none') return 'none';
  if (/^arn:aws[\w-]*:(codeconnections|codestar-connections):[\w-]+:\d{12}:connection\/[\w-]+$/.test(v)) return { arn: v };
  // Not echoed: a token pasted here by mistake stays out of the deploy's output.
  throw new Error('SHIPLOG_GITHUB_CONNECTION is neither declared (the default), none, nor the ARN of a CodeConnections connection');
};

/**
 * The stage's connection to GitHub, as {@link GitHubConnectionInput} says: a declared
 * `aws.codeconnections.Connection` (provider GitHub, named `<prefix>-github`; it stays PENDING
 * until someone completes the GitHub App handshake in the console, once), an existing one's ARN,
 * or none.
 *
 * @example
 * const github = declareGitHubConnection(cloud, { names, connection: 'declared' });
 * github.arn; // the connection's ARN, which builds fetch GitHub sources through
 */
export const declareGitHubConnection = (
  { aws }: Cloud,
  input: { names: StackNames; connection: GitHubConnectionInput },
): { connection?: AwsModule.codeconnections.Connection; arn?: Input<string>; actions: string[] } => {
  if (input.connection === 'none') return { actions: [] };
  if (typeof input.connection === 'object') return { arn: input.connection.arn, actions: connectionActions(input.connection.arn) };
  const connection = new aws.codeconnections.Connection('GitHubConnection', { name: `${input.names.prefix}-github`.slice(0, 32), providerType: 'GitHub' });
  return { connection, arn: connection.arn, actions: connectionActions('arn:aws:codeconnections:') };
};

/**
 * The most CodeBuild may do while it runs any shiplog build of this stage: read the env var
 * parameters of this stage (`/<prefix>/env/*`, decrypted through SSM only), read pushed sources,
 * upload artifacts, read and write the build cache, write to its log group and fetch GitHub
 * sources through the stage's connection (when it has one). This is the
 * permissions boundary of the per-project build roles, each of which allows the same for its
 * own project only (services/build/adapters/scheduler/build-roles.ts).
 *
 * @example
 * policyDocument(cloud, codeBuildServiceAccess(cloud, { prefix: 'shiplog', scope, artifactsBucketArn, logGroupArn }));
 */
export const codeBuildServiceAccess = (
  cloud: Cloud,
  input: {
    prefix: string; scope: AccountScope; artifactsBucketArn: Input<string>; logGroupArn: Input<string>;
    github?: { arn?: Input<string>; actions: string[] };
  },
): PermissionSpec[] => {
  const { pulumi } = cloud;
  return [
    ...envParametersRead(cloud, input),
    { actions: ['s3:GetObject'], resources: [pulumi.interpolate`${input.artifactsBucketArn}/sources/*`] },
    { actions: ['s3:PutObject'], resources: [pulumi.interpolate`${input.artifactsBucketArn}/artifacts/*`] },
    // The build cache (buildspec.ts: `cache/<project>/`); each project's role narrows it to its own prefix.
    { actions: ['s3:GetObject', 's3:PutObject'], resources: [pulumi.interpolate`${input.artifactsBucketArn}/cache/*`] },
    { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [input.logGroupArn, pulumi.interpolate`${input.logGroupArn}:*`] },
    ...(input.github?.arn ? [{ actions: input.github.actions, resources: [input.github.arn] }] : []),
  ];
};

/**
 * The IAM resources of the per-project build roles: where the build entry may create them
 * (`role/shiplog/<prefix>/build-*`), for CodeBuild only.
 *
 * @example
 * buildRolesPattern(cloud, { prefix: 'shiplog', scope }); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/build-*'
 */
export const buildRolesPattern = ({ pulumi }: Cloud, input: { prefix: string; scope: AccountScope }) =>
  pulumi.interpolate`arn:aws:iam::${input.scope.accountId}:role${buildRolePath(input.prefix)}build-*`;

/**
 * The CodeBuild project every shiplog build runs in, its log group, its default service role,
 * the permissions boundary of the per-project build roles and the stage's connection to GitHub
 * ({@link declareGitHubConnection}; declared unless `githubConnection` says otherwise). The project has no source and no
 * artifacts of its own: `StartBuild` passes the source, the buildspec, the environment, the log
 * stream and the project's own service role (`serviceRoleOverride`) of each build
 * (services/build/adapters/scheduler/aws.ts). The default role may only write logs: a build
 * started without a project's role reads no parameter and writes no artifact.
 *
 * @example
 * const runner = declareBuildRunner(cloud, { names, scope, artifacts: bucket, timeoutMinutes: 20 });
 * runner.project.name; // 'shiplog-build'
 */
export const declareBuildRunner = (
  cloud: Cloud,
  input: { names: StackNames; scope: AccountScope; artifacts: AwsModule.s3.Bucket; timeoutMinutes: number; githubConnection?: GitHubConnectionInput },
) => {
  const { aws } = cloud;
  const { names, timeoutMinutes } = input;
  if (!Number.isInteger(timeoutMinutes) || timeoutMinutes < 5 || timeoutMinutes > 2160) {
    throw new Error(`build timeout ${timeoutMinutes} is not a whole number of minutes from 5 to 2160 (CodeBuild's range)`);
  }
  const github = declareGitHubConnection(cloud, { names, connection: input.githubConnection ?? 'declared' });
  const logGroup = new aws.cloudwatch.LogGroup('BuildLogs', { name: names.buildLogGroup, retentionInDays: BUILD_LOG_RETENTION_DAYS });
  const role = new aws.iam.Role('BuildRole', {
    description: "shiplog builds: the CodeBuild project's default role (builds run with their project's own)",
    assumeRolePolicy: assumeRolePolicy(cloud, 'codebuild.amazonaws.com', input.scope.accountId),
  });
  const policy = new aws.iam.RolePolicy('BuildRolePolicy', {
    role: role.id,
    policy: policyDocument(cloud, [
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.arn, cloud.pulumi.interpolate`${logGroup.arn}:*`] },
    ]),
  });
  const boundary = new aws.iam.Policy('BuildRoleBoundary', {
    name: `${names.prefix}-build-boundary`,
    description: "shiplog: the most any project's build role may do",
    policy: policyDocument(cloud, codeBuildServiceAccess(cloud, {
      prefix: names.prefix, scope: input.scope, artifactsBucketArn: input.artifacts.arn, logGroupArn: logGroup.arn, github,
    })),
  });
  const project = new aws.codebuild.Project(
    'Build',
    {
      name: names.buildProject,
      description: 'shiplog builds: one per deployment, started by the build service with its own buildspec',
      serviceRole: role.arn,
      source: { type: 'NO_SOURCE', buildspec: PLACEHOLDER_BUILDSPEC },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: { ...BUILD_ENVIRONMENT },
      logsConfig: { cloudwatchLogs: { status: 'ENABLED', groupName: logGroup.name }, s3Logs: { status: 'DISABLED' } },
      buildTimeout: timeoutMinutes,
      queuedTimeout: 60,
    },
    // A build started before the role's policy exists could not read its parameters.
    { dependsOn: [policy] },
  );
  return { project, logGroup, role, policy, boundary, github };
};
