import { describe, it } from 'vitest';
import type { DnsRecord, DomainEvent } from '../../events/domains.ts';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { domainDecider, type DomainCommand } from './decider.ts';

const given = deciderSpec(domainDecider);
const host = 'www.example.com';
const ref = { projectId: 'web', host };
const records: DnsRecord[] = [
  { purpose: 'certificate-validation', name: `_a.${host}`, type: 'CNAME', value: '_b.acm-validations.aws' },
  { purpose: 'routing', name: host, type: 'CNAME', value: 'd111.cloudfront.net' },
];
const certificateId = 'arn:aws:acm:us-east-1:123:certificate/abc';
const times = { notBefore: '2026-11-22T00:00:00.000Z', notAfter: '2027-12-21T23:59:59.000Z' };

const add: DomainCommand = { type: 'Add', ...ref, alias: 'production' };
const request: DomainCommand = { type: 'Request', certificateId, provider: 'acm', records };
const issue: DomainCommand = { type: 'Issue', certificateId, issuer: 'Amazon', ...times };

const added: DomainEvent = { type: 'DomainAdded', data: { ...ref, alias: 'production' } };
const requested: DomainEvent = { type: 'CertificateRequested', data: { ...ref, certificateId, provider: 'acm', subjectAlternativeNames: [host] } };
const pending: DomainEvent = { type: 'DomainValidationPending', data: { ...ref, certificateId, records } };
const issued: DomainEvent = { type: 'CertificateIssued', data: { ...ref, certificateId, issuer: 'Amazon', ...times } };
const active: DomainEvent = { type: 'DomainActive', data: { ...ref, alias: 'production', certificateId } };
const removed: DomainEvent = { type: 'DomainRemoved', data: ref };
const failed: DomainEvent = { type: 'DomainFailed', data: { ...ref, reason: 'validation-timed-out', retryable: true } };

describe('domain decider', () => {
  it('adds a free host, with its redirect', () => {
    given([]).when(add).then([added]);
    given([]).when({ ...add, redirectTo: 'example.com' }).then([{ type: 'DomainAdded', data: { ...ref, alias: 'production', redirectTo: 'example.com' } }]);
  });

  it('adds nothing for a host already attached (a duplicate add)', () => {
    given([added]).when(add).thenNothing();
    given([added, requested, pending, issued, active]).when(add).thenNothing();
  });

  it('lets a removed or failed host be added again', () => {
    given([added, removed]).when(add).then([added]);
    given([added, requested, pending, failed]).when(add).then([added]);
  });

  it('requests the certificate once, then waits for the DNS records', () => {
    given([added]).when(request).then([requested, pending]);
    given([added, requested, pending]).when(request).thenNothing();
    given([added, removed]).when(request).thenNothing();
  });

  it('issues only the pending certificate of the domain, then makes it active', () => {
    given([added, requested, pending]).when(issue).then([issued, active]);
    given([added, requested, pending, issued, active]).when(issue).thenNothing();
    given([added, requested, pending]).when({ ...issue, certificateId: 'another' }).thenNothing();
    given([added]).when(issue).thenNothing();
  });

  it('ignores a late issue after removal or re-adding (reordering)', () => {
    given([added, requested, pending, removed]).when(issue).thenNothing();
    given([added, requested, pending, removed, added]).when(issue).thenNothing();
  });

  it('fails a domain that is being set up, once', () => {
    const fail: DomainCommand = { type: 'Fail', certificateId, reason: 'validation-timed-out', retryable: true };
    given([added, requested, pending]).when(fail).then([failed]);
    given([added, requested, pending, failed]).when(fail).thenNothing();
    given([added, requested, pending, issued, active]).when(fail).thenNothing();
  });

  describe('checking the pending certificate (on DomainValidationPending and by the reconcile)', () => {
    const expiresAt = '2026-11-25T10:00:00.000Z';
    const pendingUntil: DomainEvent = { type: 'DomainValidationPending', data: { ...ref, certificateId, records, expiresAt } };
    const waiting = [added, requested, pendingUntil];
    const check = (status: Extract<DomainCommand, { type: 'Check' }>['status'], now = '2026-11-22T11:00:00.000Z'): DomainCommand =>
      ({ type: 'Check', certificateId, status, now });

    it('makes the domain active once the certificate is issued', () => {
      given(waiting).when(check({ status: 'issued', issuer: 'Amazon', ...times })).then([issued, active]);
    });

    it('fails the domain once the authority failed the certificate; a CAA refusal is not retryable', () => {
      given(waiting).when(check({ status: 'failed', reason: 'certificate-failed', detail: 'ACM could not issue the certificate (OTHER)' }))
        .then([{ type: 'DomainFailed', data: { ...ref, reason: 'certificate-failed', retryable: true, detail: 'ACM could not issue the certificate (OTHER)' } }]);
      given(waiting).when(check({ status: 'failed', reason: 'caa-forbids-issuer', detail: 'CAA_ERROR' }))
        .then([{ type: 'DomainFailed', data: { ...ref, reason: 'caa-forbids-issuer', retryable: false, detail: 'CAA_ERROR' } }]);
    });

    it('decides nothing while the certificate is pending within its validation window', () => {
      given(waiting).when(check({ status: 'pending' })).thenNothing();
      given(waiting).when(check({ status: 'pending' }, '2026-11-25T09:59:59.999Z')).thenNothing();
      // No window known (the local CA issues at once): only the authority's answer ends the wait.
      given([added, requested, pending]).when(check({ status: 'pending' }, '2030-01-01T00:00:00.000Z')).thenNothing();
    });

    it('fails as validation-timed-out a certificate still pending at the end of its window', () => {
      given(waiting).when(check({ status: 'pending' }, expiresAt)).then([{
        type: 'DomainFailed',
        data: { ...ref, reason: 'validation-timed-out', retryable: true, detail: `the certificate was still pending validation at ${expiresAt}, the end of its validation window` },
      }]);
    });

    it('decides nothing for a domain no longer pending, or another certificate (late or repeated checks)', () => {
      const ok = check({ status: 'issued', issuer: 'Amazon', ...times });
      given([...waiting, issued, active]).when(ok).thenNothing();
      given([...waiting, failed]).when(ok).thenNothing();
      given([...waiting, removed]).when(ok).thenNothing();
      given([...waiting, removed, added]).when(ok).thenNothing();
      given(waiting).when({ ...ok, certificateId: 'another' } as DomainCommand).thenNothing();
      given([...waiting, removed, added]).when(check({ status: 'pending' }, '2030-01-01T00:00:00.000Z')).thenNothing();
    });
  });

  it('removes a domain of the project, once, and never another project’s', () => {
    given([added, requested, pending, issued, active]).when({ type: 'Remove', projectId: 'web' }).then([removed]);
    given([added, requested, pending, failed]).when({ type: 'Remove', projectId: 'web' }).then([removed]);
    given([added, removed]).when({ type: 'Remove', projectId: 'web' }).thenNothing();
    given([added]).when({ type: 'Remove', projectId: 'shop' }).thenNothing();
  });
});
