import { randomUUID } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../../../shell/index.ts';
import type { HealthCheckInput, HealthObservation, HealthProbe, Published } from '../../ports.ts';
import { siteFunctionName, siteKeys } from '../site-host/aws-site.ts';

/**
 * Options of {@link awsHealthProbe}: the same bucket, prefix and domain as the site host's.
 *
 * @example
 * awsHealthProbe({ lambda, s3, bucket: 'shiplog-sites', prefix: 'shiplog', domain: 'shiplog.example.com' });
 */
export interface AwsHealthProbeOptions {
  lambda: LambdaClient;
  s3: S3Client;
  bucket: string;
  prefix: string;
  domain: string;
  maxBodyBytes?: number;
}

/**
 * The health probe on AWS: invokes the deployment's own Lambda version (the number in its
 * `.published` marker, never an alias) with the API Gateway v2 event CloudFront's origin would
 * send for `GET <path>` on `<deployment>-<project>.<domain>`, and reads the `aws-lambda`
 * wrapper's result. A function error (the server crashed, an init failure, a timeout) is no
 * response; so is a version that cannot be found.
 *
 * @example
 * const probe = awsHealthProbe(opts);
 * await probe.check({ projectId: 'web', deploymentId: '01JD…', path: '/', timeoutMs: 30_000 });
 */
export const awsHealthProbe = (opts: AwsHealthProbeOptions): HealthProbe => ({
  async check({ projectId, deploymentId, path, timeoutMs }: HealthCheckInput): Promise<HealthObservation> {
    const max = opts.maxBodyBytes ?? 512;
    const signal = AbortSignal.timeout(timeoutMs);
    let version: string | undefined;
    try {
      const res = await opts.s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: siteKeys.published(projectId, deploymentId) }), { abortSignal: signal });
      version = (JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null') as Published | null)?.functionVersion;
    } catch (err) {
      return { kind: 'no-response', error: awsErrorName(err) === 'NoSuchKey' ? `${deploymentId} is not published` : `reading the published marker: ${(err as Error).message}` };
    }
    if (!version) return { kind: 'no-response', error: `${deploymentId} has no function version` };
    const q = path.indexOf('?');
    const rawPath = q < 0 ? path : path.slice(0, q);
    const rawQueryString = q < 0 ? '' : path.slice(q + 1);
    const host = `${deploymentId.toLowerCase()}-${projectId}.${opts.domain}`;
    const now = new Date();
    const event = {
      version: '2.0', routeKey: '$default', rawPath, rawQueryString,
      headers: { host, 'user-agent': 'shiplog-health-check', accept: '*/*', 'x-forwarded-proto': 'https' },
      ...(rawQueryString ? { queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)) } : {}),
      requestContext: {
        accountId: 'anonymous', apiId: 'shiplog-health', domainName: host, domainPrefix: host.split('.')[0],
        http: { method: 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'shiplog-health-check' },
        requestId: randomUUID(), routeKey: '$default', stage: '$default', time: now.toUTCString(), timeEpoch: now.getTime(),
      },
      isBase64Encoded: false,
    };
    try {
      const out = await opts.lambda.send(
        new InvokeCommand({ FunctionName: siteFunctionName(opts.prefix, projectId), Qualifier: version, Payload: new TextEncoder().encode(JSON.stringify(event)) }),
        { abortSignal: signal },
      );
      const payload = out.Payload ? new TextDecoder().decode(out.Payload) : '';
      if (out.FunctionError) return { kind: 'no-response', error: `the function failed (${out.FunctionError}): ${payload.slice(0, max)}` };
      const result = JSON.parse(payload || 'null') as { statusCode?: number; body?: string; isBase64Encoded?: boolean } | null;
      if (!result || typeof result.statusCode !== 'number') return { kind: 'no-response', error: `not an HTTP result: ${payload.slice(0, max)}` };
      const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString('utf8') : (result.body ?? '');
      return { kind: 'response', status: result.statusCode, bodyStart: body.slice(0, max) };
    } catch (err) {
      return { kind: 'no-response', error: signal.aborted ? `no response within ${timeoutMs} ms` : `${awsErrorName(err)}: ${(err as Error).message}` };
    }
  },
});
