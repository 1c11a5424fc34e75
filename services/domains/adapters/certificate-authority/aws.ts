import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  RequestCertificateCommand,
  type ACMClient,
  type CertificateDetail,
} from '@aws-sdk/client-acm';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsErrorName as errorName, awsErrorTranslator, ConfigError, RetryableError } from '../../../shell/index.ts';
import { CertificateRefusedError, type CertificateAuthority, type CertificateStatus } from '../../ports.ts';

/**
 * ACM cannot take the request now (throttled, a fault on its side, a certificate whose
 * validation records are not out yet). Retryable: the bus delivers the event again later.
 *
 * @example
 * catch (e) { if (e instanceof CertificateAuthorityBusyError) e.retryable; } // true
 */
export class CertificateAuthorityBusyError extends RetryableError {
  override readonly name = 'CertificateAuthorityBusyError';
}

/**
 * ACM refuses the caller (no access, a bad ARN): not retryable until someone fixes it (then redrive).
 *
 * @example
 * catch (e) { if (e instanceof CertificateAuthorityConfigError) alert(e.message); }
 */
export class CertificateAuthorityConfigError extends ConfigError {
  override readonly name = 'CertificateAuthorityConfigError';
}

/**
 * Options of {@link acmCertificateAuthority}.
 *
 * @example
 * acmCertificateAuthority({ client: new ACMClient({ region: 'us-east-1' }) });
 */
export interface AcmOptions {
  client: ACMClient;
  /** How long `request` waits for ACM to publish the validation records; 30 s by default. */
  recordsTimeoutMs?: number;
  /** Pause between two `DescribeCertificate` calls of that wait; 1 s by default. */
  pollIntervalMs?: number;
  /** Where `release` says it left a certificate in use; `console.warn` by default. */
  warn?: (message: string) => void;
  /** For tests. */
  sleep?: (ms: number) => Promise<unknown>;
}

/** ACM keeps a certificate in PENDING_VALIDATION for 72 hours, then VALIDATION_TIMED_OUT. */
const VALIDATION_WINDOW_MS = 72 * 3600_000;

/** Refusals of this one request: the domain fails, and the user may add it again. */
const refusedRequest = ['InvalidDomainValidationOptionsException', 'InvalidParameterException', 'LimitExceededException'];

/**
 * Rethrows an ACM SDK error as one of ours (retryable or not); anything unrecognised unchanged.
 *
 * @example
 * await client.send(cmd).catch(translateAcmError);
 */
export const translateAcmError = awsErrorTranslator({
  prefix: 'ACM ',
  busy: ['RequestInProgressException', 'ConflictException', 'ServiceUnavailable', 'InternalFailure', 'InternalServerError'],
  misconfigured: ['AccessDenied', 'InvalidArnException', 'ValidationException', 'InvalidTagException', 'TagPolicyException'],
  Busy: CertificateAuthorityBusyError,
  Config: CertificateAuthorityConfigError,
});

/**
 * ACM's idempotency token: at most 32 word characters. Derived from the host and the caller's
 * token, so one event asks for one certificate however often it is retried (within ACM's hour).
 *
 * @example
 * acmIdempotencyToken('www.example.com', '01J…'); // 32 hex characters
 */
export const acmIdempotencyToken = (host: string, token: string): string =>
  createHash('sha256').update(`${host}\n${token}`).digest('hex').slice(0, 32);

const iso = (d: Date | undefined, what: string): string => {
  if (!d) throw new CertificateAuthorityBusyError(`ACM reports an issued certificate without ${what}`);
  return d.toISOString();
};

/**
 * What `DescribeCertificate` says, as a {@link CertificateStatus}.
 *
 * @example
 * certificateStatus({ Status: 'FAILED', FailureReason: 'CAA_ERROR' }); // { status: 'failed', reason: 'caa-forbids-issuer', … }
 */
export const certificateStatus = (c: CertificateDetail): CertificateStatus => {
  switch (c.Status) {
    case 'PENDING_VALIDATION':
      return { status: 'pending' };
    case 'ISSUED':
      return { status: 'issued', issuer: c.Issuer ?? 'Amazon', notBefore: iso(c.NotBefore, 'NotBefore'), notAfter: iso(c.NotAfter, 'NotAfter') };
    case 'FAILED':
      return c.FailureReason === 'CAA_ERROR'
        ? { status: 'failed', reason: 'caa-forbids-issuer', detail: `the CAA records of ${c.DomainName ?? 'the domain'} do not allow Amazon to issue (CAA_ERROR)` }
        : { status: 'failed', reason: 'certificate-failed', detail: `ACM could not issue the certificate (${c.FailureReason ?? 'no reason given'})` };
    case 'VALIDATION_TIMED_OUT':
      return { status: 'failed', reason: 'validation-timed-out', detail: 'the validation records were not found within 72 hours' };
    default:
      return { status: 'failed', reason: 'certificate-failed', detail: `the certificate is ${c.Status ?? 'in an unknown state'}` };
  }
};

/**
 * The ACM certificate authority: `request` is `RequestCertificate` (DNS validation, an
 * idempotency token from the caller's) and then `DescribeCertificate` until ACM publishes the
 * CNAME that validates it, for at most `recordsTimeoutMs` (then a retryable error: the retry gets
 * the same certificate back). `status` maps `DescribeCertificate`; `release` is
 * `DeleteCertificate`, and leaves a certificate still in use (attached to a distribution) with a
 * warning. For CloudFront the client must be in us-east-1.
 *
 * @example
 * const ca = acmCertificateAuthority({ client: new ACMClient({ region: 'us-east-1' }) });
 * const { certificateId, validationRecords } = await ca.request({ host: 'www.example.com', idempotencyToken: event.id });
 */
export const acmCertificateAuthority = (opts: AcmOptions): CertificateAuthority => {
  const { client } = opts;
  const timeoutMs = opts.recordsTimeoutMs ?? 30_000;
  const interval = opts.pollIntervalMs ?? 1_000;
  const wait = opts.sleep ?? ((ms: number) => sleep(ms));
  const warn = opts.warn ?? ((m: string) => console.warn(m));

  const describe = async (arn: string): Promise<CertificateDetail> => {
    const out = await client.send(new DescribeCertificateCommand({ CertificateArn: arn })).catch(translateAcmError);
    if (!out.Certificate) throw new CertificateAuthorityBusyError(`ACM described ${arn} without a certificate`);
    return out.Certificate;
  };

  return {
    provider: 'acm',
    request: async ({ host, idempotencyToken }) => {
      const requested = await client
        .send(new RequestCertificateCommand({ DomainName: host, ValidationMethod: 'DNS', IdempotencyToken: acmIdempotencyToken(host, idempotencyToken) }))
        .catch((err: unknown) => {
          if (refusedRequest.includes(errorName(err))) throw new CertificateRefusedError('certificate-failed', `ACM refused a certificate for ${host}: ${(err as Error).message}`);
          return translateAcmError(err);
        });
      const arn = requested.CertificateArn;
      if (!arn) throw new CertificateAuthorityBusyError(`ACM returned no certificate ARN for ${host}`);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = await describe(arn);
        const status = certificateStatus(c);
        if (status.status === 'failed') throw new CertificateRefusedError(status.reason === 'caa-forbids-issuer' ? 'caa-forbids-issuer' : 'certificate-failed', status.detail);
        const options = (c.DomainValidationOptions ?? []).filter((o) => o.ValidationMethod === undefined || o.ValidationMethod === 'DNS');
        const records = options.map((o) => o.ResourceRecord);
        if (options.length > 0 && records.every((r) => r?.Name && r.Type && r.Value)) {
          const seen = new Set<string>();
          const validationRecords = records
            .filter((r) => !seen.has(r!.Name!) && seen.add(r!.Name!))
            .map((r) => ({ purpose: 'certificate-validation' as const, name: r!.Name!.replace(/\.$/, ''), type: r!.Type!, value: r!.Value!.replace(/\.$/, '') }));
          const created = c.CreatedAt ?? new Date();
          return { certificateId: arn, validationRecords, expiresAt: new Date(created.getTime() + VALIDATION_WINDOW_MS).toISOString() };
        }
        if (Date.now() + interval > deadline) {
          throw new CertificateAuthorityBusyError(`ACM has not published the validation records of ${arn} (${host}) within ${timeoutMs} ms`);
        }
        await wait(interval);
      }
    },
    status: async (certificateId) => {
      try {
        return certificateStatus(await describe(certificateId));
      } catch (err) {
        const cause = err instanceof Error && err.cause ? err.cause : err;
        if (errorName(cause) === 'ResourceNotFoundException') return { status: 'failed', reason: 'certificate-failed', detail: `ACM has no certificate ${certificateId}` };
        throw err;
      }
    },
    release: async (certificateId) => {
      try {
        await client.send(new DeleteCertificateCommand({ CertificateArn: certificateId }));
      } catch (err) {
        const name = errorName(err);
        if (name === 'ResourceNotFoundException') return;
        if (name === 'ResourceInUseException') {
          return warn(`ACM certificate ${certificateId} is still in use (attached to a distribution or load balancer): left in place; delete it once detached`);
        }
        translateAcmError(err);
      }
    },
  };
};
