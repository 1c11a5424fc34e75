import { BlockList, isIP } from 'node:net';

/**
 * Why an address is not a webhook target: the internal address classes a subscription must not
 * reach (server-side request forgery), named so a refusal says which.
 *
 * @example
 * const why: InternalAddressClass = 'link-local'; // 169.254.169.254, the cloud metadata address
 */
export type InternalAddressClass =
  | 'unspecified' | 'loopback' | 'private' | 'shared (CGNAT)' | 'link-local' | 'unique-local' | 'multicast' | 'reserved' | 'broadcast';

// [class, network, prefix]: IPv4-mapped IPv6 forms (::ffff:a.b.c.d) match the IPv4 rows too.
const ranges: [InternalAddressClass, string, number][] = [
  ['unspecified', '0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['loopback', '127.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  ['shared (CGNAT)', '100.64.0.0', 10],
  ['link-local', '169.254.0.0', 16],
  ['reserved', '192.0.0.0', 24], // IETF protocol assignments
  ['reserved', '192.0.2.0', 24], // documentation
  ['reserved', '198.18.0.0', 15], // benchmarking
  ['reserved', '198.51.100.0', 24],
  ['reserved', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['broadcast', '255.255.255.255', 32],
  ['reserved', '240.0.0.0', 4],
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['reserved', '::', 96], // IPv4-compatible (deprecated)
  ['reserved', '100::', 64], // discard-only
  ['reserved', '2001:db8::', 32], // documentation
  ['link-local', 'fe80::', 10],
  ['reserved', 'fec0::', 10], // site-local (deprecated)
  ['unique-local', 'fc00::', 7],
  ['multicast', 'ff00::', 8],
];

const lists = ranges.map(([cls, net, prefix]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, isIP(net) === 4 ? 'ipv4' : 'ipv6');
  return { cls, list, family: isIP(net) === 4 ? ('ipv4' as const) : ('ipv6' as const) };
});

// The 8 hextets of an IPv6 address (a trailing dotted quad included), or undefined.
const hextets = (ip: string): number[] | undefined => {
  let text = ip.replace(/%.*$/, '');
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const b = quad[1]!.split('.').map(Number);
    text = `${text.slice(0, -quad[1]!.length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const h = part(head);
  const t = part(tail);
  const words = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
};

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

// An IPv4 address carried inside an IPv6 one by NAT64 (64:ff9b::/96) or 6to4 (2002::/16).
const embeddedV4 = (ip: string): string | undefined => {
  const w = hextets(ip);
  if (!w) return undefined;
  if (w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0)) return v4(w[6]!, w[7]!);
  if (w[0] === 0x2002) return v4(w[1]!, w[2]!);
  return undefined;
};

/**
 * The internal class of an IP address, or `undefined` for a public one. IPv4-mapped
 * (`::ffff:127.0.0.1`), NAT64 and 6to4 forms are judged by the IPv4 address they carry; zone
 * ids (`fe80::1%eth0`) are ignored. Anything that is not an IP address is `'reserved'`.
 *
 * @example
 * addressClass('169.254.169.254'); // 'link-local'
 * addressClass('::ffff:10.0.0.1'); // 'private'
 * addressClass('93.184.216.34'); // undefined
 */
export const addressClass = (ip: string): InternalAddressClass | undefined => {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'reserved';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const hit = lists.find((l) => (l.family === type || (type === 'ipv6' && l.family === 'ipv4')) && l.list.check(bare, type));
  if (hit) return hit.cls;
  const inner = family === 6 ? embeddedV4(bare) : undefined;
  return inner ? addressClass(inner) : undefined;
};

/**
 * Targets an operator allows despite being internal (`SHIPLOG_WEBHOOK_ALLOW`): host names
 * (matched against the URL's host, case-insensitive) and IP addresses or CIDR blocks (matched
 * against the literal or every resolved address).
 *
 * @example
 * const allow = parseAllowList('127.0.0.1, hooks.internal, 10.1.0.0/16');
 */
export interface AllowList {
  hosts: ReadonlySet<string>;
  matchesAddress(ip: string): boolean;
  /** The entries as given, for messages. */
  entries: readonly string[];
}

/** An allow-list entry that is neither a host name nor an IP address or CIDR block. */
export class InvalidAllowListError extends Error {
  override readonly name = 'InvalidAllowListError';
}

/**
 * Parses a comma-separated allow-list (`SHIPLOG_WEBHOOK_ALLOW`); empty or undefined allows
 * nothing internal.
 *
 * @example
 * parseAllowList('127.0.0.1/32,localhost').hosts.has('localhost'); // true
 */
export const parseAllowList = (text: string | undefined): AllowList => {
  const entries = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const hosts = new Set<string>();
  const blocks = new BlockList();
  for (const entry of entries) {
    const [net, bits, ...rest] = entry.replace(/^\[|\](?=\/|$)/g, '').split('/');
    const family = isIP(net!);
    if (family !== 0) {
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) {
        throw new InvalidAllowListError(`SHIPLOG_WEBHOOK_ALLOW: "${entry}" is not a valid CIDR block`);
      }
      blocks.addSubnet(net!, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (/^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i.test(entry) && bits === undefined) {
      hosts.add(entry.toLowerCase().replace(/\.$/, ''));
    } else {
      throw new InvalidAllowListError(`SHIPLOG_WEBHOOK_ALLOW: "${entry}" is neither a host name nor an IP address or CIDR block`);
    }
  }
  return {
    hosts,
    entries,
    matchesAddress: (ip) => {
      const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
      const family = isIP(bare);
      return family !== 0 && blocks.check(bare, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
};

/** No internal target allowed: the default. */
export const allowNothing: AllowList = parseAllowList('');

/**
 * What the policy says of a target: allowed, or refused with the reason to record or answer.
 *
 * @example
 * const v: TargetVerdict = { ok: false, reason: 'http://127.0.0.1:9/ is a loopback address' };
 */
export type TargetVerdict = { ok: true } | { ok: false; reason: string };

/** What the checks read of a parsed URL (structural, so any runtime's `URL` fits). */
export type TargetUrl = Pick<URL, 'protocol' | 'hostname'>;

const hostOf = (url: TargetUrl) => url.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');

const allowHint = 'name it in SHIPLOG_WEBHOOK_ALLOW to allow it';

/**
 * Checks a webhook URL as written, before any DNS: an IP literal (in any form the URL parser
 * normalizes, `0x7f.1` and `2130706433` included) must be public. Host names pass here (DNS
 * may answer differently later anyway) and are checked, resolved, at every delivery
 * ({@link checkResolved}). The allow-list lets named hosts and addresses through.
 *
 * @example
 * checkTargetUrl(new URL('http://169.254.169.254/latest'), allowNothing);
 * // { ok: false, reason: 'the target 169.254.169.254 is a link-local address; …' }
 */
export const checkTargetUrl = (url: TargetUrl, allow: AllowList): TargetVerdict => {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `the target must be http or https, not ${url.protocol}` };
  const host = hostOf(url);
  if (allow.hosts.has(host)) return { ok: true };
  if (isIP(host) !== 0) {
    const cls = addressClass(host);
    if (cls && !allow.matchesAddress(host)) return { ok: false, reason: `the target ${host} is a ${cls} address; ${allowHint}` };
    return { ok: true };
  }
  return { ok: true };
};

/**
 * Checks every address a target's host resolved to: all must be public (or allowed), since a
 * client may connect to any of them. Answers the refusal naming the first internal one.
 *
 * @example
 * checkResolved(new URL('http://localhost:8080/'), ['127.0.0.1', '::1'], allowNothing);
 * // { ok: false, reason: 'localhost resolves to 127.0.0.1, a loopback address; …' }
 */
export const checkResolved = (url: TargetUrl, addresses: readonly string[], allow: AllowList): TargetVerdict => {
  const host = hostOf(url);
  if (addresses.length === 0) return { ok: false, reason: `${host} resolves to no address` };
  if (allow.hosts.has(host)) return { ok: true };
  for (const ip of addresses) {
    const cls = addressClass(ip);
    if (cls && !allow.matchesAddress(ip)) return { ok: false, reason: `${host} resolves to ${ip}, a ${cls} address; ${allowHint}` };
  }
  return { ok: true };
};
