import { idempotencyTableDefinition } from '../../services/shell/index.ts';
import type { Cloud } from './cloud.ts';
import { tableArgsFrom } from './event-store.ts';
import type { StackNames } from './names.ts';

/**
 * The attribute Powertools' `DynamoDBPersistenceLayer` writes the expiry to (epoch seconds), the
 * same one `createIdempotencyTable` turns TTL on for locally.
 *
 * @example
 * new aws.dynamodb.Table('Idempotency', { ttl: { attributeName: IDEMPOTENCY_TTL_ATTRIBUTE, enabled: true } });
 */
export const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

/**
 * A private bucket: every public-access block on, objects owned by the bucket owner (no ACLs).
 * S3 encrypts new objects with S3-managed keys by default, which nothing here needs to change.
 * `protect` keeps a non-empty bucket from being deleted with its stage.
 *
 * @example
 * const { bucket } = declarePrivateBucket(cloud, { name: 'Artifacts', bucketPrefix: 'shiplog-artifacts-', protect: true });
 * bucket.bucket; // 'shiplog-artifacts-20260101…'
 */
export const declarePrivateBucket = ({ aws }: Cloud, opts: { name: string; bucketPrefix: string; protect: boolean }) => {
  const { name, bucketPrefix } = opts;
  const bucket = new aws.s3.Bucket(name, { bucketPrefix, forceDestroy: !opts.protect });
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(`${name}PublicAccessBlock`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  const ownership = new aws.s3.BucketOwnershipControls(`${name}Ownership`, {
    bucket: bucket.id,
    rule: { objectOwnership: 'BucketOwnerEnforced' },
  });
  return { bucket, publicAccessBlock, ownership };
};

/** Where `shiplog deploy` PUTs archives in the artifacts bucket, and how long one stays there. */
export const UPLOADS_PREFIX = 'uploads/';
export const UPLOADS_EXPIRE_DAYS = 1;

/**
 * The two buckets of builds and sites.
 *
 * - artifacts: `sources/<project>/<sha>.zip` (pushes to shiplog's own remote, `shiplog deploy`
 *   sources, each with its commit as `<sha>.json`), `uploads/<project>/<id>.zip` (archives PUT
 *   through presigned URLs, expired after a day) and `artifacts/<project>/<deployment>/` (what a
 *   CodeBuild build uploads).
 * - sites: `sites/<project>/<deployment>/` (assets), `cache/<project>/` (the ISR cache) and
 *   `artifacts/` (function code the deploy service zipped itself). Private: the sites' distribution
 *   reads `sites/*` alone, through an origin access control (its bucket policy: `sites-edge.ts`).
 *
 * @example
 * const { artifacts, sites } = declareBuckets(cloud, names, $app.stage === 'production');
 */
export const declareBuckets = (cloud: Cloud, names: StackNames, protect: boolean) => {
  const artifacts = declarePrivateBucket(cloud, { name: 'Artifacts', bucketPrefix: names.artifactsBucketPrefix, protect });
  // `shiplog deploy` PUTs archives to `uploads/` (presigned); one nobody deployed is gone after a day.
  const uploadsExpiry = new cloud.aws.s3.BucketLifecycleConfiguration('ArtifactsUploadsExpiry', {
    bucket: artifacts.bucket.id,
    rules: [{ id: 'uploads-expire', status: 'Enabled', filter: { prefix: UPLOADS_PREFIX }, expiration: { days: UPLOADS_EXPIRE_DAYS } }],
  });
  return {
    artifacts: { ...artifacts, uploadsExpiry },
    sites: declarePrivateBucket(cloud, { name: 'Sites', bucketPrefix: names.sitesBucketPrefix, protect }),
  };
};

/**
 * The idempotency table (handled event ids, Powertools' layout) from
 * `idempotencyTableDefinition`, the one the local runtime creates, with TTL on its expiry.
 *
 * @example
 * const table = declareIdempotencyTable(cloud, 'shiplog-idempotency');
 */
export const declareIdempotencyTable = ({ aws }: Cloud, name: string) =>
  new aws.dynamodb.Table('Idempotency', {
    ...tableArgsFrom(idempotencyTableDefinition(name)),
    ttl: { attributeName: IDEMPOTENCY_TTL_ATTRIBUTE, enabled: true },
  });
