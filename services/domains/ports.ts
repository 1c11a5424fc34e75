import type { DnsRecord } from '../../events/index.ts';

/**
 * What a certificate authority says about one certificate.
 *
 * @example
 * const s: CertificateStatus = { status: 'issued', issuer: 'CN=shiplog local CA', notBefore, notAfter };
 */
export type CertificateStatus =
  | { status: 'pending' }
  | { status: 'issued'; issuer: string; notBefore: string; notAfter: string }
  | { status: 'failed'; reason: 'certificate-failed' | 'caa-forbids-issuer' | 'validation-timed-out'; detail: string };

/**
 * A certificate that was requested, and the DNS records that prove control of its host.
 *
 * @example
 * const r: RequestedCertificate = { certificateId: 'arn:aws:acm:…', validationRecords: [{ purpose: 'certificate-validation', … }] };
 */
export interface RequestedCertificate {
  certificateId: string;
  validationRecords: DnsRecord[];
  /** When validation gives up, if the authority has a deadline (ACM: 72 hours). */
  expiresAt?: string;
}

/**
 * Issues TLS certificates for custom domains with DNS validation. The `local-ca` adapter
 * (`adapters/certificate-authority/local.ts`) issues at once from a CA on this machine. The `acm` adapter is for the
 * AWS side to write: `request` is ACM `RequestCertificate` (ValidationMethod DNS,
 * IdempotencyToken) then `DescribeCertificate` until `DomainValidationOptions[].ResourceRecord`
 * appears; `status` maps `DescribeCertificate` (`PENDING_VALIDATION`, `ISSUED`, `FAILED` with
 * `FailureReason`, `VALIDATION_TIMED_OUT`); `release` is `DeleteCertificate`.
 *
 * @example
 * const { certificateId, validationRecords } = await ca.request({ host: 'www.example.com', idempotencyToken: event.id });
 * const status = await ca.status(certificateId);
 */
export interface CertificateAuthority {
  readonly provider: 'acm' | 'local-ca';
  /** Requests a certificate for `host`; the same token must not request a second one (retries). */
  request(input: { host: string; idempotencyToken: string }): Promise<RequestedCertificate>;
  status(certificateId: string): Promise<CertificateStatus>;
  /** Deletes the certificate; a certificate that is already gone is not an error. */
  release(certificateId: string): Promise<void>;
}

/**
 * A refusal of the certificate authority that no retry will change (e.g. ACM's CAA check).
 * The service records it as `DomainFailed`; other errors are retried by the bus.
 *
 * @example
 * throw new CertificateRefusedError('caa-forbids-issuer', 'CAA of example.com allows only letsencrypt.org');
 */
export class CertificateRefusedError extends Error {
  override readonly name = 'CertificateRefusedError';
  constructor(readonly reason: 'certificate-failed' | 'caa-forbids-issuer', message: string) {
    super(message);
  }
}

/**
 * The DNS record that points a custom host at shiplog (AWS: a CNAME to the CloudFront
 * distribution; locally an A record to this machine).
 *
 * @example
 * const routing: RoutingRecord = ({ host }) => ({ purpose: 'routing', name: host, type: 'A', value: '127.0.0.1' });
 */
export type RoutingRecord = (domain: { projectId: string; host: string; alias: string }) => DnsRecord;

/**
 * The hosts whose certificate waits for DNS validation, for the scheduled reconcile (AWS: the
 * domains read model). The list may lag the store or name a host that has moved on: the
 * reconcile folds each domain's stream before it acts.
 *
 * @example
 * const pendingDomains: PendingDomains = async () => ['www.example.com'];
 */
export type PendingDomains = () => Promise<string[]>;

/**
 * What makes an active domain reachable: on AWS a distribution tenant carrying the host and its
 * certificate, and the host's routing entry at the edge; locally nothing (the site router reads
 * the domains read model). `attach` runs once the certificate is issued and before the domain is
 * recorded active, so "active" means served; both are idempotent, and a failure is retried by
 * the next check or delivery.
 *
 * @example
 * await edge.attach({ host: 'www.example.com', projectId: 'web', alias: 'production', certificateId: arn });
 * await edge.detach('www.example.com');
 */
export interface DomainEdge {
  attach(domain: { host: string; projectId: string; alias: string; redirectTo?: string; certificateId: string }): Promise<void>;
  detach(host: string): Promise<void>;
}

/**
 * The DNS zones of the account shiplog runs in (Route 53 on AWS; none locally). A record whose
 * name falls in one of them is created there, so the user has nothing to do for it.
 *
 * @example
 * const records = await dns.apply([{ purpose: 'routing', name: 'www.example.com', type: 'CNAME', value: 'd111.cloudfront.net' }]);
 * records[0]?.zone; // 'Z0123456789' when example.com is a hosted zone of the account
 */
export interface DnsZones {
  /** Creates (or updates) each record in the zone holding its name; returns them, with `zone` on those created. */
  apply(records: DnsRecord[]): Promise<DnsRecord[]>;
  /** Deletes the records it created (those with a `zone`); a record already gone is no error. */
  remove(records: DnsRecord[]): Promise<void>;
}

