/**
 * IP addresses and CIDR blocks as event-ruler sees them: an address becomes a string of upper-case
 * hex digits (8 for IPv4, 32 for IPv6) and a block a range over such strings. Literal parsing
 * follows Java's `InetAddress` (which the engine calls), including its IPv4-mapped IPv6 rule.
 */

const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

/**
 * A range of hex-digit strings. A value matches when its first `bottom.length` characters fall
 * inside it; event-ruler's byte machine reports the match as soon as it has read that many.
 */
export interface IpRange {
  readonly bottom: string;
  readonly top: string;
  readonly openBottom: boolean;
  readonly openTop: boolean;
}

/**
 * A refused `cidr` operand, with event-ruler's text.
 *
 * @example
 * new CidrError("Malformed CIDR, one '/' required");
 */
export class CidrError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CidrError';
  }
}

/** Whether event-ruler would even try to read `s` as an IP address. */
export const looksLikeIp = (s: string): boolean => IPV4_SHAPE.test(s) || IPV6_SHAPE.test(s);

const parseIpv4 = (s: string): number[] | null => {
  const parts = s.split('.');
  const bytes: number[] = [];
  for (const part of parts) {
    // Leading zeros are ambiguous (octal?) and Java refuses them as literals.
    if (part.length > 1 && part.startsWith('0')) return null;
    const n = Number(part);
    if (part.length > 3 || n > 255) return null;
    bytes.push(n);
  }
  return bytes;
};

/** Java's `textToNumericFormatV6`, for the characters the IPv6 shape allows. */
const parseIpv6 = (s: string): number[] | null => {
  if (s.length < 2) return null;
  const dst = new Array<number>(16).fill(0);
  let i = 0;
  let j = 0;
  let colonp = -1;
  if (s[0] === ':' && s[++i] !== ':') return null;
  let sawDigit = false;
  let val = 0;
  while (i < s.length) {
    const ch = s[i++] as string;
    const digit = parseInt(ch, 16);
    if (!Number.isNaN(digit)) {
      val = (val << 4) | digit;
      if (val > 0xffff) return null;
      sawDigit = true;
      continue;
    }
    if (!sawDigit) {
      if (colonp !== -1) return null;
      colonp = j;
      continue;
    }
    if (i === s.length || j + 2 > 16) return null;
    dst[j++] = (val >> 8) & 0xff;
    dst[j++] = val & 0xff;
    sawDigit = false;
    val = 0;
  }
  if (sawDigit) {
    if (j + 2 > 16) return null;
    dst[j++] = (val >> 8) & 0xff;
    dst[j++] = val & 0xff;
  }
  if (colonp !== -1) {
    if (j === 16) return null;
    const n = j - colonp;
    for (let k = 1; k <= n; k++) {
      dst[16 - k] = dst[colonp + n - k] as number;
      dst[colonp + n - k] = 0;
    }
    j = 16;
  }
  if (j !== 16) return null;
  const mapped = dst.slice(0, 10).every((b) => b === 0) && dst[10] === 0xff && dst[11] === 0xff;
  return mapped ? dst.slice(12) : dst;
};

const toHex = (bytes: readonly number[]): string =>
  bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');

/** The address bytes of an IP literal, or `null` if `s` is none. */
const ipBytes = (s: string): number[] | null => {
  if (IPV4_SHAPE.test(s)) return parseIpv4(s);
  if (IPV6_SHAPE.test(s)) return parseIpv6(s);
  return null;
};

/**
 * The hex form of an IP literal, or `null` when `s` is not one.
 *
 * @example
 * ipHex('10.0.0.1'); // '0A000001'
 * ipHex('::ffff:a00:1'); // '0A000001' (IPv4-mapped)
 */
export const ipHex = (s: string): string | null => {
  const bytes = ipBytes(s);
  return bytes === null ? null : toHex(bytes);
};

const nextHexDigit = (d: string): string => (d === '9' ? 'A' : String.fromCharCode(d.charCodeAt(0) + 1));

/**
 * The range event-ruler puts in place of an exact-match string that is an IP literal, so that
 * `["10.0.0.1"]` compares addresses rather than spellings; `null` for any other string.
 *
 * @example
 * ipLiteralRange('10.0.0.1'); // { bottom: '0A000001', top: '0A000002', openBottom: false, openTop: true }
 */
export const ipLiteralRange = (s: string): IpRange | null => {
  const hex = ipHex(s);
  if (hex === null) return null;
  const head = hex.slice(0, -1);
  const last = hex.slice(-1);
  if (last === 'F') return { bottom: `${head}E`, top: hex, openBottom: true, openTop: false };
  return { bottom: hex, top: `${head}${nextHexDigit(last)}`, openBottom: false, openTop: true };
};

/** Java's `String.split("/")`: trailing empty strings dropped. */
const javaSplit = (s: string, sep: string): string[] => {
  if (s === '') return [''];
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
};

const javaParseInt = (s: string): number | null => {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
};

/**
 * The range a `cidr` operand stands for (`10.0.0.5/24` spans `10.0.0.0`–`10.0.0.255`). Like
 * event-ruler, `/32` (or `/128`) is refused: a single address is written as a plain string.
 *
 * @example
 * cidrRange('10.0.0.0/24'); // { bottom: '0A000000', top: '0A0000FF', openBottom: false, openTop: false }
 */
export const cidrRange = (cidr: string): IpRange => {
  const slashed = javaSplit(cidr, '/');
  if (slashed.length !== 2) throw new CidrError("Malformed CIDR, one '/' required");
  const [ip = '', maskText = ''] = slashed;
  const maskBits = javaParseInt(maskText);
  if (maskBits === null) throw new CidrError('Malformed CIDR, mask bits must be an integer');
  if (maskBits < 0) throw new CidrError('Malformed CIDR, mask bits must not be negative');
  if (!looksLikeIp(ip)) throw new CidrError(`Nonstandard IP address: ${ip}`);
  const bytes = ipBytes(ip);
  if (bytes === null) throw new CidrError(`Invalid IP address: ${ip}`);
  if (bytes.length === 4 && maskBits > 31) throw new CidrError('IPv4 mask bits must be < 32');
  if (bytes.length === 16 && maskBits > 127) throw new CidrError('IPv6 mask bits must be < 128');
  let hostBits = bytes.length * 8 - maskBits;
  const bottom = [...bytes];
  const top = [...bytes];
  for (let i = top.length - 1; i >= 0 && hostBits > 0; i--, hostBits -= 8) {
    const host = hostBits >= 8 ? 0xff : (1 << hostBits) - 1;
    bottom[i] = (bottom[i] as number) & ~host & 0xff;
    top[i] = (top[i] as number) | host;
  }
  return { bottom: toHex(bottom), top: toHex(top), openBottom: false, openTop: false };
};

const HEX_PREFIX = /^[0-9A-F]*$/;

/**
 * Whether a value (an address's hex form, or for non-addresses the raw text the engine saw)
 * falls in the range.
 *
 * @example
 * inIpRange(cidrRange('10.0.0.0/24'), '0A000021'); // true
 */
export const inIpRange = (range: IpRange, value: string): boolean => {
  const width = range.bottom.length;
  if (value.length < width) return false;
  const head = value.length === width ? value : value.slice(0, width);
  if (!HEX_PREFIX.test(head)) return false;
  const aboveBottom = range.openBottom ? head > range.bottom : head >= range.bottom;
  return aboveBottom && (range.openTop ? head < range.top : head <= range.top);
};
