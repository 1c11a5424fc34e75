import type { Input } from '@pulumi/pulumi';
import type { AccountScope, Cloud, PermissionSpec } from './cloud.ts';
import { siteFunctionPattern, type StackNames } from './names.ts';
import { assumeRolePolicy, policyDocument } from './permissions.ts';
import { envParametersRead } from './secrets.ts';
import { projectRolePath } from '../../services/shell/index.ts';

/**
 * Optional resources of OpenNext's ISR setup (`awsOpenNextConfig` in
 * services/build/adapters/scheduler/buildspec.ts): the tag cache table (`dynamodb-lite`) and the
 * revalidation queue (`sqs-lite`). Declared elsewhere; without them a site's `revalidateTag` and
 * background revalidation do nothing.
 *
 * @example
 * const cache: SiteCache = { table: { name: tags.name, arn: tags.arn }, revalidationQueue: { url: q.url, arn: q.arn } };
 */
export interface SiteCache {
  table?: { name: Input<string>; arn: Input<string> };
  revalidationQueue?: { url: Input<string>; arn: Input<string> };
}

/**
 * What a project's site function may do: read its project's env var parameters when it starts
 * (the build's entry, services/build: `runtime-env.ts`; decrypted through SSM only), write its own logs, read and write the ISR cache
 * (`cache/*`: OpenNext's `s3-lite` cache puts a page back after revalidating it), list the sites
 * bucket (so a missing cache entry is a 404, not a 403), read the deployments' files under `sites/`
 * (the image functions), and use the tag cache and the revalidation queue when they exist. The
 * server functions do not read assets (CloudFront serves them); the image functions share the role.
 *
 * @example
 * siteAccess(cloud, { prefix: 'shiplog', scope, sitesBucketArn: sites.arn, cache: {} });
 */
export const siteAccess = (
  cloud: Cloud,
  input: { prefix: string; scope: AccountScope; sitesBucketArn: Input<string>; cache: SiteCache; envParameters?: boolean },
): PermissionSpec[] => {
  const { pulumi } = cloud;
  const { region, accountId } = input.scope;
  const { table, revalidationQueue } = input.cache;
  return [
    ...(input.envParameters === false ? [] : envParametersRead(cloud, input)),
    {
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [pulumi.interpolate`arn:aws:logs:${region}:${accountId}:log-group:/aws/lambda/${siteFunctionPattern(input.prefix)}`],
    },
    { actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [pulumi.interpolate`${input.sitesBucketArn}/cache/*`] },
    // the image functions read a deployment's public files (`s3-lite` loader, `BUCKET_KEY_PREFIX`)
    { actions: ['s3:GetObject'], resources: [pulumi.interpolate`${input.sitesBucketArn}/sites/*`] },
    { actions: ['s3:ListBucket'], resources: [input.sitesBucketArn] },
    ...(table ? [{ actions: ['dynamodb:Query', 'dynamodb:BatchWriteItem'], resources: [table.arn, pulumi.interpolate`${table.arn}/index/*`] }] : []),
    ...(revalidationQueue ? [{ actions: ['sqs:SendMessage'], resources: [revalidationQueue.arn] }] : []),
  ];
};

/**
 * The IAM resources of the per-project site roles: where the deploy entries may create them
 * (`role/shiplog/<prefix>/site-*`), for Lambda only.
 *
 * @example
 * siteRolesPattern(cloud, { prefix: 'shiplog', scope }); // 'arn:aws:iam::123456789012:role/shiplog/shiplog/site-*'
 */
export const siteRolesPattern = ({ pulumi }: Cloud, input: { prefix: string; scope: AccountScope }) =>
  pulumi.interpolate`arn:aws:iam::${input.scope.accountId}:role${projectRolePath(input.prefix)}site-*`;

/**
 * The execution roles of the site functions: each project's own (services/deploy/adapters/site-host/site-roles.ts:
 * its parameters, cache, files and logs only), made by the deploy entries under the boundary declared here (what any site
 * function of the stage may do, {@link siteAccess}); and the shared role functions made before
 * their project had its own keep until their next publish, which reads no env parameter.
 *
 * @example
 * const site = declareSiteRole(cloud, { names, scope, sitesBucketArn: sites.bucket.arn, cache: {} });
 * site.role.arn; // SHIPLOG_SITE_ROLE_ARN
 */
export const declareSiteRole = (
  cloud: Cloud,
  input: { names: StackNames; scope: AccountScope; sitesBucketArn: Input<string>; cache: SiteCache },
) => {
  const { aws } = cloud;
  const role = new aws.iam.Role('SiteRole', {
    name: input.names.siteRole,
    description: 'shiplog: the execution role of site functions made before their project had its own',
    assumeRolePolicy: assumeRolePolicy(cloud, 'lambda.amazonaws.com'),
  });
  const policy = new aws.iam.RolePolicy('SiteRolePolicy', {
    role: role.id,
    policy: policyDocument(cloud, siteAccess(cloud, { prefix: input.names.prefix, ...input, envParameters: false })),
  });
  const boundary = new aws.iam.Policy('SiteRoleBoundary', {
    name: `${input.names.prefix}-site-boundary`,
    description: "shiplog: the most any project's site role may do",
    policy: policyDocument(cloud, siteAccess(cloud, { prefix: input.names.prefix, ...input })),
  });
  return { role, policy, boundary };
};
