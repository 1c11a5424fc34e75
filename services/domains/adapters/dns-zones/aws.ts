import {
  ChangeResourceRecordSetsCommand, ListHostedZonesCommand, type Change, type HostedZone, type ResourceRecordSet, type Route53Client,
} from '@aws-sdk/client-route-53';
import type { DnsRecord } from '../../../../events/index.ts';
import { awsErrorName } from '../../../shell/index.ts';
import type { DnsZones } from '../../ports.ts';

/** The hosted zone id of every CloudFront distribution, for alias records (AWS's published constant). */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';
/** TTL of the CNAME records shiplog creates. */
const TTL = 300;

const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;
const zoneIdOf = (zone: HostedZone) => zone.Id!.replace(/^\/hostedzone\//, '');

/** The record sets of one record: a CNAME, or an alias A and AAAA to CloudFront for an ALIAS. */
const recordSets = (r: DnsRecord): ResourceRecordSet[] =>
  r.type === 'ALIAS'
    ? (['A', 'AAAA'] as const).map((Type) => ({
        Name: fqdn(r.name), Type, AliasTarget: { HostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID, DNSName: fqdn(r.value), EvaluateTargetHealth: false },
      }))
    : [{ Name: fqdn(r.name), Type: r.type, TTL, ResourceRecords: [{ Value: r.type === 'TXT' ? JSON.stringify(r.value) : r.value }] }];

/**
 * DNS records in the account's Route 53 public hosted zones: a record goes to the zone whose name
 * is the longest suffix of the record's name (`www.example.com` → `example.com`, or
 * `shop.example.com` when that is a zone of its own); a record no zone holds is left for the user.
 * An ALIAS (a zone apex) is an alias A and AAAA record to CloudFront. Writes are UPSERTs, so a
 * retry changes nothing; a removal of a record already gone is no error.
 *
 * @example
 * const dns = route53Zones({ route53: new Route53Client({}) });
 * const records = await dns.apply(wanted); // those created carry `zone`
 */
export const route53Zones = (opts: { route53: Route53Client }): DnsZones => {
  const publicZones = async (): Promise<HostedZone[]> => {
    const zones: HostedZone[] = [];
    let Marker: string | undefined;
    do {
      const page = await opts.route53.send(new ListHostedZonesCommand({ Marker }));
      zones.push(...(page.HostedZones ?? []).filter((z) => !z.Config?.PrivateZone));
      Marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (Marker);
    return zones;
  };
  const zoneFor = (zones: HostedZone[], name: string): HostedZone | undefined => {
    const n = fqdn(name);
    return zones
      .filter((z) => n === fqdn(z.Name!) || n.endsWith(`.${fqdn(z.Name!)}`))
      .sort((a, b) => b.Name!.length - a.Name!.length)[0];
  };
  const change = async (zone: string, Action: Change['Action'], records: DnsRecord[]) => {
    const Changes = records.flatMap((r) => recordSets(r).map((ResourceRecordSet) => ({ Action, ResourceRecordSet })));
    await opts.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Comment: 'shiplog custom domain', Changes } }));
  };
  return {
    async apply(records) {
      const zones = await publicZones();
      const out: DnsRecord[] = [];
      for (const r of records) {
        const zone = zoneFor(zones, r.name);
        if (!zone) {
          out.push(r);
          continue;
        }
        await change(zoneIdOf(zone), 'UPSERT', [r]);
        out.push({ ...r, zone: zoneIdOf(zone) });
      }
      return out;
    },
    async remove(records) {
      for (const r of records.filter((x) => x.zone)) {
        try {
          await change(r.zone!, 'DELETE', [r]);
        } catch (err) {
          // Deleted already (by a retry, or by hand), or its zone is gone.
          if (!['InvalidChangeBatch', 'NoSuchHostedZone'].includes(awsErrorName(err))) throw err;
        }
      }
    },
  };
};
