import type { DnsRecord } from '../../events/index.ts';
import type { DomainState } from './decider.ts';

/**
 * A domain as the API shows it: where it stands and the DNS records the user must create.
 *
 * @example
 * { host: 'www.example.com', alias: 'production', status: 'pending', records: [{ purpose: 'routing', … }] }
 */
export interface DomainView {
  host: string;
  projectId: string;
  alias: string;
  redirectTo?: string;
  status: Exclude<DomainState['status'], 'none'>;
  records: DnsRecord[];
  certificate?: { id: string; issuer: string; notBefore: string; notAfter: string };
  failure?: DomainState['failure'];
}

/** The API view of one domain's state. */
export const toDomainView = (s: DomainState): DomainView => ({
  host: s.host ?? '',
  projectId: s.projectId ?? '',
  alias: s.alias ?? 'production',
  ...(s.redirectTo ? { redirectTo: s.redirectTo } : {}),
  status: s.status === 'none' ? 'removed' : s.status,
  records: s.records,
  ...(s.certificate && s.certificateId ? { certificate: { id: s.certificateId, ...s.certificate } } : {}),
  ...(s.failure ? { failure: s.failure } : {}),
});
