import type { IAMClient } from '@aws-sdk/client-iam';
import { projectRoleArn, projectRoles, readParametersStatements, type PolicyStatement } from '../../../shell/index.ts';
import { SiteHostConfigError, siteFunctionName, siteImageFunctionName } from './aws-site.ts';

/**
 * What a stage's site roles are made from: its prefix, account and region, the sites bucket, and
 * the ISR resources every site function shares when the stage has them (OpenNext's tag cache
 * table and revalidation queue).
 *
 * @example
 * const scope: SiteRoleScope = { prefix: 'shiplog', accountId: '123456789012', region: 'eu-west-1', sitesBucket: 'shiplog-sites-x' };
 */
export interface SiteRoleScope {
  prefix: string;
  accountId: string;
  region: string;
  sitesBucket: string;
  tagCacheTableArn?: string | undefined;
  revalidationQueueArn?: string | undefined;
}

/** The name of the inline policy every site role carries. */
export const SITE_ROLE_POLICY = 'project-site';

/**
 * The ARN of one project's site role (`role/shiplog/<prefix>/site-<project>`).
 *
 * @example
 * siteRoleArn({ accountId: '123456789012', prefix: 'shiplog' }, 'web'); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/site-web'
 */
export const siteRoleArn = (s: { accountId: string; prefix: string }, projectId: string): string => projectRoleArn(s, 'site', projectId);

/**
 * What one project's server and image functions may do, and nothing of another project's: read
 * the project's env var parameters when they start (decrypted through SSM only), write their own
 * log groups, read and write the project's ISR cache (`cache/<project>/*`), read its deployments'
 * files (`sites/<project>/*`, the image function), list the sites bucket, and use the stage's tag
 * cache and revalidation queue when there are. The role's permissions boundary (the stage's site
 * boundary, `infra/aws/site-role.ts`) caps it at what any site function may do.
 *
 * @example
 * siteRoleStatements(scope, 'web')[0].Resource; // ['arn:aws:ssm:eu-west-1:123456789012:parameter/shiplog/env/web/*']
 */
export const siteRoleStatements = (s: SiteRoleScope, projectId: string): PolicyStatement[] => {
  const parameters = `arn:aws:ssm:${s.region}:${s.accountId}:parameter/${s.prefix}/env/${projectId}/*`;
  const logGroups = [siteFunctionName(s.prefix, projectId), siteImageFunctionName(s.prefix, projectId)]
    .map((fn) => `arn:aws:logs:${s.region}:${s.accountId}:log-group:/aws/lambda/${fn}`)
    .flatMap((arn) => [arn, `${arn}:*`]);
  const bucket = `arn:aws:s3:::${s.sitesBucket}`;
  return [
    ...readParametersStatements(s, parameters),
    { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroups },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: [`${bucket}/cache/${projectId}/*`] },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucket}/sites/${projectId}/*`] },
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [bucket] },
    ...(s.tagCacheTableArn
      ? [{ Effect: 'Allow' as const, Action: ['dynamodb:Query', 'dynamodb:BatchWriteItem'], Resource: [s.tagCacheTableArn, `${s.tagCacheTableArn}/index/*`] }]
      : []),
    ...(s.revalidationQueueArn ? [{ Effect: 'Allow' as const, Action: ['sqs:SendMessage'], Resource: [s.revalidationQueueArn] }] : []),
  ];
};

/**
 * The per-project execution roles of a stage's site functions. `roleFor` makes sure the
 * project's role exists with its policy (created under the stage's site boundary the first time)
 * and answers its ARN, which the site host gives the project's functions.
 *
 * @example
 * const roles = siteRoles({ iam, scope, boundaryArn });
 * awsSiteHost({ ..., site: { role: sharedRoleArn, roleFor: roles.roleFor } });
 */
export const siteRoles = (o: { iam: IAMClient; scope: SiteRoleScope; boundaryArn: string }) =>
  projectRoles({
    iam: o.iam, prefix: o.scope.prefix, accountId: o.scope.accountId, kind: 'site', service: 'lambda.amazonaws.com',
    boundaryArn: o.boundaryArn, policyName: SITE_ROLE_POLICY, statementsFor: (projectId) => siteRoleStatements(o.scope, projectId),
    refused: (message) => new SiteHostConfigError(message),
  });
