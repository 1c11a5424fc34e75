import { ACMClient, DeleteCertificateCommand, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalog, eventTypes, streams, toEventBridgeEvent, type EventType } from '../../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../../events/store/index.ts';
import { createViewsTable, dynamoViewStore, readModels, type ViewStore } from '../../../projections/index.ts';
import { domainCommands, type DomainsReconciled } from '../../../services/domains/index.ts';
import { testDynamoClient, uniqueTableName } from '../../../test/support/dynamo.ts';
import { newId } from '../../../test/support/events.ts';
import { scenario } from '../../../test/support/scenario-events.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../aws-box/moto.ts';
import { subscriptions } from '../../topology.ts';
import { DOMAINS_RECONCILE_SCHEDULE } from '../aws-rules.ts';
import type * as DomainsEntry from './domains.ts';
import type * as ProjectionsEntry from './projections.ts';

// The AWS domains functions (the Lambda entries, their composition root and the real ACM adapter)
// against moto's ACM and DynamoDB Local, with the Projections function folding the read model the
// reconcile reads. moto keeps a DNS-validated certificate PENDING_VALIDATION for
// MOTO_ACM_VALIDATION_WAIT seconds after the request, then answers ISSUED: like ACM once the
// records are in DNS, only sooner.

const VALIDATION_WAIT_SECONDS = 10;
const saved = { ...process.env };
const client = testDynamoClient();
let moto: Moto;
let acm: ACMClient;
let store: EventStore;
let views: ViewStore;
// Imported once the environment is set, as Lambda loads them.
let fns: { domains: typeof DomainsEntry; projections: typeof ProjectionsEntry };

beforeAll(async () => {
  // startMoto passes this process's environment to the server.
  process.env.MOTO_ACM_VALIDATION_WAIT = String(VALIDATION_WAIT_SECONDS);
  moto = await startMoto();
  const [eventsTable, viewsTable] = [uniqueTableName(import.meta.url, 'events'), uniqueTableName(import.meta.url, 'views')];
  await Promise.all([createEventStoreTable(client, eventsTable), createViewsTable(client, viewsTable)]);
  // What the stack gives the reconcile function (domains env + the views table); the SDK's endpoint variables point at the box.
  Object.assign(process.env, {
    SHIPLOG_EVENTS_TABLE: eventsTable, SHIPLOG_VIEWS_TABLE: viewsTable, SHIPLOG_SITE_DOMAIN: 'apps.example.com',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'), AWS_ENDPOINT_URL_ACM: moto.endpoint,
    // DynamoDB Local takes only letters and digits in an access key id (not BOX_CREDENTIALS'); moto takes any.
    AWS_REGION: BOX_REGION, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  // The domains functions ask ACM in us-east-1, where CloudFront reads certificates.
  acm = new ACMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: BOX_CREDENTIALS });
  store = dynamoEventStore({ client, tableName: eventsTable, types: eventTypes });
  views = dynamoViewStore({ client, tableName: viewsTable });
  fns = { domains: await import('./domains.ts'), projections: await import('./projections.ts') };
  const project = scenario('web').created();
  const { streamId: _s, version: _v, schemaVersion: _sv, ...metadata } = project.metadata;
  await store.append(project.metadata.streamId, [{ type: project.type, data: project.data, metadata }], { expectedVersion: 0 });
}, 120_000);

afterAll(async () => {
  process.env = saved;
  acm?.destroy();
  await moto?.stop();
});

// The bus: every new event to the topology's domains and projections subscriptions, until nothing is new.
const delivered = new Set<string>();
const deliver = async (): Promise<void> => {
  const entries = { ...fns.domains, handler: fns.projections.handler } as Record<string, (e: unknown) => Promise<unknown>>;
  for (;;) {
    const fresh = (await store.readAll({ limit: 10_000 })).events.filter((e) => !delivered.has(e.metadata.eventId));
    if (fresh.length === 0) return;
    for (const e of fresh) {
      delivered.add(e.metadata.eventId);
      const subscribers = subscriptions.filter((s) => /functions\/(domains|projections)\./.test(s.handler) && (!s.pattern['detail-type'] || (s.pattern['detail-type'] as string[]).includes(e.type)));
      for (const s of subscribers) await entries[s.handler.split('.').pop()!]!(toEventBridgeEvent(e, catalog[e.type as EventType].source));
    }
  }
};
const types = async (host: string) => (await store.readStream(streams.domain(host))).map((e) => e.type);
const certificateOf = async (host: string) => ((await store.readStream(streams.domain(host))).find((e) => e.type === 'CertificateRequested')?.data as { certificateId: string }).certificateId;
const addDomain = async (host: string) => {
  await domainCommands({ store, ids: newId, now: () => new Date().toISOString() }).add('web', { host }, { kind: 'user', id: 'ada' });
  await deliver();
};
const domainView = async (host: string) =>
  (await readModels({ views, urls: { production: () => '', deployment: () => '' } }).listDomains('web')).find((d) => d.host === host);

describe('custom domains on AWS: nothing waits for a retry', () => {
  it('runs the reconcile every minute', () => {
    expect(DOMAINS_RECONCILE_SCHEDULE).toBe('rate(1 minute)');
  });

  it('leaves a pending certificate to the reconcile, which makes the domain active once ACM issues it', async () => {
    const host = 'www.shiplog-box.example';
    // The whole chain runs, and DomainsOnValidationPending returns without an error on a pending certificate.
    await addDomain(host);
    expect(await types(host)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending']);
    const arn = await certificateOf(host);
    expect((await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate?.Status).toBe('PENDING_VALIDATION');
    expect(await domainView(host)).toMatchObject({ status: 'validating' });

    // The scheduled rule's invocations: the domain turns active once moto issues.
    const runs: DomainsReconciled[] = [];
    await expect.poll(async () => {
      runs.push(await fns.domains.reconcile());
      return types(host);
    }, { timeout: (VALIDATION_WAIT_SECONDS + 50) * 1000, interval: 1000 }).toContain('DomainActive');
    expect(runs.at(-1)).toEqual({ checked: 1, active: [host], failed: [] });
    expect(runs.slice(0, -1).every((r) => r.checked === 1 && r.active.length === 0 && r.failed.length === 0)).toBe(true);
    const events = await store.readStream(streams.domain(host));
    expect(events.map((e) => e.type)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending', 'CertificateIssued', 'DomainActive']);
    expect(events[3]!.data).toMatchObject({ certificateId: arn, issuer: expect.any(String), notBefore: expect.any(String), notAfter: expect.any(String) });
    expect(events[3]!.metadata.causationId).toBe(events[2]!.metadata.eventId);

    // The read model follows, so the next run has nothing to check.
    await deliver();
    expect(await domainView(host)).toMatchObject({ status: 'active', certificate: { id: arn } });
    expect(await fns.domains.reconcile()).toEqual({ checked: 0, active: [], failed: [] });
  }, 120_000);

  it('records a domain failed when its pending certificate is gone from ACM', async () => {
    const host = 'gone.shiplog-box.example';
    await addDomain(host);
    expect(await types(host)).toEqual(['DomainAdded', 'CertificateRequested', 'DomainValidationPending']);
    await acm.send(new DeleteCertificateCommand({ CertificateArn: await certificateOf(host) }));
    expect(await fns.domains.reconcile()).toEqual({ checked: 1, active: [], failed: [host] });
    const failed = (await store.readStream(streams.domain(host))).at(-1)!;
    expect(failed).toMatchObject({ type: 'DomainFailed', data: { host, reason: 'certificate-failed', retryable: true, detail: expect.stringContaining('has no certificate') } });
    await deliver();
    expect(await domainView(host)).toMatchObject({ status: 'failed' });
  }, 60_000);
});
