import { createHash } from 'node:crypto';
import { CreateRoleCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { awsErrorName } from '../../../shell/index.ts';
import { BuildRunnerConfigError } from './codebuild-build.ts';

/**
 * Where a stage's per-project build roles live: their own IAM path, so that a pattern over it
 * (`role/shiplog/<prefix>/build-*`) reaches no other stage's roles and none SST names.
 *
 * @example
 * buildRolePath('shiplog-ci'); // '/shiplog/shiplog-ci/'
 */
export const buildRolePath = (prefix: string): string => `/shiplog/${prefix}/`;

/**
 * The name of one project's build role: `build-<project>`, shortened with a hash past IAM's 64 characters.
 *
 * @example
 * buildRoleName('web'); // 'build-web'
 */
export const buildRoleName = (projectId: string): string => {
  const name = `build-${projectId}`;
  return name.length <= 64 ? name : `${name.slice(0, 55)}-${createHash('sha256').update(projectId).digest('hex').slice(0, 8)}`;
};

/**
 * The ARN of one project's build role.
 *
 * @example
 * buildRoleArn({ accountId: '123456789012', prefix: 'shiplog' }, 'web'); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/build-web'
 */
export const buildRoleArn = (s: { accountId: string; prefix: string }, projectId: string): string =>
  `arn:aws:iam::${s.accountId}:role${buildRolePath(s.prefix)}${buildRoleName(projectId)}`;

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
}

/**
 * One IAM policy statement, as IAM's JSON has it.
 *
 * @example
 * const s: PolicyStatement = { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: ['arn:aws:ssm:eu-west-1:123456789012:parameter/shiplog/env/web/*'] };
 */
export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

/**
 * What CodeBuild may do while it runs one project's build, and nothing of another project's:
 * read that project's env var parameters (decrypted through SSM only), read its uploaded
 * sources, write its artifacts, read and write its build cache, and write the builds' log group.
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
    { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [parameters] },
    {
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: [`arn:aws:kms:${s.region}:${s.accountId}:key/*`],
      Condition: {
        StringEquals: { 'kms:ViaService': [`ssm.${s.region}.amazonaws.com`] },
        StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': [parameters] },
      },
    },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucket}/sources/${projectId}/*`] },
    { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`${bucket}/artifacts/${projectId}/*`] },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [`${bucket}/cache/${projectId}/*`] },
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [logGroup, `${logGroup}:*`] },
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
 * exists with its policy (creating it under the stage's permissions boundary the first time,
 * writing its inline policy every time a process first asks, so it follows shiplog's upgrades)
 * and answers its ARN, which `StartBuild` passes as `serviceRoleOverride`.
 *
 * @example
 * const roles = buildRoles(opts);
 * await roles.roleFor('web'); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/build-web'
 */
export const buildRoles = (opts: BuildRolesOptions) => {
  const { iam, scope } = opts;
  const known = new Map<string, Promise<string>>();
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:SourceAccount': scope.accountId } },
    }],
  });
  const ensure = async (projectId: string): Promise<string> => {
    const RoleName = buildRoleName(projectId);
    try {
      await iam.send(new CreateRoleCommand({
        RoleName, Path: buildRolePath(scope.prefix), AssumeRolePolicyDocument: trust, PermissionsBoundary: opts.boundaryArn,
        Description: `shiplog: builds of ${projectId}`, MaxSessionDuration: 3600,
      }));
    } catch (err) {
      if (awsErrorName(err) !== 'EntityAlreadyExistsException') throw new BuildRunnerConfigError(`cannot create the build role of ${projectId}: ${(err as Error).message}`);
    }
    await iam.send(new PutRolePolicyCommand({
      RoleName, PolicyName: BUILD_ROLE_POLICY, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: buildRoleStatements(scope, projectId) }),
    })).catch((err: unknown) => {
      throw new BuildRunnerConfigError(`cannot write the build role policy of ${projectId}: ${(err as Error).message}`);
    });
    return buildRoleArn(scope, projectId);
  };
  return {
    roleFor: (projectId: string): Promise<string> => {
      let p = known.get(projectId);
      if (!p) {
        p = ensure(projectId);
        known.set(projectId, p);
        p.catch(() => known.delete(projectId));
      }
      return p;
    },
  };
};
