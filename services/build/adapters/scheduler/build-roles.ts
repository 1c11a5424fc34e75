import type { IAMClient } from '@aws-sdk/client-iam';
import { projectRoleArn, projectRoleName, projectRolePath, projectRoles, readParametersStatements, type PolicyStatement } from '../../../shell/index.ts';
import { BuildRunnerConfigError } from './codebuild-build.ts';

export type { PolicyStatement } from '../../../shell/index.ts';

/**
 * Where a stage's per-project build roles live: the stage's role path (`/shiplog/<prefix>/`).
 *
 * @example
 * buildRolePath('shiplog-ci'); // '/shiplog/shiplog-ci/'
 */
export const buildRolePath = projectRolePath;

/**
 * The name of one project's build role: `build-<project>`, shortened with a hash past IAM's 64 characters.
 *
 * @example
 * buildRoleName('web'); // 'build-web'
 */
export const buildRoleName = (projectId: string): string => projectRoleName('build', projectId);

/**
 * The ARN of one project's build role.
 *
 * @example
 * buildRoleArn({ accountId: '123456789012', prefix: 'shiplog' }, 'web'); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/build-web'
 */
export const buildRoleArn = (s: { accountId: string; prefix: string }, projectId: string): string => projectRoleArn(s, 'build', projectId);

/**
 * What a stage's build roles are made from: its prefix, account and region, the artifacts
 * bucket and the builds' log group.
 *
 * @example
 * const scope: BuildRoleScope = { prefix: 'shiplog', accountId: '123456789012', region: 'eu-west-1', artifactsBucket: 'shiplog-artifacts-x', logGroupName: '/aws/codebuild/shiplog-build' };
 */
export interface BuildRoleScope {
  prefix: string;
  accountId: string;
  region: string;
  artifactsBucket: string;
  logGroupName: string;
  /**
   * The stage's CodeConnections connection to GitHub, when builds fetch GitHub sources through it
   * (`sourceAuthOverride`, aws.ts): CodeBuild fetches them with the build's role.
   */
  githubConnectionArn?: string;
}

/**
 * What CodeBuild calls, with a build's role, to fetch a GitHub source through a CodeConnections
 * connection: `GetConnection`, `GetConnectionToken` (the token it clones with) and `UseConnection`,
 * under the service prefix of the connection's ARN (a connection made before CodeStar Connections
 * was renamed has a `codestar-connections` ARN, and IAM matches the prefix).
 *
 * @example
 * connectionActions('arn:aws:codeconnections:eu-west-1:123456789012:connection/1a2b'); // ['codeconnections:GetConnection', …]
 */
export const connectionActions = (connectionArn: string): string[] => {
  const prefix = connectionArn.split(':')[2] === 'codestar-connections' ? 'codestar-connections' : 'codeconnections';
  return ['GetConnection', 'GetConnectionToken', 'UseConnection'].map((a) => `${prefix}:${a}`);
};

/**
 * What CodeBuild may do while it runs one project's build, and nothing of another project's:
 * read that project's env var parameters (decrypted through SSM only), read its uploaded
 * sources, write its artifacts, read and write its build cache, write the builds' log group and,
 * with a GitHub connection, fetch GitHub sources through that connection alone.
 * The role's permissions boundary (the stage's build boundary, `infra/aws/build-runner.ts`)
 * caps it at what any build of the stage may do.
 *
 * @example
 * buildRoleStatements(scope, 'web')[0].Resource; // ['arn:aws:ssm:eu-west-1:123456789012:parameter/shiplog/env/web/*']
 */
export const buildRoleStatements = (s: BuildRoleScope, projectId: string): PolicyStatement[] => {
  const parameters = `arn:aws:ssm:${s.region}:${s.accountId}:parameter/${s.prefix}/env/${projectId}/*`;
  const bucket = `arn:aws:s3:::${s.artifactsBucket}`;
  const logGroup = `arn:aws:logs:${s.region}:${s.accountId}:log-group:${s.logGroupName}`;
  return [
    ...readParametersStatements(s, parameters),
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucket}/sources/${projectId}/*`] },
    { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`${bucket}/artifacts/${projectId}/*`] },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [`${bucket}/cache/${projectId}/*`] },
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [logGroup, `${logGroup}:*`] },
    ...(s.githubConnectionArn ? [{ Effect: 'Allow' as const, Action: connectionActions(s.githubConnectionArn), Resource: [s.githubConnectionArn] }] : []),
  ];
};

/** The name of the inline policy every build role carries. */
export const BUILD_ROLE_POLICY = 'project-build';

/**
 * Options of {@link buildRoles}.
 *
 * @example
 * buildRoles({ iam: new IAMClient({}), scope, boundaryArn: 'arn:aws:iam::123456789012:policy/shiplog-build-boundary' });
 */
export interface BuildRolesOptions {
  iam: IAMClient;
  scope: BuildRoleScope;
  /** The stage's build boundary: every build role is created under it, and the build functions may create no other. */
  boundaryArn: string;
}

/**
 * The per-project CodeBuild service roles of a stage. `roleFor` makes sure the project's role
 * exists with its policy (created under the stage's permissions boundary the first time, its
 * inline policy written once per process, so it follows shiplog's upgrades) and answers its ARN,
 * which `StartBuild` passes as `serviceRoleOverride`.
 *
 * @example
 * const roles = buildRoles(opts);
 * await roles.roleFor('web'); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/build-web'
 */
export const buildRoles = (opts: BuildRolesOptions) =>
  projectRoles({
    iam: opts.iam, prefix: opts.scope.prefix, accountId: opts.scope.accountId, kind: 'build', service: 'codebuild.amazonaws.com', sourceAccount: true,
    boundaryArn: opts.boundaryArn, policyName: BUILD_ROLE_POLICY, statementsFor: (projectId) => buildRoleStatements(opts.scope, projectId),
    refused: (message) => new BuildRunnerConfigError(message),
  });
