import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distributionTenantStandIn } from './distribution-tenants.ts';
import { keyValueStoreStandIn } from './key-value-store.ts';
import { serviceOf } from './endpoint.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS } from './moto.ts';
import { sitesKeyValueStoreClient } from '../aws/runtime/key-value-store-client.ts';
import { keyValueStoreRouting, routingEntries } from '../../services/deploy/adapters/site-host/aws-routing.ts';
import { cloudFrontDomainEdge, DomainEdgeConfigError, tenantName } from '../../services/domains/adapters/domain-edge/aws.ts';

// The AWS domain edge (services/domains/adapters/domain-edge/aws.ts) through the real CloudFront and KeyValueStore SDK clients, against the
// AWS box's stand-ins for distribution tenants and the KeyValueStore (moto has neither).
const KVS_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const KVS_ARN = `arn:aws:cloudfront::${BOX_ACCOUNT}:key-value-store/${KVS_ID}`;
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/one';
const tenants = distributionTenantStandIn({ account: BOX_ACCOUNT });
const kvs = keyValueStoreStandIn();
let server: Server;
let edge: ReturnType<typeof cloudFrontDomainEdge>;

const entry = async (host: string) => kvs.reader(KVS_ID).get(routingEntries.domainKey(host)).then((v) => JSON.parse(v) as unknown, () => undefined);

beforeAll(async () => {
  server = createServer((req, res) => {
    const service = serviceOf(req.headers, req.url ?? '/');
    if (service === 'cloudfront-keyvaluestore') return kvs.handle(req, res);
    void tenants.route(req, res).then((handled) => handled || res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kvs.create({ name: 'sites', arn: KVS_ARN, id: KVS_ID });
  const routing = keyValueStoreRouting(sitesKeyValueStoreClient(endpoint, { region: 'us-east-1', credentials: BOX_CREDENTIALS }), KVS_ARN);
  edge = cloudFrontDomainEdge({
    cloudfront: new CloudFrontClient({ endpoint, region: 'us-east-1', credentials: BOX_CREDENTIALS }), distributionId: 'E2SITES', prefix: 'shiplog',
    route: (host, target) => (target ? routing.put([routingEntries.domain(host, target)]) : routing.remove([routingEntries.domainKey(host)])),
  });
});
afterAll(() => new Promise((r) => server?.close(r)));

describe('custom domains on the sites distribution', () => {
  it('attaches a host as an enabled tenant with its certificate, and routes it to its project alias', async () => {
    await edge.attach({ host: 'www.example.com', projectId: 'web', alias: 'production', certificateId: CERT });
    expect(tenants.list()).toEqual([expect.objectContaining({ name: 'shiplog-www.example.com', distributionId: 'E2SITES', domains: ['www.example.com'], certificateArn: CERT, enabled: true })]);
    expect(await entry('www.example.com')).toEqual({ p: 'web' });
    expect(tenants.servesHost('www.example.com')).toBe(true);
    // Again (a retry, or a later check): nothing changes.
    const etag = tenants.list()[0]!.etag;
    await edge.attach({ host: 'www.example.com', projectId: 'web', alias: 'production', certificateId: CERT });
    expect(tenants.list()[0]!.etag).toBe(etag);
    // A renewed certificate replaces the tenant's.
    await edge.attach({ host: 'www.example.com', projectId: 'web', alias: 'production', certificateId: `${CERT}-renewed` });
    expect(tenants.list()[0]!.certificateArn).toBe(`${CERT}-renewed`);
  });

  it('routes a redirect domain to its target and a preview domain to its alias', async () => {
    await edge.attach({ host: 'example.com', projectId: 'web', alias: 'production', redirectTo: 'www.example.com', certificateId: CERT });
    expect(await entry('example.com')).toEqual({ r: 'www.example.com' });
    await edge.attach({ host: 'beta.example.com', projectId: 'web', alias: 'preview-beta', certificateId: CERT });
    expect(await entry('beta.example.com')).toEqual({ p: 'web', a: 'preview-beta' });
  });

  it('detaches a host: no route, tenant disabled then deleted; detaching again is no error', async () => {
    await edge.detach('beta.example.com');
    expect(await entry('beta.example.com')).toBeUndefined();
    expect(tenants.list().map((t) => t.name)).not.toContain(tenantName('shiplog', 'beta.example.com'));
    expect(tenants.servesHost('beta.example.com')).toBe(false);
    await edge.detach('beta.example.com');
  });

  it('refuses a host another tenant already carries, as misconfiguration', async () => {
    const other = cloudFrontDomainEdge({
      cloudfront: new CloudFrontClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', credentials: BOX_CREDENTIALS }),
      distributionId: 'E2SITES', prefix: 'other-stage', route: async () => {},
    });
    await expect(other.attach({ host: 'www.example.com', projectId: 'web', alias: 'production', certificateId: CERT })).rejects.toBeInstanceOf(DomainEdgeConfigError);
  });

  it('names tenants within CloudFront\'s rules', () => {
    expect(tenantName('shiplog', 'www.example.com')).toBe('shiplog-www.example.com');
    expect(tenantName('shiplog', `${'a'.repeat(130)}.com`)).toHaveLength(128);
  });
});
