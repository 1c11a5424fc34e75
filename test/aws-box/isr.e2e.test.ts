import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_CREDENTIALS, BOX_REGION } from '../../infra/aws-box/moto.ts';
import { pushFixtureLive, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// Time-based ISR of a Pages Router app on the AWS box, through the backends the stack declares:
// the page lives in the S3 ISR cache (moto), its STALE read goes to the FIFO revalidation queue
// (moto SQS), the queue's event source (the box's poller) runs the declared IsrRevalidate
// function, which finds the deployment through the site router over the KeyValueStore and
// invokes its version to regenerate the page; the tag cache is DynamoDB (DynamoDB Local).
const fixtures = new URL('../fixtures/', import.meta.url).pathname;

// A page regenerated at most every 2 s, showing when it was rendered.
const freshPage = `export async function getStaticProps() {
  return { props: { at: Date.now() }, revalidate: 2 };
}

export default function Fresh({ at }) {
  return <p>rendered at <span id="at">{at}</span></p>;
}
`;
// A page kept for an hour, and an API route that regenerates a page on demand (res.revalidate).
const hourlyPage = freshPage.replace('revalidate: 2', 'revalidate: 3600').replace('Fresh', 'Hourly');
const revalidateRoute = `export default async function handler(req, res) {
  try {
    await res.revalidate(String(req.query.path));
    res.json({ revalidated: req.query.path });
  } catch (err) {
    res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
  }
}
`;

describe('ISR and images on the AWS box: a stale Pages Router page regenerates through S3, SQS and the revalidation function; /_next/image is the image function', () => {
  let sl: LocalShiplog;
  let work: string;
  let endpoint: string;
  let deploymentId: string;
  const clients = () => {
    const config = { endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
    return {
      s3: new S3Client({ ...config, forcePathStyle: true }), sqs: new SQSClient(config), logs: new CloudWatchLogsClient(config),
      dynamodb: new DynamoDBClient(config), lambda: new LambdaClient(config),
    };
  };
  const renderedAt = (body: string) => Number(/<span id="at">(?:<!-- -->)?(\d+)/.exec(body)?.[1]);

  beforeAll(async () => {
    sl = await startShiplog({ runtime: 'aws-box' });
    endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())?.[1] ?? '';
    expect(endpoint, sl.output()).not.toBe('');
    ({ work, deploymentId } = await pushFixtureLive(sl, {
      project: 'isr', fixtureDir: join(fixtures, 'pages-app'), message: 'pages app with a 2 s ISR page',
      prepare: (dir) => {
        writeFileSync(join(dir, 'pages', 'fresh.js'), freshPage);
        writeFileSync(join(dir, 'pages', 'hourly.js'), hourlyPage);
        writeFileSync(join(dir, 'pages', 'api', 'revalidate-page.js'), revalidateRoute);
        cpSync(join(fixtures, 'next-app', 'public', 'pixel.png'), join(dir, 'public', 'pixel.png'));
      },
    }));
  }, 1_100_000);

  afterAll(async () => {
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serves the prerendered page, then a regenerated one once it is stale, from the S3 cache in moto', async () => {
    const first = await sl.site('isr.localhost', '/fresh');
    expect(first.status, first.body.slice(0, 500)).toBe(200);
    const built = renderedAt(first.body);
    expect(built).toBeGreaterThan(0);
    // Past its 2 s, a request reads STALE and queues the page; a later one gets the new render.
    await expect.poll(async () => {
      const res = await sl.site('isr.localhost', '/fresh');
      return res.status === 200 && renderedAt(res.body) > built;
    }, { timeout: 90_000, interval: 1000 }).toBe(true);
    const later = await sl.site('isr.localhost', '/fresh');
    expect(later.headers['x-nextjs-cache']).toMatch(/^(HIT|STALE)$/);
    // The regenerated page is an object of the project's ISR cache in moto S3, written after the deploy.
    const { s3 } = clients();
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    const sites = Buckets.map((b) => b.Name!).find((n) => n.includes('-sites-'))!;
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: sites, Prefix: 'cache/isr/' }));
    const page = Contents.find((c) => c.Key!.endsWith('/fresh.cache'));
    expect(page, Contents.map((c) => c.Key).join('\n')).toBeDefined();
    const cached = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: sites, Key: page!.Key! }))).Body!.transformToString()) as { html?: string };
    expect(renderedAt(cached.html ?? '')).toBeGreaterThan(built);
  }, 180_000);

  it('regenerated it through the FIFO revalidation queue and the declared IsrRevalidate function, which logged no preview id', async () => {
    const { s3, sqs, logs, dynamodb } = clients();
    const queue = await sqs.send(new GetQueueUrlCommand({ QueueName: 'shiplog-box-isr-revalidation.fifo' }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl!, AttributeNames: ['FifoQueue', 'RedrivePolicy'] }));
    expect(attrs.Attributes?.FifoQueue).toBe('true');
    const dlq = await sqs.send(new GetQueueUrlCommand({ QueueName: 'shiplog-box-isr-revalidation-dlq.fifo' }));
    const dead = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(dead.Attributes?.ApproximateNumberOfMessages).toBe('0');
    // The function's own log lines, in moto CloudWatch Logs: the page, the deployment, the outcome.
    const lines: string[] = [];
    await expect.poll(async () => {
      const res = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/shiplog-box-IsrRevalidate' })).catch(() => ({ events: [] }));
      lines.splice(0, lines.length, ...(res.events ?? []).map((e) => e.message ?? ''));
      return lines.some((l) => l.includes('page revalidated') && l.includes('/fresh') && l.includes(deploymentId));
    }, { timeout: 30_000 }).toBe(true);
    // The preview id is kept beside the deployment, outside sites/ (what CloudFront may read), and in no log line.
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    const sites = Buckets.map((b) => b.Name!).find((n) => n.includes('-sites-'))!;
    const record = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: sites, Key: `revalidation/isr/${deploymentId}.json` }))).Body!.transformToString()) as { previewModeId: string };
    expect(record.previewModeId).toMatch(/^[0-9a-f]{16,}$/);
    expect(lines.join('\n')).not.toContain(record.previewModeId);
    // The tag cache the site function queries is the declared table, with dynamodb-lite's index.
    const table = await dynamodb.send(new DescribeTableCommand({ TableName: 'shiplog-box-isr-tags' }));
    expect(table.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['revalidate']);
  }, 60_000);

  it("regenerates a page at once through res.revalidate() in a Pages Router API route, in the site function (its entry gives Next's server the router's revalidate)", async () => {
    const first = await sl.site('isr.localhost', '/hourly');
    expect(first.status, first.body.slice(0, 500)).toBe(200);
    const built = renderedAt(first.body);
    const res = await sl.site('isr.localhost', '/api/revalidate-page?path=/hourly');
    expect([res.status, res.body]).toEqual([200, JSON.stringify({ revalidated: '/hourly' })]);
    const after = await sl.site('isr.localhost', '/hourly');
    expect(after.status).toBe(200);
    expect(renderedAt(after.body)).toBeGreaterThan(built);
  }, 60_000);

  it("redirects an API path with a trailing slash to the path without, as next start does (Next's redirect, which the buildspec hands to OpenNext's routing)", async () => {
    const res = await sl.site('isr.localhost', '/api/revalidate-page/?path=/hourly');
    expect(res.status, res.body.slice(0, 300)).toBe(308);
    const to = new URL(String(res.headers.location), 'http://isr.localhost');
    // The query as OpenNext writes it (path=%2Fhourly), the same parameters as next start's.
    expect([to.pathname, [...to.searchParams]]).toEqual(['/api/revalidate-page', [['path', '/hourly']]]);
  }, 60_000);

  it('answers a path a fallback: true page was not built for with its fallback shell from the S3 cache, as next start does', async () => {
    const res = await sl.site('isr.localhost', '/drafts/2');
    expect(res.status, res.body.slice(0, 300)).toBe(200);
    expect(res.body).toContain('Loading the draft…');
  }, 60_000);

  it('serves a public file whose name needs percent-encoding from S3, as next start does', async () => {
    const res = await sl.site('isr.localhost', '/read%20me.txt');
    expect([res.status, res.body]).toEqual([200, 'a public file whose name has a space\n']);
  }, 60_000);

  it("adds the app's headers() to its files from S3 (the declared viewer-response function), as to its pages", async () => {
    const hsts = 'max-age=63072000; includeSubDomains';
    const robots = await sl.site('isr.localhost', '/robots.txt');
    expect([robots.status, robots.headers['strict-transport-security'], robots.headers['x-robots-rule'], robots.headers['x-amz-meta-shiplog-headers']]).toEqual([200, hsts, 'public file', undefined]);
    const page = await sl.site('isr.localhost', '/about');
    expect([page.status, page.headers['strict-transport-security'], page.headers['x-robots-rule']]).toEqual([200, hsts, undefined]);
    const chunk = /\/_next\/static\/[^"']+\.js/.exec(page.body)?.[0];
    expect(chunk, 'a script of the page').toBeDefined();
    const js = await sl.site('isr.localhost', chunk!);
    expect([js.status, js.headers['strict-transport-security'], js.headers['cache-control']]).toEqual([200, hsts, 'public, max-age=31536000, immutable']);
  }, 60_000);

  it("serves /_next/image from the deployment's version of the project's image function, which reads the public file from S3", async () => {
    const { lambda } = clients();
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'shiplog-box-site-isr_image', Name: `d-${deploymentId}` }));
    expect(alias.Description).toBe(`shiplog:${deploymentId}`);
    const res = await sl.site('isr.localhost', '/_next/image?url=%2Fpixel.png&w=32&q=75');
    expect(res.status, res.body.slice(0, 300)).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^image\//);
    // What next start sends with an optimized image (the buildspec's image-headers step): the file to be saved, no script to run.
    expect([res.headers['content-disposition'], res.headers['content-security-policy']]).toEqual([
      `attachment; filename="pixel.${String(res.headers['content-type']).replace('image/', '')}"`, "script-src 'none'; frame-src 'none'; sandbox;",
    ]);
    // Next's own validation, in the image function: no width is a 400.
    expect((await sl.site('isr.localhost', '/_next/image?url=%2Fpixel.png')).status).toBe(400);
    // A file S3 does not have, and one that is not an image: next start's statuses and messages (OpenNext answered both 500).
    const missing = await sl.site('isr.localhost', '/_next/image?url=%2Fmissing.png&w=32&q=75');
    expect([missing.status, missing.body]).toEqual([404, '"url" parameter is valid but internal response is invalid']);
    const text = await sl.site('isr.localhost', '/_next/image?url=%2Frobots.txt&w=32&q=75');
    expect([text.status, text.body]).toEqual([400, "The requested resource isn't a valid image."]);
  }, 60_000);
});
