import type { ShiplogEvent, DnsRecord } from '../../events/index.ts';
import type { Decider } from '../shell/index.ts';
import type { CertificateStatus } from './ports.ts';

/**
 * An event of a `domain#<host>` stream.
 *
 * @example
 * const e: DomainStreamEvent = { type: 'DomainRemoved', data: { projectId: 'web', host: 'www.example.com' } };
 */
export type DomainStreamEvent = Extract<
  ShiplogEvent,
  { type: 'DomainAdded' | 'CertificateRequested' | 'DomainValidationPending' | 'CertificateIssued' | 'DomainActive' | 'DomainFailed' | 'DomainRemoved' }
>;
type FailureReason = Extract<DomainStreamEvent, { type: 'DomainFailed' }>['data']['reason'];

/** One custom domain (`domain#<host>`), as its stream tells it. */
export interface DomainState {
  status: 'none' | 'added' | 'pending' | 'active' | 'failed' | 'removed';
  host?: string;
  projectId?: string;
  alias?: string;
  redirectTo?: string;
  certificateId?: string;
  records: DnsRecord[];
  /** When the pending certificate's validation gives up (ACM: 72 hours after the request). */
  expiresAt?: string;
  certificate?: { issuer: string; notBefore: string; notAfter: string };
  failure?: { reason: FailureReason; detail?: string; retryable: boolean };
}

export const initialState = (): DomainState => ({ status: 'none', records: [] });

/** Whether a project holds the host: added, waiting for DNS, or active. */
export const isAttached = (s: DomainState): boolean => s.status === 'added' || s.status === 'pending' || s.status === 'active';

/**
 * What the domains service asks of one domain.
 *
 * @example
 * decide({ type: 'Add', projectId: 'web', host: 'www.example.com', alias: 'production' }, state)
 */
export type DomainCommand =
  | { type: 'Add'; projectId: string; host: string; alias: string; redirectTo?: string }
  | { type: 'Request'; certificateId: string; provider: 'acm' | 'local-ca'; records: DnsRecord[]; expiresAt?: string }
  | { type: 'Issue'; certificateId: string; issuer: string; notBefore: string; notAfter: string }
  | { type: 'Fail'; certificateId?: string; reason: FailureReason; detail?: string; retryable: boolean }
  | { type: 'Check'; certificateId: string; status: CertificateStatus; now: string }
  | { type: 'Remove'; projectId: string };

export const evolve = (s: DomainState, ev: DomainStreamEvent): DomainState => {
  switch (ev.type) {
    case 'DomainAdded': {
      const { projectId, host, alias, redirectTo } = ev.data;
      return { status: 'added', projectId, host, alias, records: [], ...(redirectTo ? { redirectTo } : {}) };
    }
    case 'CertificateRequested':
      return { ...s, certificateId: ev.data.certificateId };
    case 'DomainValidationPending':
      return { ...s, status: 'pending', certificateId: ev.data.certificateId, records: ev.data.records, ...(ev.data.expiresAt ? { expiresAt: ev.data.expiresAt } : {}) };
    case 'CertificateIssued':
      return { ...s, certificate: { issuer: ev.data.issuer, notBefore: ev.data.notBefore, notAfter: ev.data.notAfter } };
    case 'DomainActive':
      return { ...s, status: 'active' };
    case 'DomainFailed': {
      const { reason, detail, retryable } = ev.data;
      return { ...s, status: 'failed', failure: { reason, retryable, ...(detail ? { detail } : {}) } };
    }
    case 'DomainRemoved':
      return { ...s, status: 'removed' };
    default:
      return s;
  }
};

/**
 * The rules of one domain. Every step happens once per adding: a duplicate or late trigger
 * (a request for a domain that already has a certificate, an issue for a certificate that is
 * no longer the domain's, anything after removal) decides nothing. A project may take a host
 * that is free, failed or removed; who holds it is checked by the caller (a 409 is not an event).
 * `Check` is one look at the pending certificate (on `DomainValidationPending` and by the
 * scheduled reconcile): issued makes the domain active, failed fails it, still pending decides
 * nothing until the validation window (`expiresAt`) has passed, then the domain fails as
 * `validation-timed-out`.
 *
 * @example
 * const events = decide(cmd, history.reduce(evolve, initialState()));
 */
export const decide = (cmd: DomainCommand, s: DomainState): DomainStreamEvent[] => {
  switch (cmd.type) {
    case 'Add': {
      if (isAttached(s)) return [];
      const { projectId, host, alias, redirectTo } = cmd;
      return [{ type: 'DomainAdded', data: { projectId, host, alias, ...(redirectTo ? { redirectTo } : {}) } }];
    }
    case 'Request': {
      if (s.status !== 'added' || s.certificateId) return [];
      const ref = { projectId: s.projectId!, host: s.host! };
      return [
        { type: 'CertificateRequested', data: { ...ref, certificateId: cmd.certificateId, provider: cmd.provider, subjectAlternativeNames: [s.host!] } },
        { type: 'DomainValidationPending', data: { ...ref, certificateId: cmd.certificateId, records: cmd.records, ...(cmd.expiresAt ? { expiresAt: cmd.expiresAt } : {}) } },
      ];
    }
    case 'Issue': {
      if (s.status !== 'pending' || s.certificateId !== cmd.certificateId) return [];
      const ref = { projectId: s.projectId!, host: s.host!, certificateId: cmd.certificateId };
      return [
        { type: 'CertificateIssued', data: { ...ref, issuer: cmd.issuer, notBefore: cmd.notBefore, notAfter: cmd.notAfter } },
        { type: 'DomainActive', data: { ...ref, alias: s.alias! } },
      ];
    }
    case 'Fail': {
      if (s.status !== 'added' && s.status !== 'pending') return [];
      if (cmd.certificateId && cmd.certificateId !== s.certificateId) return [];
      const { reason, detail, retryable } = cmd;
      return [{ type: 'DomainFailed', data: { projectId: s.projectId!, host: s.host!, reason, retryable, ...(detail ? { detail: detail.slice(0, 1000) } : {}) } }];
    }
    case 'Check':
      return check(cmd, s);
    case 'Remove':
      if ((!isAttached(s) && s.status !== 'failed') || s.projectId !== cmd.projectId) return [];
      return [{ type: 'DomainRemoved', data: { projectId: cmd.projectId, host: s.host! } }];
  }
};

// One look at the pending certificate, as the authority answered it at `now`.
const check = (cmd: Extract<DomainCommand, { type: 'Check' }>, s: DomainState): DomainStreamEvent[] => {
  if (s.status !== 'pending' || s.certificateId !== cmd.certificateId) return [];
  const { certificateId, status } = cmd;
  if (status.status === 'issued') return decide({ type: 'Issue', certificateId, issuer: status.issuer, notBefore: status.notBefore, notAfter: status.notAfter }, s);
  if (status.status === 'failed') return decide({ type: 'Fail', certificateId, reason: status.reason, detail: status.detail, retryable: status.reason !== 'caa-forbids-issuer' }, s);
  if (!s.expiresAt || Date.parse(cmd.now) < Date.parse(s.expiresAt)) return [];
  return decide({
    type: 'Fail', certificateId, reason: 'validation-timed-out', retryable: true,
    detail: `the certificate was still pending validation at ${s.expiresAt}, the end of its validation window`,
  }, s);
};

/**
 * The domain decider, as the shell runs it.
 *
 * @example
 * await execute(store, streams.domain('www.example.com'), domainDecider, () => cmd, ctx);
 */
export const domainDecider: Decider<DomainState, DomainCommand, DomainStreamEvent> = { decide, evolve, initialState };
