import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { Input } from '@pulumi/pulumi';
import type { AccountScope, Cloud, DeclareFunction, PermissionSpec } from './cloud.ts';
import { tableArgsFrom } from './event-store.ts';
import { FunctionEnv, siteFunctionPattern, type StackNames } from './names.ts';
import type { SiteCache } from './site-role.ts';

/**
 * The revalidation function's handler, in SST's `<module>.<export>` form.
 *
 * @example
 * declareFunction({ name: 'IsrRevalidate', handler: REVALIDATE_HANDLER, … });
 */
export const REVALIDATE_HANDLER = 'infra/aws/functions/revalidate.handler';

/** One revalidation renders one page; a few at once per invocation, in queue order. */
export const REVALIDATE_BATCH_SIZE = 5;
/** How long one revalidation batch may run (each page gets up to 60 s). */
export const REVALIDATE_TIMEOUT_SECONDS = 300;
/** Receives before a message goes to the revalidation dead-letter queue. */
export const REVALIDATE_MAX_RECEIVES = 5;

/**
 * OpenNext's tag cache table as `dynamodb-lite` reads and writes it: `tag` + `path` keys (each
 * `<build id>/…`), and the `revalidate` index by `path` and `revalidatedAt`.
 *
 * @example
 * siteTagsTableDefinition('shiplog-isr-tags').GlobalSecondaryIndexes?.[0]?.IndexName; // 'revalidate'
 */
export const siteTagsTableDefinition = (name: string): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'tag', AttributeType: 'S' },
    { AttributeName: 'path', AttributeType: 'S' },
    { AttributeName: 'revalidatedAt', AttributeType: 'N' },
  ],
  KeySchema: [{ AttributeName: 'tag', KeyType: 'HASH' }, { AttributeName: 'path', KeyType: 'RANGE' }],
  GlobalSecondaryIndexes: [{
    IndexName: 'revalidate',
    KeySchema: [{ AttributeName: 'path', KeyType: 'HASH' }, { AttributeName: 'revalidatedAt', KeyType: 'RANGE' }],
    Projection: { ProjectionType: 'ALL' },
  }],
});

/**
 * The stage's ISR backends, shared by every project (keys and messages carry each build's id and
 * host): the tag cache table (`dynamodb-lite`) and the revalidation queue (`sqs-lite`, which
 * sends with a group and deduplication id, so FIFO) with its dead-letter queue. The ISR cache
 * itself is `cache/<project>/` of the sites bucket. Returned as the {@link SiteCache} the site
 * role and the deploy functions are given.
 *
 * @example
 * const isr = declareSiteCache(cloud, { names });
 * declareAdapters(cloud, { …, siteCache: isr.cache });
 */
export const declareSiteCache = (cloud: Cloud, input: { names: StackNames }) => {
  const { aws, pulumi } = cloud;
  const { prefix } = input.names;
  const table = new aws.dynamodb.Table('IsrTags', tableArgsFrom(siteTagsTableDefinition(`${prefix}-isr-tags`)));
  const deadLetters = new aws.sqs.Queue('IsrRevalidationDlq', {
    name: `${prefix}-isr-revalidation-dlq.fifo`,
    fifoQueue: true,
    messageRetentionSeconds: 14 * 24 * 3600,
    sqsManagedSseEnabled: true,
  });
  const queue = new aws.sqs.Queue('IsrRevalidation', {
    name: `${prefix}-isr-revalidation.fifo`,
    fifoQueue: true,
    // Lambda's advice for an SQS event source: at least six times the function's timeout.
    visibilityTimeoutSeconds: 6 * REVALIDATE_TIMEOUT_SECONDS,
    messageRetentionSeconds: 24 * 3600,
    sqsManagedSseEnabled: true,
    redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: REVALIDATE_MAX_RECEIVES }),
  });
  const cache: SiteCache = { table: { name: table.name, arn: table.arn }, revalidationQueue: { url: queue.url, arn: queue.arn } };
  return { table, queue, deadLetters, cache };
};

/**
 * What the revalidation function may do: take messages off its queue, read the sites' routing
 * (the KeyValueStore), a deployment's `.published` marker and revalidation record, and invoke a
 * site function's versions. Nothing else: it writes no cache itself (the site function does).
 *
 * @example
 * revalidationAccess(cloud, { prefix, scope, queueArn, sitesBucketArn, keyValueStoreArn });
 */
export const revalidationAccess = (
  { pulumi }: Cloud,
  r: { prefix: string; scope: AccountScope; queueArn: Input<string>; sitesBucketArn: Input<string>; keyValueStoreArn: Input<string> },
): PermissionSpec[] => [
  { actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], resources: [r.queueArn] },
  { actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:GetKey'], resources: [r.keyValueStoreArn] },
  { actions: ['s3:GetObject'], resources: [pulumi.interpolate`${r.sitesBucketArn}/sites/*/.published/*`, pulumi.interpolate`${r.sitesBucketArn}/revalidation/*`] },
  // Without ListBucket a missing marker is a 403, not a NoSuchKey.
  { actions: ['s3:ListBucket'], resources: [r.sitesBucketArn] },
  {
    actions: ['lambda:InvokeFunction'],
    resources: [pulumi.interpolate`arn:aws:lambda:${r.scope.region}:${r.scope.accountId}:function:${siteFunctionPattern(r.prefix)}`],
  },
];

/**
 * The stage-wide revalidation function on the revalidation queue: an SQS event source mapping
 * with partial batch responses (`infra/aws/runtime/revalidation.ts`).
 *
 * @example
 * declareRevalidation(cloud, { names, scope, declareFunction, queue: isr.queue, sitesBucket, keyValueStore, siteDomain });
 */
export const declareRevalidation = (
  cloud: Cloud,
  input: {
    names: StackNames;
    scope: AccountScope;
    declareFunction: DeclareFunction;
    queue: { arn: Input<string> };
    sitesBucket: { name: Input<string>; arn: Input<string> };
    keyValueStore: { arn: Input<string> };
    siteDomain: Input<string>;
  },
) => {
  const { aws } = cloud;
  const fn = input.declareFunction({
    name: 'IsrRevalidate',
    handler: REVALIDATE_HANDLER,
    description: "shiplog ISR: regenerates every project's stale pages in the deployment that serves them",
    environment: {
      [FunctionEnv.prefix]: input.names.prefix,
      [FunctionEnv.sitesBucket]: input.sitesBucket.name,
      [FunctionEnv.siteDomain]: input.siteDomain,
      [FunctionEnv.sitesKeyValueStoreArn]: input.keyValueStore.arn,
    },
    links: [],
    permissions: revalidationAccess(cloud, {
      prefix: input.names.prefix, scope: input.scope, queueArn: input.queue.arn, sitesBucketArn: input.sitesBucket.arn, keyValueStoreArn: input.keyValueStore.arn,
    }),
    timeoutSeconds: REVALIDATE_TIMEOUT_SECONDS,
  });
  const mapping = new aws.lambda.EventSourceMapping('IsrRevalidateQueue', {
    eventSourceArn: input.queue.arn,
    functionName: fn.name,
    batchSize: REVALIDATE_BATCH_SIZE,
    functionResponseTypes: ['ReportBatchItemFailures'],
  });
  return { function: fn, mapping };
};
