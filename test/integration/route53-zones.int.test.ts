import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsRecord } from '../../events/index.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../infra/aws-box/moto.ts';
import { CLOUDFRONT_HOSTED_ZONE_ID, route53Zones } from '../../services/domains/adapters/dns-zones/aws.ts';

// Custom domains' DNS records in the account's Route 53 zones (dns-zones/aws.ts), against moto's
// Route 53: a record goes to the zone that holds its name (the longest), an apex ALIAS is an
// alias A/AAAA to CloudFront, a record no zone holds is left for the user, removal deletes only
// what shiplog created and tolerates what is gone.

let moto: Moto;
let route53: Route53Client;
const zones: Record<string, string> = {};

beforeAll(async () => {
  moto = await startMoto();
  route53 = new Route53Client({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
  for (const name of ['example.com', 'shop.example.com']) {
    const res = await route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `ref-${name}` }));
    zones[name] = res.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
  }
  await route53.send(new CreateHostedZoneCommand({ Name: 'internal.example.com', CallerReference: 'ref-private', HostedZoneConfig: { PrivateZone: true, Comment: 'vpc only' }, VPC: { VPCRegion: 'eu-west-1', VPCId: 'vpc-12345678' } }));
}, 60_000);
afterAll(async () => moto?.stop());

const recordsOf = async (zone: string) =>
  ((await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone }))).ResourceRecordSets ?? []).filter((r) => r.Type !== 'NS' && r.Type !== 'SOA');

describe('route53Zones', () => {
  const target = 'd111abcdef8.cloudfront.net';
  const wanted: DnsRecord[] = [
    { purpose: 'certificate-validation', name: '_a1.www.example.com.', type: 'CNAME', value: '_b2.acm-validations.aws.' },
    { purpose: 'routing', name: 'www.example.com', type: 'CNAME', value: target },
    { purpose: 'routing', name: 'example.com', type: 'ALIAS', value: target },
    { purpose: 'routing', name: 'app.shop.example.com', type: 'CNAME', value: target },
    { purpose: 'routing', name: 'www.elsewhere.org', type: 'CNAME', value: target },
    { purpose: 'routing', name: 'x.internal.example.com', type: 'CNAME', value: target },
  ];
  let applied: DnsRecord[];

  it('creates each record in the public zone holding its name, and leaves the others for the user', async () => {
    applied = await route53Zones({ route53 }).apply(wanted);
    expect(applied.map((r) => [r.name, r.zone])).toEqual([
      ['_a1.www.example.com.', zones['example.com']],
      ['www.example.com', zones['example.com']],
      ['example.com', zones['example.com']],
      ['app.shop.example.com', zones['shop.example.com']],
      ['www.elsewhere.org', undefined],
      // a private zone is not where the public resolves names: in example.com's public zone instead
      ['x.internal.example.com', zones['example.com']],
    ]);
    const main = await recordsOf(zones['example.com']!);
    expect(main.find((r) => r.Name === 'www.example.com.')).toMatchObject({ Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: target }] });
    expect(main.find((r) => r.Name === '_a1.www.example.com.')).toMatchObject({ Type: 'CNAME', ResourceRecords: [{ Value: '_b2.acm-validations.aws.' }] });
    for (const Type of ['A', 'AAAA']) {
      expect(main.find((r) => r.Name === 'example.com.' && r.Type === Type)?.AliasTarget).toMatchObject({ HostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID, DNSName: `${target}.` });
    }
    expect((await recordsOf(zones['shop.example.com']!)).map((r) => r.Name)).toEqual(['app.shop.example.com.']);
  });

  it('is an upsert: applying again changes nothing', async () => {
    const before = await recordsOf(zones['example.com']!);
    expect(await route53Zones({ route53 }).apply(wanted)).toEqual(applied);
    expect(await recordsOf(zones['example.com']!)).toEqual(before);
  });

  it('removes what it created, and a second removal is no error', async () => {
    await route53Zones({ route53 }).remove(applied);
    expect(await recordsOf(zones['example.com']!)).toEqual([]);
    expect(await recordsOf(zones['shop.example.com']!)).toEqual([]);
    await expect(route53Zones({ route53 }).remove(applied)).resolves.toBeUndefined();
  });
});
