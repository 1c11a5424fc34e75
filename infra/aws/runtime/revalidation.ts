import { GetKeyCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsRevalidator, type RevalidationMessage, type SiteOf } from '../../../services/deploy/adapters/site-host/aws-revalidation.ts';
import { loadViewerRequestFunction, viewerRequest, type KeyValueReader } from '../edge/runner.ts';
import { siteRouterCode } from '../edge/site-router.ts';
import { FunctionEnv } from '../names.ts';
import { sitesKeyValueStoreClient } from './key-value-store-client.ts';

/**
 * The environment of the `IsrRevalidate` function (`infra/aws/site-cache.ts` sets it).
 *
 * @example
 * process.env[RevalidationEnv.sitesKeyValueStoreArn]; // 'arn:aws:cloudfront::123456789012:key-value-store/…'
 */
export const RevalidationEnv = {
  prefix: FunctionEnv.prefix,
  sitesBucket: FunctionEnv.sitesBucket,
  siteDomain: FunctionEnv.siteDomain,
  sitesKeyValueStoreArn: FunctionEnv.sitesKeyValueStoreArn,
} as const;

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the IsrRevalidate function is declared with it (infra/aws/site-cache.ts)`);
  return value;
};

/**
 * Where a host and path are served from, found by running the sites' declared viewer-request
 * function over the live KeyValueStore: the deployment the edge would send that request to now.
 *
 * @example
 * const siteOf = edgeSiteOf({ siteDomain: 'apps.example.com', kvsArn, assetsDomain, reader });
 * await siteOf('web.apps.example.com', '/posts/first'); // { projectId: 'web', deploymentId: '01JD…' }
 */
export const edgeSiteOf = (opts: { siteDomain: string; kvsArn: string; assetsDomain: string; reader: KeyValueReader }): SiteOf => {
  const kvsId = opts.kvsArn.slice(opts.kvsArn.lastIndexOf('/') + 1);
  const router = loadViewerRequestFunction(siteRouterCode({ siteDomain: opts.siteDomain, kvsId, assetsDomain: opts.assetsDomain }), () => opts.reader);
  return async (host, path) => {
    const out = await router.run(viewerRequest({ host, uri: path }));
    if (out.kind !== 'request') return undefined;
    const deploymentId = out.request.headers['x-shiplog-deployment']?.value;
    if (!deploymentId) return undefined;
    const record = JSON.parse(await opts.reader.get(`d:${deploymentId.toLowerCase()}`)) as { p?: string };
    return record.p ? { projectId: record.p, deploymentId } : undefined;
  };
};

/**
 * A KeyValueStore reader over the `cloudfront-keyvaluestore` API (GetKey): a missing key rejects,
 * as `cf.kvs().get` does at the edge.
 *
 * @example
 * await keyValueStoreReader(kvsArn).get('a:web:production');
 */
export const keyValueStoreReader = (kvsArn: string, endpoint = process.env.AWS_ENDPOINT_URL): KeyValueReader => {
  const client = sitesKeyValueStoreClient(endpoint);
  return {
    get: async (key) => {
      const res = await client.send(new GetKeyCommand({ KvsARN: kvsArn, Key: key }));
      if (res.Value === undefined) throw new Error(`key ${key} not found`);
      return res.Value;
    },
  };
};

const log = (level: 'INFO' | 'WARN' | 'ERROR', message: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ level, message, ...fields }));

let made: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;

/**
 * The `IsrRevalidate` function: OpenNext's revalidation queue (FIFO) → one revalidation per
 * message (`awsRevalidator`). A message that failed, and every later one of the batch (FIFO
 * order within a group must hold), is reported back to be received again; after the queue's
 * `maxReceiveCount` it is dead-lettered. Messages that can never succeed are dropped with a log
 * line. Log lines carry the host, path, deployment and outcome, never the preview id.
 *
 * @example
 * export const handler = (event: SQSEvent) => awsRevalidation()(event); // infra/aws/functions/revalidate.ts
 */
export const awsRevalidation = () => {
  if (made) return made;
  const kvsArn = required(RevalidationEnv.sitesKeyValueStoreArn);
  const bucket = required(RevalidationEnv.sitesBucket);
  const siteOf = edgeSiteOf({ siteDomain: required(RevalidationEnv.siteDomain), kvsArn, assetsDomain: `${bucket}.s3.amazonaws.com`, reader: keyValueStoreReader(kvsArn) });
  const revalidator = awsRevalidator({ lambda: new LambdaClient({}), s3: new S3Client({}), bucket, prefix: required(RevalidationEnv.prefix), siteOf });
  made = async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      if (batchItemFailures.length > 0) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      let message: RevalidationMessage;
      try {
        message = JSON.parse(record.body) as RevalidationMessage;
      } catch {
        log('WARN', 'revalidation message dropped: not JSON', { messageId: record.messageId });
        continue;
      }
      try {
        const out = await revalidator.revalidate(message);
        const where = { host: message.host, path: message.url };
        if (out.kind === 'revalidated') log('INFO', 'page revalidated', { ...where, project: out.projectId, deployment: out.deploymentId, status: out.status });
        else if (out.kind === 'dropped') log('WARN', 'revalidation message dropped', { ...where, reason: out.reason });
        else {
          log('ERROR', 'revalidation failed', { ...where, reason: out.reason });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      } catch (err) {
        log('ERROR', 'revalidation failed', { host: message.host, path: message.url, reason: `${(err as Error).name}: ${(err as Error).message}` });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
  return made;
};
