import type { Input } from '@pulumi/pulumi';
import type { AdapterResources, EdgeResources } from './adapter-access.ts';
import { declareBuildRunner, type GitHubConnectionInput } from './build-runner.ts';
import type { AccountScope, Cloud } from './cloud.ts';
import type { StackNames } from './names.ts';
import { declareSiteRole, type SiteCache } from './site-role.ts';
import { declareBuckets, declareIdempotencyTable } from './storage.ts';

/**
 * What the build and deploy adapters' resources are declared from.
 *
 * @example
 * const input: AdaptersInput = { names, scope, protect: false, siteDomain: 'apps.example.com', buildTimeoutMinutes: 20, siteCache: {} };
 */
export interface AdaptersInput {
  names: StackNames;
  scope: AccountScope;
  /** Keeps non-empty buckets on removal. */
  protect: boolean;
  siteDomain: Input<string>;
  buildTimeoutMinutes: number;
  siteCache: SiteCache;
  /** How builds fetch GitHub sources; default: a connection the stack declares (`build-runner.ts`). */
  githubConnection?: GitHubConnectionInput;
}

/**
 * The resources of the AWS build and deploy adapters: the artifacts and sites buckets, the
 * CodeBuild project with its log group and service role, the site functions' execution role and
 * the idempotency table; plus the same as {@link AdapterResources} but the sites' CloudFront front
 * (`sites-edge.ts`, declared after these because it needs the sites bucket), for `adapterNeeds`.
 *
 * @example
 * const adapters = declareAdapters(cloud, { names, scope, protect, siteDomain, buildTimeoutMinutes: 20, siteCache: {} });
 * adapterNeeds(cloud, 'infra/aws/functions/build.reconcile', adapters.resources);
 */
export const declareAdapters = (cloud: Cloud, input: AdaptersInput) => {
  const { names, scope } = input;
  const buckets = declareBuckets(cloud, names, input.protect);
  const { artifacts, sites } = buckets;
  const build = declareBuildRunner(cloud, {
    names, scope, artifacts: artifacts.bucket, timeoutMinutes: input.buildTimeoutMinutes,
    ...(input.githubConnection ? { githubConnection: input.githubConnection } : {}),
  });
  const site = declareSiteRole(cloud, { names, scope, sitesBucketArn: sites.bucket.arn, cache: input.siteCache });
  const idempotency = declareIdempotencyTable(cloud, names.idempotencyTable);
  const resources: Omit<AdapterResources, keyof EdgeResources> = {
    prefix: names.prefix,
    scope,
    buildProject: { name: build.project.name, arn: build.project.arn },
    buildLogGroup: { name: build.logGroup.name, arn: build.logGroup.arn },
    buildTimeoutMinutes: input.buildTimeoutMinutes,
    buildRoleBoundaryArn: build.boundary.arn,
    ...(build.github.arn ? { githubConnectionArn: build.github.arn } : {}),
    artifactsBucket: { name: artifacts.bucket.bucket, arn: artifacts.bucket.arn },
    sitesBucket: { name: sites.bucket.bucket, arn: sites.bucket.arn },
    siteRoleArn: site.role.arn,
    siteRoleBoundaryArn: site.boundary.arn,
    siteDomain: input.siteDomain,
    idempotencyTable: { name: idempotency.name, arn: idempotency.arn },
    siteCache: input.siteCache,
  };
  return { buckets, build, site, idempotency, resources };
};
