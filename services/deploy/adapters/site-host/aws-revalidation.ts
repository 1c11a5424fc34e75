import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { awsErrorName } from '../../../shell/index.ts';
import type { Published } from '../../ports.ts';
import { invokeSite } from './aws-invoke.ts';
import { siteFunctionName, siteKeys } from './aws-site.ts';

/**
 * What OpenNext's revalidation queue carries for a STALE page (`sqs-lite`'s message body): the
 * viewer's host (`x-forwarded-host`, which the sites' CloudFront function sets) and the path.
 *
 * @example
 * const m: RevalidationMessage = { host: 'web.apps.example.com', url: '/posts/first' };
 */
export interface RevalidationMessage {
  host: string;
  url: string;
}

/**
 * The deployment a host and path are served from, as the sites' edge routes them.
 *
 * @example
 * const siteOf: SiteOf = async (host, path) => ({ projectId: 'web', deploymentId: '01JD…' });
 */
export type SiteOf = (host: string, path: string) => Promise<{ projectId: string; deploymentId: string } | undefined>;

/**
 * One message's outcome. `failed` is worth retrying (the queue redelivers it, then dead-letters
 * it); `dropped` never will be (the host serves nothing now, or the deployment predates
 * revalidation records).
 */
export type RevalidationOutcome =
  | { kind: 'revalidated'; projectId: string; deploymentId: string; status: number }
  | { kind: 'dropped'; reason: string }
  | { kind: 'failed'; reason: string };

/** Statuses OpenNext's own revalidation function accepts (with `x-nextjs-cache: REVALIDATED`). */
const ACCEPTED = new Set([200, 307, 308, 404]);

/**
 * Options of {@link awsRevalidator}: the site host's bucket and prefix, and how a host is routed.
 *
 * @example
 * awsRevalidator({ lambda, s3, bucket: 'shiplog-sites', prefix: 'shiplog', siteOf });
 */
export interface AwsRevalidatorOptions {
  lambda: LambdaClient;
  s3: S3Client;
  bucket: string;
  prefix: string;
  siteOf: SiteOf;
  /** Per message; default 60 s. */
  timeoutMs?: number;
}

/**
 * Time-based ISR on AWS, for every project of a stage at once: what OpenNext's per-app
 * revalidation function does, without a function per app. For a STALE page's message it finds
 * the deployment serving that host and path now (the edge's routing), and invokes that
 * deployment's own function version with a HEAD of the path carrying the deployment's preview id
 * (`x-prerender-revalidate`, kept by `publish` under `revalidation/`, never in an event or a log)
 * and `x-isr: 1`: Next then regenerates the page and OpenNext writes it to the S3 cache. The
 * invoke is direct (IAM), so the preview id never crosses CloudFront.
 *
 * @example
 * const out = await awsRevalidator(opts).revalidate({ host: 'web.apps.example.com', url: '/' });
 * if (out.kind === 'failed') batchItemFailures.push({ itemIdentifier: messageId });
 */
export const awsRevalidator = (opts: AwsRevalidatorOptions) => {
  const readJson = async <T>(key: string): Promise<T | undefined> => {
    try {
      const res = await opts.s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key }));
      return JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null') as T;
    } catch (err) {
      if (awsErrorName(err) === 'NoSuchKey') return undefined;
      throw err;
    }
  };
  return {
    async revalidate(message: RevalidationMessage): Promise<RevalidationOutcome> {
      if (typeof message?.host !== 'string' || typeof message.url !== 'string' || !message.url.startsWith('/')) {
        return { kind: 'dropped', reason: 'not a revalidation message (host and url)' };
      }
      const path = message.url.split('?')[0]!;
      const site = await opts.siteOf(message.host.toLowerCase(), path);
      if (!site) return { kind: 'dropped', reason: `${message.host}${path} is served by no deployment now` };
      const { projectId, deploymentId } = site;
      const [published, record] = await Promise.all([
        readJson<Published>(siteKeys.published(projectId, deploymentId)),
        readJson<{ previewModeId?: string }>(siteKeys.revalidation(projectId, deploymentId)),
      ]);
      if (!published?.functionVersion) return { kind: 'dropped', reason: `${deploymentId} is not published` };
      if (!record?.previewModeId) return { kind: 'dropped', reason: `${deploymentId} has no revalidation record (published before ISR on AWS)` };
      const out = await invokeSite(
        opts.lambda,
        { functionName: siteFunctionName(opts.prefix, projectId), qualifier: published.functionVersion },
        { host: message.host, method: 'HEAD', path: message.url, userAgent: 'shiplog-revalidate', headers: { 'x-forwarded-host': message.host, 'x-prerender-revalidate': record.previewModeId, 'x-isr': '1' } },
        { signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) },
      );
      if (out.kind === 'no-response') return { kind: 'failed', reason: `${deploymentId}: ${out.error}` };
      const cache = out.headers['x-nextjs-cache'];
      if (!ACCEPTED.has(out.status) || cache !== 'REVALIDATED') {
        return { kind: 'failed', reason: `${deploymentId} answered ${out.status} with x-nextjs-cache ${cache ?? 'absent'}` };
      }
      return { kind: 'revalidated', projectId, deploymentId, status: out.status };
    },
  };
};
