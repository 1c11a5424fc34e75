import { describe, expect, it } from 'vitest';
import { subscriptions } from '../topology.ts';
import { REVALIDATE_BATCH_SIZE, REVALIDATE_HANDLER, REVALIDATE_MAX_RECEIVES, REVALIDATE_TIMEOUT_SECONDS, siteTagsTableDefinition } from './index.ts';
import { ACCOUNT, BUCKET_SUFFIX, declareUnderMocks, expectTableFrom, REGION, resolved } from './mocked-stack.ts';

// ISR's backends on AWS (site-cache.ts), declared under Pulumi mocks (see mocked-stack.ts): the
// shapes OpenNext's dynamodb-lite and sqs-lite need, and the revalidation function's least privilege.

const Table = 'aws:dynamodb/table:Table';
const Queue = 'aws:sqs/queue:Queue';
const Mapping = 'aws:lambda/eventSourceMapping:EventSourceMapping';
const Fn = 'aws:lambda/function:Function';

describe("ISR's backends (site-cache.ts)", () => {
  it("declares the tag cache as dynamodb-lite reads it: tag + path keys and the 'revalidate' index by path and time", async () => {
    const s = await declareUnderMocks(subscriptions);
    const table = s.one(Table, 'IsrTags');
    expectTableFrom(table.inputs, siteTagsTableDefinition('shiplog-ci-isr-tags'));
    expect(siteTagsTableDefinition('t').GlobalSecondaryIndexes).toEqual([{
      IndexName: 'revalidate',
      KeySchema: [{ AttributeName: 'path', KeyType: 'HASH' }, { AttributeName: 'revalidatedAt', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'ALL' },
    }]);
  });

  it('declares a FIFO revalidation queue (sqs-lite sends group and deduplication ids) that dead-letters to a FIFO queue', async () => {
    const s = await declareUnderMocks(subscriptions);
    const queue = s.one(Queue, 'IsrRevalidation');
    const dlq = s.one(Queue, 'IsrRevalidationDlq');
    expect(queue.inputs).toMatchObject({ name: 'shiplog-ci-isr-revalidation.fifo', fifoQueue: true, sqsManagedSseEnabled: true, visibilityTimeoutSeconds: 6 * REVALIDATE_TIMEOUT_SECONDS });
    expect(dlq.inputs).toMatchObject({ name: 'shiplog-ci-isr-revalidation-dlq.fifo', fifoQueue: true, sqsManagedSseEnabled: true });
    expect(JSON.parse(queue.inputs.redrivePolicy as string)).toEqual({ deadLetterTargetArn: dlq.state.arn, maxReceiveCount: REVALIDATE_MAX_RECEIVES });
  });

  it('hands the site functions the table and queue through the deploy functions, and consumes the queue with partial batch responses', async () => {
    const s = await declareUnderMocks(subscriptions);
    const env = await resolved(s.spec('DeployOnBuildSucceeded').environment);
    expect(env.SHIPLOG_SITE_CACHE_TABLE).toBe('shiplog-ci-isr-tags');
    expect(env.SHIPLOG_SITE_REVALIDATION_QUEUE_URL).toBe(s.one(Queue, 'IsrRevalidation').state.url);
    const fn = s.one(Fn, 'IsrRevalidate');
    expect(fn.inputs.handler).toBe(REVALIDATE_HANDLER);
    expect(s.one(Mapping, 'IsrRevalidateQueue').inputs).toEqual({
      eventSourceArn: s.one(Queue, 'IsrRevalidation').state.arn,
      functionName: fn.state.name,
      batchSize: REVALIDATE_BATCH_SIZE,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the revalidation function read the routing and the published markers and invoke site functions, and nothing else', async () => {
    const s = await declareUnderMocks(subscriptions);
    const spec = s.spec('IsrRevalidate');
    const sites = `arn:aws:s3:::shiplog-ci-sites-${BUCKET_SUFFIX}`;
    const kvs = s.one('aws:cloudfront/keyValueStore:KeyValueStore', 'SitesKeyValueStore').state.arn as string;
    expect(spec.links).toEqual([]);
    expect(spec.timeoutSeconds).toBe(REVALIDATE_TIMEOUT_SECONDS);
    expect(await resolved(spec.environment)).toEqual({
      SHIPLOG_PREFIX: 'shiplog-ci', SHIPLOG_SITES_BUCKET: `shiplog-ci-sites-${BUCKET_SUFFIX}`, SHIPLOG_SITE_DOMAIN: 'apps.example.com', SHIPLOG_SITES_KVS_ARN: kvs,
    });
    expect(await resolved(spec.permissions)).toEqual([
      { actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], resources: [s.one(Queue, 'IsrRevalidation').state.arn] },
      { actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:GetKey'], resources: [kvs] },
      { actions: ['s3:GetObject'], resources: [`${sites}/sites/*/.published/*`, `${sites}/revalidation/*`] },
      { actions: ['s3:ListBucket'], resources: [sites] },
      { actions: ['lambda:InvokeFunction'], resources: [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:shiplog-ci-site-*`] },
    ]);
  });

  it("uses a stage's own tag cache and queue when it brings them, and declares none", async () => {
    const table = { name: 'tags', arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/tags` };
    const queue = { url: 'https://sqs.example/q.fifo', arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:q.fifo` };
    const s = await declareUnderMocks(subscriptions, { siteCache: { table, revalidationQueue: queue } });
    expect(s.ofType(Table).map((t) => t.name)).not.toContain('IsrTags');
    expect(s.ofType(Queue).map((q) => q.name)).not.toContain('IsrRevalidation');
    expect(s.one(Mapping, 'IsrRevalidateQueue').inputs.eventSourceArn).toBe(queue.arn);
  });
});
