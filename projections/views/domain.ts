import type { DnsRecord } from '../../events/index.ts';
import type { ProjectionEvent } from '../types.ts';

/**
 * A custom domain of a project and where its set-up stands.
 *
 * @example
 * (await models.listDomains('web')).filter((d) => d.status === 'validating');
 */
export interface DomainView {
  projectId: string;
  host: string;
  alias: string | null;
  redirectTo: string | null;
  status: 'pending' | 'validating' | 'issued' | 'active' | 'failed';
  certificate: { id: string; provider: string | null; issuer: string | null; notAfter: string | null } | null;
  records: DnsRecord[];
  failure: { reason: string; detail: string | null; retryable: boolean } | null;
  addedAt: string | null;
  updatedAt: string;
}

/** Folds the events of one domain stream (in order); `DomainRemoved` deletes it. */
export const evolveDomain = (v0: DomainView | null, e: ProjectionEvent): DomainView | null => {
  if (!('host' in e.data) || e.type === 'DomainRemoved') return e.type === 'DomainRemoved' ? null : v0;
  const at = e.metadata.occurredAt;
  const v: DomainView = v0 ?? {
    projectId: e.data.projectId, host: e.data.host, alias: null, redirectTo: null, status: 'pending', certificate: null,
    records: [], failure: null, addedAt: null, updatedAt: at,
  };
  // One copy per event: `updatedAt` and the event's fields written over the document's (its keys
  // keep their places).
  switch (e.type) {
    case 'DomainAdded':
      return { ...v, updatedAt: at, alias: e.data.alias, redirectTo: e.data.redirectTo ?? null, status: 'pending', failure: null, addedAt: at };
    case 'CertificateRequested':
      return { ...v, updatedAt: at, certificate: { id: e.data.certificateId, provider: e.data.provider, issuer: null, notAfter: null } };
    case 'DomainValidationPending':
      return { ...v, updatedAt: at, status: 'validating', records: e.data.records };
    case 'CertificateIssued':
      return {
        ...v, updatedAt: at, status: 'issued',
        certificate: { id: e.data.certificateId, provider: v.certificate?.provider ?? null, issuer: e.data.issuer, notAfter: e.data.notAfter },
      };
    case 'DomainActive':
      return { ...v, updatedAt: at, status: 'active', alias: e.data.alias };
    case 'DomainFailed':
      return { ...v, updatedAt: at, status: 'failed', failure: { reason: e.data.reason, detail: e.data.detail ?? null, retryable: e.data.retryable } };
    default:
      return v0;
  }
};
