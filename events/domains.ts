import { z } from 'zod';
import { Alias, Host, ProjectId, Timestamp } from './primitives.ts';

/** An ACM certificate ARN, or the local CA's serial number. */
const CertificateId = z.string().min(1).max(2048);

/** The ids every domain event carries. */
const DomainRef = z.object({ projectId: ProjectId, host: Host });

/**
 * A DNS record the user must create: to validate a certificate, or to route the host to shiplog.
 *
 * @example
 * DnsRecord.parse({ purpose: 'routing', name: 'www.example.com', type: 'CNAME', value: 'd111.cloudfront.net' });
 */
export const DnsRecord = z.object({
  purpose: z.enum(['certificate-validation', 'routing']),
  name: z.string().min(1),
  type: z.enum(['CNAME', 'TXT', 'A', 'AAAA', 'CAA', 'ALIAS']).describe('ALIAS: an apex name pointed at a host name (a Route 53 alias A record, or the DNS provider\'s ALIAS/ANAME)'),
  value: z.string().min(1).describe('Public DNS record content, never a secret'),
  zone: z.string().min(1).optional().describe('The hosted zone of the account (Route 53) where shiplog created this record itself; absent when the user creates it'),
});
export type DnsRecord = z.infer<typeof DnsRecord>;

/**
 * A custom domain was attached to a project alias. `redirectTo` makes it a redirect
 * (e.g. apex to www) instead of serving the app.
 *
 * @example
 * DomainAdded.parse({ type: 'DomainAdded', data: { projectId: 'web', host: 'www.example.com', alias: 'production' } });
 */
export const DomainAdded = z.object({
  type: z.literal('DomainAdded'),
  data: DomainRef.extend({ alias: Alias, redirectTo: Host.optional() }),
});
export type DomainAdded = z.infer<typeof DomainAdded>;

/**
 * A TLS certificate was requested for the host (ACM on AWS, the local CA locally).
 *
 * @example
 * CertificateRequested.parse({ type: 'CertificateRequested', data: { projectId: 'web', host: 'www.example.com',
 *   certificateId: 'arn:aws:acm:us-east-1:123:certificate/abc', provider: 'acm', subjectAlternativeNames: [] } });
 */
export const CertificateRequested = z.object({
  type: z.literal('CertificateRequested'),
  data: DomainRef.extend({
    certificateId: CertificateId,
    provider: z.enum(['acm', 'local-ca']),
    subjectAlternativeNames: z.array(Host),
  }),
});
export type CertificateRequested = z.infer<typeof CertificateRequested>;

/**
 * The domain waits for DNS: these records must exist before the certificate is issued and
 * the host routes to shiplog.
 *
 * @example
 * DomainValidationPending.parse({ type: 'DomainValidationPending', data: { projectId: 'web', host: 'www.example.com',
 *   certificateId: 'arn:…', records: [{ purpose: 'certificate-validation', name: '_x.www.example.com', type: 'CNAME', value: '_y.acm-validations.aws' }] } });
 */
export const DomainValidationPending = z.object({
  type: z.literal('DomainValidationPending'),
  data: DomainRef.extend({
    certificateId: CertificateId,
    records: z.array(DnsRecord).min(1),
    expiresAt: Timestamp.optional().describe('When validation gives up (ACM: 72 hours)'),
  }),
});
export type DomainValidationPending = z.infer<typeof DomainValidationPending>;

/**
 * The certificate was issued.
 *
 * @example
 * CertificateIssued.parse({ type: 'CertificateIssued', data: { projectId: 'web', host: 'www.example.com', certificateId: 'arn:…',
 *   issuer: 'Amazon', notBefore: '2026-11-22T00:00:00.000Z', notAfter: '2027-12-21T23:59:59.000Z' } });
 */
export const CertificateIssued = z.object({
  type: z.literal('CertificateIssued'),
  data: DomainRef.extend({ certificateId: CertificateId, issuer: z.string().min(1), notBefore: Timestamp, notAfter: Timestamp }),
});
export type CertificateIssued = z.infer<typeof CertificateIssued>;

/**
 * The host serves the alias over HTTPS.
 *
 * @example
 * DomainActive.parse({ type: 'DomainActive', data: { projectId: 'web', host: 'www.example.com', alias: 'production', certificateId: 'arn:…' } });
 */
export const DomainActive = z.object({
  type: z.literal('DomainActive'),
  data: DomainRef.extend({ alias: Alias, certificateId: CertificateId }),
});
export type DomainActive = z.infer<typeof DomainActive>;

/**
 * The domain could not be set up. `retryable` failures can be retried by re-adding the domain.
 *
 * @example
 * DomainFailed.parse({ type: 'DomainFailed', data: { projectId: 'web', host: 'www.example.com', reason: 'validation-timed-out', retryable: true } });
 */
export const DomainFailed = z.object({
  type: z.literal('DomainFailed'),
  data: DomainRef.extend({
    reason: z.enum(['validation-timed-out', 'caa-forbids-issuer', 'certificate-failed', 'host-in-use', 'dns-misconfigured']),
    detail: z.string().max(1000).optional(),
    retryable: z.boolean(),
  }),
});
export type DomainFailed = z.infer<typeof DomainFailed>;

/**
 * The domain was detached from the project; its certificate is released.
 *
 * @example
 * DomainRemoved.parse({ type: 'DomainRemoved', data: { projectId: 'web', host: 'www.example.com' } });
 */
export const DomainRemoved = z.object({ type: z.literal('DomainRemoved'), data: DomainRef });
export type DomainRemoved = z.infer<typeof DomainRemoved>;

/**
 * Every event the domains service emits.
 *
 * @example
 * DomainEvent.parse({ type: 'DomainAdded', data });
 */
export const DomainEvent = z.discriminatedUnion('type', [
  DomainAdded, CertificateRequested, DomainValidationPending, CertificateIssued, DomainActive, DomainFailed, DomainRemoved,
]);
export type DomainEvent = z.infer<typeof DomainEvent>;
