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

  it('removes a domain of the project, once, and never another project’s', () => {
    given([added, requested, pending, issued, active]).when({ type: 'Remove', projectId: 'web' }).then([removed]);
    given([added, requested, pending, failed]).when({ type: 'Remove', projectId: 'web' }).then([removed]);
    given([added, removed]).when({ type: 'Remove', projectId: 'web' }).thenNothing();
    given([added]).when({ type: 'Remove', projectId: 'shop' }).thenNothing();
  });
});
