import {
  ACMClient,
  ACMServiceException,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  InvalidDomainValidationOptionsException,
  RequestCertificateCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ThrottlingException,
  type CertificateDetail,
} from '@aws-sdk/client-acm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { isRetryable } from '../../../shell/index.ts';
import { CertificateRefusedError } from '../../ports.ts';
import { acmCertificateAuthority, acmIdempotencyToken, CertificateAuthorityBusyError, CertificateAuthorityConfigError } from './aws.ts';

const acm = mockClient(ACMClient);
const ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
const meta = { $metadata: { httpStatusCode: 400 } };
const CREATED = new Date('2026-11-22T05:00:00.000Z');

// DescribeCertificate, as AWS documents it: just after the request the option has no ResourceRecord yet.
const pending = (record: boolean): CertificateDetail => ({
  CertificateArn: ARN,
  DomainName: 'www.example.com',
  SubjectAlternativeNames: ['www.example.com'],
  Status: 'PENDING_VALIDATION',
  Type: 'AMAZON_ISSUED',
  CreatedAt: CREATED,
  DomainValidationOptions: [
    {
      DomainName: 'www.example.com',
      ValidationDomain: 'www.example.com',
      ValidationStatus: 'PENDING_VALIDATION',
      ValidationMethod: 'DNS',
      ...(record ? { ResourceRecord: { Name: '_a79865eb4cd1a6ab990a45779b4e0b96.www.example.com.', Type: 'CNAME', Value: '_424c7224e9b0146f9a8808af955727d0.acm-validations.aws.' } } : {}),
    },
  ],
});

const ca = (extra: Partial<Parameters<typeof acmCertificateAuthority>[0]> = {}) =>
  acmCertificateAuthority({ client: new ACMClient({ region: 'us-east-1' }), sleep: async () => {}, ...extra });

beforeEach(() => acm.reset());

describe('acmCertificateAuthority.request', () => {
  it('requests a DNS-validated certificate and waits for its validation record', async () => {
    acm.on(RequestCertificateCommand).resolves({ CertificateArn: ARN });
    acm.on(DescribeCertificateCommand).resolvesOnce({ Certificate: pending(false) }).resolves({ Certificate: pending(true) });

    const got = await ca().request({ host: 'www.example.com', idempotencyToken: '01JD0000000000000000000000' });

    expect(got).toEqual({
      certificateId: ARN,
      validationRecords: [{ purpose: 'certificate-validation', name: '_a79865eb4cd1a6ab990a45779b4e0b96.www.example.com', type: 'CNAME', value: '_424c7224e9b0146f9a8808af955727d0.acm-validations.aws' }],
      expiresAt: '2026-11-25T05:00:00.000Z',
    });
    const [req] = acm.commandCalls(RequestCertificateCommand);
    expect(req!.args[0].input).toEqual({ DomainName: 'www.example.com', ValidationMethod: 'DNS', IdempotencyToken: acmIdempotencyToken('www.example.com', '01JD0000000000000000000000') });
    expect(acm.commandCalls(DescribeCertificateCommand)).toHaveLength(2);
  });

  it('derives a stable token ACM accepts (32 word characters) from any request token', () => {
    const t = acmIdempotencyToken('www.example.com', 'a token with spaces & symbols, and longer than thirty-two characters');
    expect(t).toMatch(/^\w{1,32}$/);
    expect(acmIdempotencyToken('www.example.com', 'e1')).toBe(acmIdempotencyToken('www.example.com', 'e1'));
    expect(acmIdempotencyToken('www.example.com', 'e1')).not.toBe(acmIdempotencyToken('api.example.com', 'e1'));
  });

  it('gives up waiting for the record after the bound, retryably', async () => {
    acm.on(RequestCertificateCommand).resolves({ CertificateArn: ARN });
    acm.on(DescribeCertificateCommand).resolves({ Certificate: pending(false) });
    const sleep = vi.fn(async () => {});
    const err = await ca({ recordsTimeoutMs: 0, sleep }).request({ host: 'www.example.com', idempotencyToken: 'e1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertificateAuthorityBusyError);
    expect(isRetryable(err)).toBe(true);
  });

  it('turns an invalid domain into a refusal, and throttling into a retryable error', async () => {
    acm.on(RequestCertificateCommand).rejectsOnce(new InvalidDomainValidationOptionsException({ message: 'bad domain', ...meta }));
    await expect(ca().request({ host: 'bad..example.com', idempotencyToken: 'e1' })).rejects.toBeInstanceOf(CertificateRefusedError);

    acm.on(RequestCertificateCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', ...meta }));
    const err = await ca().request({ host: 'www.example.com', idempotencyToken: 'e1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertificateAuthorityBusyError);
    expect(isRetryable(err)).toBe(true);
  });

  it('does not retry a caller ACM denies', async () => {
    acm.on(RequestCertificateCommand).rejects(new ACMServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized', ...meta }));
    const err = await ca().request({ host: 'www.example.com', idempotencyToken: 'e1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertificateAuthorityConfigError);
    expect(isRetryable(err)).toBe(false);
  });
});

describe('acmCertificateAuthority.status', () => {
  const described = (c: Partial<CertificateDetail>) => acm.on(DescribeCertificateCommand, { CertificateArn: ARN }).resolves({ Certificate: { ...pending(true), ...c } });

  it('maps PENDING_VALIDATION and ISSUED', async () => {
    described({});
    expect(await ca().status(ARN)).toEqual({ status: 'pending' });
    described({ Status: 'ISSUED', Issuer: 'Amazon', NotBefore: new Date('2026-11-22T00:00:00Z'), NotAfter: new Date('2027-12-21T23:59:59Z') });
    expect(await ca().status(ARN)).toEqual({ status: 'issued', issuer: 'Amazon', notBefore: '2026-11-22T00:00:00.000Z', notAfter: '2027-12-21T23:59:59.000Z' });
  });

  it('maps FAILED (CAA_ERROR and others) and VALIDATION_TIMED_OUT', async () => {
    described({ Status: 'FAILED', FailureReason: 'CAA_ERROR' });
    expect(await ca().status(ARN)).toMatchObject({ status: 'failed', reason: 'caa-forbids-issuer' });
    described({ Status: 'FAILED', FailureReason: 'DOMAIN_NOT_ALLOWED' });
    expect(await ca().status(ARN)).toMatchObject({ status: 'failed', reason: 'certificate-failed', detail: expect.stringContaining('DOMAIN_NOT_ALLOWED') });
    described({ Status: 'VALIDATION_TIMED_OUT' });
    expect(await ca().status(ARN)).toMatchObject({ status: 'failed', reason: 'validation-timed-out' });
  });

  it('reports a certificate ACM does not have as failed, and throttling as retryable', async () => {
    acm.on(DescribeCertificateCommand).rejectsOnce(new ResourceNotFoundException({ message: 'not found', ...meta }));
    expect(await ca().status(ARN)).toMatchObject({ status: 'failed', reason: 'certificate-failed' });
    acm.on(DescribeCertificateCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', ...meta }));
    await expect(ca().status(ARN)).rejects.toBeInstanceOf(CertificateAuthorityBusyError);
  });
});

describe('acmCertificateAuthority.release', () => {
  it('deletes the certificate; one already gone is fine', async () => {
    acm.on(DeleteCertificateCommand).resolvesOnce({}).rejects(new ResourceNotFoundException({ message: 'not found', ...meta }));
    await ca().release(ARN);
    await ca().release(ARN);
    expect(acm.commandCalls(DeleteCertificateCommand).map((c) => c.args[0].input)).toEqual([{ CertificateArn: ARN }, { CertificateArn: ARN }]);
  });

  it('leaves a certificate in use, and says so', async () => {
    acm.on(DeleteCertificateCommand).rejects(new ResourceInUseException({ message: 'in use', ...meta }));
    const warn = vi.fn();
    await ca({ warn }).release(ARN);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('still in use'));
  });

  it('retries a throttled delete', async () => {
    acm.on(DeleteCertificateCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', ...meta }));
    await expect(ca().release(ARN)).rejects.toBeInstanceOf(CertificateAuthorityBusyError);
  });
});
