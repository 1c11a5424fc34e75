import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '../../events/streams.ts';
import { startDomains, type DomainsHarness } from './harness.ts';

const run = promisify(execFile);
let h: DomainsHarness;
const types = async (host: string) => (await h.store.readStream(streams.domain(host))).map((e) => e.type);

beforeAll(async () => {
  h = await startDomains(import.meta.url);
  await h.ingest.createProject({ name: 'web' });
  await h.ingest.createProject({ name: 'shop' });
});
afterAll(() => h?.stop());

describe('domains API', () => {
  it('refuses invalid, reserved and unknown-project domains', async () => {
    for (const host of ['WWW.Example.com', 'example', 'exa mple.com', '127.0.0.1', 'web.localhost', 'localhost', '-a.example.com']) {
      expect((await h.call('POST', '/api/projects/web/domains', { host })).status, host).toBe(400);
    }
    expect(await h.call('POST', '/api/projects/web/domains', { host: 'a.example.com', alias: 'bad alias' })).toMatchObject({ status: 400 });
    expect(await h.call('POST', '/api/projects/web/domains', { host: 'a.example.com', redirectTo: 'a.example.com' })).toMatchObject({ status: 400 });
    expect(await h.call('POST', '/api/projects/nope/domains', { host: 'a.example.com' })).toMatchObject({ status: 404 });
    expect(await types('a.example.com')).toEqual([]);
  });

  it('adds a domain, lists it with its records, refuses it to another project, and removes it', async () => {
    const host = 'api.example.org';
    const added = await h.call('POST', '/api/projects/web/domains', { host });
    expect(added).toMatchObject({ status: 201, body: { host, projectId: 'web', alias: 'production', status: 'added' } });
    expect((await h.call('POST', '/api/projects/web/domains', { host })).status).toBe(200); // a duplicate adds nothing
    expect(await h.call('POST', '/api/projects/shop/domains', { host })).toMatchObject({ status: 409, body: { error: `${host} is already used by another project` } });
    expect(await h.call('POST', '/api/projects/web/domains', { host, alias: 'staging' })).toMatchObject({ status: 409 });
    expect(await types(host)).toEqual(['DomainAdded']);

    await h.deliver();
    const listed = await h.call('GET', '/api/projects/web/domains');
    expect(listed.status).toBe(200);
    const [domain] = listed.body.domains as { host: string; status: string; records: { purpose: string; type: string; name: string }[] }[];
    expect(domain).toMatchObject({ host, status: 'active' });
    expect(domain!.records.map((r) => [r.purpose, r.type])).toEqual([['certificate-validation', 'CNAME'], ['routing', 'A']]);
    expect((await h.call('GET', '/api/projects/shop/domains')).body).toEqual({ domains: [] });

    expect(await h.call('DELETE', `/api/projects/shop/domains/${host}`)).toMatchObject({ status: 404 });
    expect(await h.call('DELETE', `/api/projects/web/domains/${host}`)).toMatchObject({ status: 200, body: { removed: host } });
    expect(await h.call('DELETE', `/api/projects/web/domains/${host}`)).toMatchObject({ status: 404 });
    expect((await h.call('GET', '/api/projects/web/domains')).body).toEqual({ domains: [] });
    // Now free: another project may take it.
    expect((await h.call('POST', '/api/projects/shop/domains', { host })).status).toBe(201);
  });

  it('lets exactly one of two projects adding the same host at once win', async () => {
    const host = 'race.example.net';
    const answers = await Promise.all(['web', 'shop'].map((p) => h.call('POST', `/api/projects/${p}/domains`, { host })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    expect(await types(host)).toEqual(['DomainAdded']);
  });
});

describe('domains service (handler chain on the local CA)', () => {
  const host = 'www.shiplog-example.com';

  it('turns DomainAdded into requested, pending with the records, issued and active, in order', async () => {
    await h.call('POST', '/api/projects/web/domains', { host });
    await h.deliver();
    const events = await h.store.readStream(streams.domain(host));
    expect(events.map((e) => e.type)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending', 'CertificateIssued', 'DomainActive']);
    const [added, requested, pending, issued, active] = events as { data: Record<string, unknown>; metadata: { causationId: string | null; eventId: string } }[];
    expect(requested!.data).toMatchObject({ provider: 'local-ca', subjectAlternativeNames: [host] });
    expect(requested!.metadata.causationId).toBe(added!.metadata.eventId);
    expect(pending!.data.records).toEqual([
      { purpose: 'certificate-validation', name: expect.stringMatching(new RegExp(`^_[0-9a-f]{32}\\.${host.replaceAll('.', '\\.')}$`)), type: 'CNAME', value: expect.stringMatching(/\.local-ca\.shiplog\.invalid$/) },
      { purpose: 'routing', name: host, type: 'A', value: '127.0.0.1' },
    ]);
    expect(issued!.data).toMatchObject({ certificateId: requested!.data.certificateId, issuer: expect.stringContaining('CN=shiplog local CA') });
    expect(issued!.metadata.causationId).toBe(pending!.metadata.eventId);
    expect(active!.data).toMatchObject({ projectId: 'web', host, alias: 'production', certificateId: requested!.data.certificateId });
  });

  it('issues a certificate that verifies against the local CA, for the host, with private keys kept 0600', async () => {
    const [, requested, , issued] = await h.store.readStream(streams.domain(host));
    const certificateId = (requested!.data as { certificateId: string }).certificateId;
    const { cert, key } = await h.ca.files(certificateId);
    const leaf = new X509Certificate(cert);
    const root = new X509Certificate(await readFile(h.ca.rootCertificate));
    expect(leaf.subjectAltName).toBe(`DNS:${host}`);
    expect(leaf.serialNumber.toUpperCase()).toBe(certificateId);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkHost(host)).toBe(host);
    expect(leaf.checkHost('other.example.com')).toBeUndefined();
    expect(root.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(issued!.data).toMatchObject({ notBefore: new Date(leaf.validFrom).toISOString(), notAfter: new Date(leaf.validTo).toISOString() });
    const certPath = join(h.dataDir, 'ca', 'certs', `${certificateId}.pem`);
    const { stdout } = await run('openssl', ['verify', '-CAfile', h.ca.rootCertificate, certPath]);
    expect(stdout.trim()).toBe(`${certPath}: OK`);
    expect(key).toMatch(/PRIVATE KEY/);
    expect((await stat(join(h.dataDir, 'ca', 'root.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(h.dataDir, 'ca', 'certs', `${certificateId}.key`))).mode & 0o777).toBe(0o600);
  });

  it('decides nothing for duplicate and late deliveries', async () => {
    const before = await h.store.readStream(streams.domain(host));
    const { toEventBridgeEvent } = await import('../../events/envelope.ts');
    for (const e of before.slice(0, 3)) {
      const handler = e.type === 'DomainAdded' ? h.service.onDomainAdded : h.service.onValidationPending;
      if (e.type !== 'CertificateRequested') await handler(toEventBridgeEvent(e, 'shiplog.domains'));
    }
    expect(await h.store.readStream(streams.domain(host))).toHaveLength(before.length);
  });

  it('releases the certificate of a removed domain', async () => {
    const [, requested] = await h.store.readStream(streams.domain(host));
    const certificateId = (requested!.data as { certificateId: string }).certificateId;
    expect(await h.call('DELETE', `/api/projects/web/domains/${host}`)).toMatchObject({ status: 200 });
    await h.deliver();
    expect(await h.ca.status(certificateId)).toMatchObject({ status: 'failed' });
    expect(await types(host)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending', 'CertificateIssued', 'DomainActive', 'DomainRemoved']);
  });
});
