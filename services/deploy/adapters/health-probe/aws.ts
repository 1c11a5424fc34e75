import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../../../shell/index.ts';
import type { HealthCheckInput, HealthObservation, HealthProbe, Published } from '../../ports.ts';
import { invokeSite } from '../site-host/aws-invoke.ts';
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
    const out = await invokeSite(
      opts.lambda,
      { functionName: siteFunctionName(opts.prefix, projectId), qualifier: version },
      { host: `${deploymentId.toLowerCase()}-${projectId}.${opts.domain}`, method: 'GET', path, userAgent: 'shiplog-health-check' },
      { signal, maxErrorBytes: max },
    );
    if (out.kind === 'response') return { kind: 'response', status: out.status, bodyStart: out.body.slice(0, max) };
    return { kind: 'no-response', error: signal.aborted ? `no response within ${timeoutMs} ms` : out.error };
  },
});
