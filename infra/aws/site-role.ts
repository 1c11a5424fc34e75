import type { Input } from '@pulumi/pulumi';
import type { AccountScope, Cloud, PermissionSpec } from './cloud.ts';
import { siteFunctionPattern, type StackNames } from './names.ts';
import { assumeRolePolicy, policyDocument } from './permissions.ts';
import { envParametersRead } from './secrets.ts';

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
  input: { prefix: string; scope: AccountScope; sitesBucketArn: Input<string>; cache: SiteCache },
): PermissionSpec[] => {
  const { pulumi } = cloud;
  const { region, accountId } = input.scope;
  const { table, revalidationQueue } = input.cache;
  return [
    // TODO(when site functions get a role per project): their own project's parameters only (docs/decisions.md).
    ...envParametersRead(cloud, input),
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
 * The execution role every project's site function runs with (the deploy service creates the
 * functions with it, so deploy functions may pass this role and no other).
 *
 * One role for all projects: a site function can read another project's ISR cache. TODO(when
 * projects are untrusted tenants): a role per project, scoped to `cache/<project>/*`.
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
    description: "shiplog: the execution role of every project's site function",
    assumeRolePolicy: assumeRolePolicy(cloud, 'lambda.amazonaws.com'),
  });
  const policy = new aws.iam.RolePolicy('SiteRolePolicy', {
    role: role.id,
    policy: policyDocument(cloud, siteAccess(cloud, { prefix: input.names.prefix, ...input })),
  });
  return { role, policy };
};
