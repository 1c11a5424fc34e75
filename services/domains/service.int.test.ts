import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, eventTypes, streams, toEventBridgeEvent, type EventType, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { newId } from '../../test/support/events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { scenario } from '../../test/support/scenario-events.ts';
import { isRetryable } from '../shell/index.ts';
import { domainCommands } from './commands.ts';
import type { DnsRecord } from '../../events/index.ts';
import type { CertificateAuthority, CertificateStatus, DnsZones, DomainEdge } from './ports.ts';
import { DomainsReconcileError, domainsService } from './service.ts';

// The domains service on DynamoDB Local with a scripted certificate authority (the port, answering
// what each test sets), so every answer ACM can give is shown, including "still pending" for days.

const HOUR = 3600_000;
const start = Date.parse('2026-11-22T10:00:00.000Z');
let clock = start;
const now = () => new Date(clock).toISOString();
const actor = { kind: 'user', id: 'ada' } as const;

/** What the authority answers per certificate: a status, or an error (ACM throttled). */
const answers = new Map<string, CertificateStatus | Error>();
const arnOf = (host: string) => `arn:aws:acm:eu-west-1:123456789012:certificate/${host}`;
const ca: CertificateAuthority = {
  provider: 'acm',
  request: async ({ host }) => ({
    certificateId: arnOf(host),
    validationRecords: [{ purpose: 'certificate-validation', name: `_x.${host}`, type: 'CNAME', value: '_y.acm-validations.aws' }],
    expiresAt: new Date(clock + 72 * HOUR).toISOString(),
  }),
  status: async (certificateId) => {
    const answer = answers.get(certificateId) ?? { status: 'pending' };
    if (answer instanceof Error) throw answer;
    return answer;
  },
  release: async () => undefined,
};
const issued: CertificateStatus = { status: 'issued', issuer: 'Amazon RSA 2048 M02', notBefore: '2026-11-22T00:00:00.000Z', notAfter: '2027-12-21T23:59:59.000Z' };

let store: EventStore;
let listed: string[] = [];
const service = () => domainsService({ store, ca, ids: newId, now, pendingDomains: async () => listed, routingRecord: ({ host }) => ({ purpose: 'routing', name: host, type: 'CNAME', value: 'apps.example.com' }) });
const delivered = new Set<string>();
const history = (host: string) => store.readStream(streams.domain(host));
const types = async (host: string) => (await history(host)).map((e) => e.type);

/** Adds the domain and delivers its events to the domains subscriptions until nothing is new. */
const addDomain = async (host: string): Promise<void> => {
  await domainCommands({ store, ids: newId, now }).add('web', { host }, actor);
  const domains = service();
  const handlers: Partial<Record<string, (e: unknown) => Promise<void>>> = { DomainAdded: domains.onDomainAdded, DomainValidationPending: domains.onValidationPending };
  for (let fresh: StoredEvent[]; (fresh = (await history(host)).filter((e) => !delivered.has(e.metadata.eventId))).length > 0;) {
    for (const e of fresh) {
      delivered.add(e.metadata.eventId);
      await handlers[e.type]?.(toEventBridgeEvent(e, catalog[e.type as EventType].source));
    }
  }
};

beforeAll(async () => {
  const client = testDynamoClient();
  const tableName = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, tableName);
  store = dynamoEventStore({ client, tableName, types: eventTypes });
  const project = scenario('web').created();
  const { streamId: _s, version: _v, schemaVersion: _sv, ...metadata } = project.metadata;
  await store.append(project.metadata.streamId, [{ type: project.type, data: project.data, metadata }], { expectedVersion: 0 });
});

describe('DomainsOnValidationPending', () => {
  it('looks once and returns quietly while the certificate is pending: no throw, no event', async () => {
    const host = 'pending.example.com';
    await addDomain(host);
    expect(await types(host)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending']);
    // Delivered again (a bus duplicate): still nothing to do, still no error.
    const pending = (await history(host)).at(-1)!;
    await expect(service().onValidationPending(toEventBridgeEvent(pending, catalog.DomainValidationPending.source))).resolves.toBeUndefined();
    expect(await types(host)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending']);
  });

  it('records the certificate at once when it is already issued', async () => {
    const host = 'quick.example.com';
    answers.set(arnOf(host), issued);
    await addDomain(host);
    expect(await types(host)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending', 'CertificateIssued', 'DomainActive']);
  });
});

describe('reconcile', () => {
  it('checks every pending domain once: issued → active, failed → failed, pending → nothing, past the window → timed out', async () => {
    const hosts = { issued: 'a.example.com', failed: 'b.example.com', waiting: 'c.example.com', expired: 'd.example.com', active: 'e.example.com' };
    answers.set(arnOf(hosts.active), issued);
    await addDomain(hosts.active);
    answers.delete(arnOf(hosts.active));
    await addDomain(hosts.expired);
    clock += 24 * HOUR;
    for (const host of [hosts.issued, hosts.failed, hosts.waiting]) await addDomain(host);
    for (const host of Object.values(hosts)) expect(await types(host), host).toContain(host === hosts.active ? 'DomainActive' : 'DomainValidationPending');

    // 49 hours later: d's 72-hour window has passed, c's has not. The read model may still list
    // hosts that moved on (e is active) or were never added (f): they are skipped.
    clock += 49 * HOUR;
    answers.set(arnOf(hosts.issued), issued);
    answers.set(arnOf(hosts.failed), { status: 'failed', reason: 'caa-forbids-issuer', detail: 'the CAA records of b.example.com do not allow Amazon to issue (CAA_ERROR)' });
    listed = [...Object.values(hosts), 'f.example.com', hosts.issued];
    const result = await service().reconcile();
    expect({ ...result, active: [...result.active].sort(), failed: [...result.failed].sort() })
      .toEqual({ checked: 4, active: [hosts.issued], failed: [hosts.failed, hosts.expired].sort() });

    const tail = async (host: string) => (await history(host)).slice(3);
    expect((await tail(hosts.issued)).map((e) => [e.type, e.data])).toEqual([
      ['CertificateIssued', { projectId: 'web', host: hosts.issued, certificateId: arnOf(hosts.issued), issuer: issued.issuer, notBefore: issued.notBefore, notAfter: issued.notAfter }],
      ['DomainActive', { projectId: 'web', host: hosts.issued, alias: 'production', certificateId: arnOf(hosts.issued) }],
    ]);
    expect((await tail(hosts.failed)).map((e) => e.data)).toEqual([{ projectId: 'web', host: hosts.failed, reason: 'caa-forbids-issuer', retryable: false, detail: expect.stringContaining('CAA_ERROR') }]);
    expect((await tail(hosts.expired)).map((e) => e.data)).toEqual([{ projectId: 'web', host: hosts.expired, reason: 'validation-timed-out', retryable: true, detail: expect.stringContaining('end of its validation window') }]);
    expect(await tail(hosts.waiting)).toEqual([]);
    expect(await types(hosts.active)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending', 'CertificateIssued', 'DomainActive']);
    expect(await types('f.example.com')).toEqual([]);
    // What the reconcile records is caused by the domain's DomainValidationPending, as if the subscription had seen it.
    const [, , pending, issuedEvent] = await history(hosts.issued);
    expect(issuedEvent!.metadata).toMatchObject({ causationId: pending!.metadata.eventId, correlationId: pending!.metadata.correlationId, actor: { kind: 'service', id: 'domains' } });

    // A second run finds only c still pending, and decides nothing.
    expect(await service().reconcile()).toEqual({ checked: 1, active: [], failed: [] });
  });

  it('checks the other domains when one check fails, then throws a retryable error naming it', async () => {
    const [throttled, fine] = ['g.example.com', 'h.example.com'];
    await addDomain(throttled);
    await addDomain(fine);
    answers.set(arnOf(throttled), Object.assign(new Error('Rate exceeded'), { name: 'CertificateAuthorityBusyError' }));
    answers.set(arnOf(fine), issued);
    listed = [throttled, fine];
    const err = await service().reconcile().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainsReconcileError);
    expect(isRetryable(err)).toBe(true);
    expect((err as DomainsReconcileError).failures).toEqual([{ host: throttled, error: 'CertificateAuthorityBusyError: Rate exceeded' }]);
    expect((err as DomainsReconcileError).result).toEqual({ checked: 1, active: [fine], failed: [] });
    expect(await types(fine)).toContain('DomainActive');
    expect(await types(throttled)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending']);
  });

  it('needs a list of pending domains', async () => {
    const domains = domainsService({ store, ca, ids: newId, now, routingRecord: ({ host }) => ({ purpose: 'routing', name: host, type: 'A', value: '127.0.0.1' }) });
    await expect(domains.reconcile()).rejects.toThrow(/pendingDomains/);
  });
});

describe('the domain edge', () => {
  it('attaches an issued domain before recording it active; while the edge refuses, the domain stays pending', async () => {
    const host = 'edge.example.com';
    const attached: { host: string; projectId: string; alias: string; certificateId: string }[] = [];
    let refuse = true;
    const edge: DomainEdge = {
      attach: async (d) => {
        if (refuse) throw Object.assign(new Error('tenant busy'), { retryable: true });
        attached.push(d);
      },
      detach: async () => undefined,
    };
    await domainCommands({ store, ids: newId, now }).add('web', { host }, actor);
    const domains = domainsService({ store, ca, ids: newId, now, edge, pendingDomains: async () => [host], routingRecord: ({ host: h }) => ({ purpose: 'routing', name: h, type: 'CNAME', value: 'apps.example.com' }) });
    const added = (await history(host)).at(-1)!;
    await domains.onDomainAdded(toEventBridgeEvent(added, catalog.DomainAdded.source));
    answers.set(arnOf(host), issued);
    await expect(domains.reconcile()).rejects.toBeInstanceOf(DomainsReconcileError);
    expect(await types(host)).not.toContain('DomainActive');
    refuse = false;
    await expect(domains.reconcile()).resolves.toMatchObject({ active: [host] });
    expect(attached).toEqual([{ host, projectId: 'web', alias: 'production', certificateId: arnOf(host) }]);
    expect((await types(host)).slice(-2)).toEqual(['CertificateIssued', 'DomainActive']);
  });

  it("creates the records in the account's zone where it holds the name, records which, and deletes them when the domain is removed", async () => {
    const host = 'www.zoned.example.com';
    // The account's zones as the port answers: zoned.example.com is one of them (Route 53 on AWS: test/integration/route53-zones.int.test.ts).
    const zone = new Map<string, DnsRecord>();
    const dns: DnsZones = {
      apply: async (records) => records.map((r) => (r.name.endsWith('zoned.example.com') ? (zone.set(r.name, r), { ...r, zone: 'Z1' }) : r)),
      remove: async (records) => void records.forEach((r) => zone.delete(r.name)),
    };
    const routingRecord = ({ host: h }: { host: string }): DnsRecord => ({ purpose: 'routing', name: h, type: 'CNAME', value: 'd111.cloudfront.net' });
    const domains = domainsService({ store, ca, ids: newId, now, dns, pendingDomains: async () => [host], routingRecord });
    await domainCommands({ store, ids: newId, now }).add('web', { host }, actor);
    await domains.onDomainAdded(toEventBridgeEvent((await history(host)).at(-1)!, catalog.DomainAdded.source));
    const pending = (await history(host)).find((e) => e.type === 'DomainValidationPending')!;
    expect((pending.data as { records: DnsRecord[] }).records).toEqual([
      { purpose: 'certificate-validation', name: `_x.${host}`, type: 'CNAME', value: '_y.acm-validations.aws', zone: 'Z1' },
      { purpose: 'routing', name: host, type: 'CNAME', value: 'd111.cloudfront.net', zone: 'Z1' },
    ]);
    expect([...zone.keys()].sort()).toEqual([host, `_x.${host}`].sort());
    await domainCommands({ store, ids: newId, now }).remove('web', host, actor);
    await domains.onDomainRemoved(toEventBridgeEvent((await history(host)).at(-1)!, catalog.DomainRemoved.source));
    expect(zone.size).toBe(0);
  });
});
