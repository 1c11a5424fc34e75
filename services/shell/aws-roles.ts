import { createHash } from 'node:crypto';
import { CreateRoleCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { awsErrorName } from './aws-errors.ts';

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
 * Reading SSM parameters decrypted, through SSM only: `GetParameters` on `parameters`, and
 * `kms:Decrypt` of the stage's keys only when SSM asks for one of those parameters.
 *
 * @example
 * readParametersStatements({ region: 'eu-west-1', accountId: '123456789012' }, 'arn:aws:ssm:eu-west-1:123456789012:parameter/shiplog/env/web/*');
 */
export const readParametersStatements = (s: { region: string; accountId: string }, parameters: string): PolicyStatement[] => [
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
];

/**
 * Where a stage's per-project roles live: an IAM path of its own, so that a pattern over it
 * (`role/shiplog/<prefix>/build-*`) reaches no other stage's roles and none SST names.
 *
 * @example
 * projectRolePath('shiplog-ci'); // '/shiplog/shiplog-ci/'
 */
export const projectRolePath = (prefix: string): string => `/shiplog/${prefix}/`;

/**
 * The name of one project's role of a kind: `<kind>-<project>`, shortened with a hash past IAM's 64 characters.
 *
 * @example
 * projectRoleName('build', 'web'); // 'build-web'
 */
export const projectRoleName = (kind: string, projectId: string): string => {
  const name = `${kind}-${projectId}`;
  return name.length <= 64 ? name : `${name.slice(0, 55)}-${createHash('sha256').update(projectId).digest('hex').slice(0, 8)}`;
};

/**
 * The ARN of one project's role of a kind.
 *
 * @example
 * projectRoleArn({ accountId: '123456789012', prefix: 'shiplog' }, 'site', 'web'); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/site-web'
 */
export const projectRoleArn = (s: { accountId: string; prefix: string }, kind: string, projectId: string): string =>
  `arn:aws:iam::${s.accountId}:role${projectRolePath(s.prefix)}${projectRoleName(kind, projectId)}`;

/**
 * Options of {@link projectRoles}.
 *
 * @example
 * projectRoles({ iam, prefix: 'shiplog', accountId, kind: 'site', service: 'lambda.amazonaws.com', boundaryArn, policyName: 'project-site', statementsFor, refused });
 */
export interface ProjectRolesOptions {
  iam: IAMClient;
  prefix: string;
  accountId: string;
  /** `build`, `site`: the first part of the role's name. */
  kind: string;
  /** The service that assumes the roles (`codebuild.amazonaws.com`, `lambda.amazonaws.com`). */
  service: string;
  /** Trust the service only on behalf of this account (`aws:SourceAccount`; CodeBuild sends it, Lambda's execution role trust takes none). */
  sourceAccount?: boolean;
  /** Every role is created under this permissions boundary: the stage's most for its kind. */
  boundaryArn: string;
  /** The name of the inline policy each role carries. */
  policyName: string;
  statementsFor: (projectId: string) => PolicyStatement[];
  /** The error an IAM refusal becomes (the caller's configuration error). */
  refused: (message: string) => Error;
}

/**
 * One role per project of a kind. `roleFor` makes sure the project's role exists (created under
 * the boundary the first time) and writes its inline policy once per process (so a role follows
 * shiplog's upgrades), then answers its ARN. Concurrent asks for one project share one attempt; a
 * failed attempt is forgotten.
 *
 * @example
 * const roles = projectRoles(opts);
 * await roles.roleFor('web'); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/site-web'
 */
export const projectRoles = (o: ProjectRolesOptions) => {
  const known = new Map<string, Promise<string>>();
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow', Principal: { Service: o.service }, Action: 'sts:AssumeRole',
      ...(o.sourceAccount ? { Condition: { StringEquals: { 'aws:SourceAccount': o.accountId } } } : {}),
    }],
  });
  const ensure = async (projectId: string): Promise<string> => {
    const RoleName = projectRoleName(o.kind, projectId);
    try {
      await o.iam.send(new CreateRoleCommand({
        RoleName, Path: projectRolePath(o.prefix), AssumeRolePolicyDocument: trust, PermissionsBoundary: o.boundaryArn,
        Description: `shiplog: ${o.kind} of ${projectId}`,
      }));
    } catch (err) {
      if (awsErrorName(err) !== 'EntityAlreadyExistsException') throw o.refused(`cannot create the ${o.kind} role of ${projectId}: ${(err as Error).message}`);
    }
    const PolicyDocument = JSON.stringify({ Version: '2012-10-17', Statement: o.statementsFor(projectId) });
    await o.iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: o.policyName, PolicyDocument })).catch((err: unknown) => {
      throw o.refused(`cannot write the ${o.kind} role policy of ${projectId}: ${(err as Error).message}`);
    });
    return projectRoleArn(o, o.kind, projectId);
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
