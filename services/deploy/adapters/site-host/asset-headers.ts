/**
 * The app's `next.config` `headers()` for the files a deployment serves from S3 (public files and
 * `/_next/static`), which on AWS no server function answers. `next start` and the local router add
 * them to those files; on AWS each object carries the rules that match its path in its S3 metadata
 * (`x-amz-meta-shiplog-headers`), and the sites' viewer-response CloudFront Function
 * (`infra/aws/edge/asset-headers.ts`) applies them: it checks a rule's `has`/`missing` conditions
 * against the viewer's request, sets its headers (a later rule overriding an earlier one) and
 * drops the metadata header.
 */

/** The S3 user-metadata key (served as `x-amz-meta-shiplog-headers`). */
export const ASSET_HEADERS_META = 'shiplog-headers';

/** S3 takes at most 2 KB of user metadata per object (keys and values, UTF-8). */
export const ASSET_HEADERS_MAX_BYTES = 2048 - ASSET_HEADERS_META.length;

/** One `has`/`missing` condition as `routes-manifest.json` holds it. */
export interface AssetHeaderCondition {
  type: 'header' | 'cookie' | 'query' | 'host';
  key?: string;
  value?: string;
}

/**
 * A `headers()` rule compiled for asset paths: its source's regex (the manifest's, which carries
 * the basePath), its conditions, and its headers without those CloudFront does not let a
 * function set.
 */
export interface AssetHeaderRule {
  re: RegExp;
  has?: AssetHeaderCondition[];
  missing?: AssetHeaderCondition[];
  headers: [string, string][];
}

/** One rule as the metadata carries it: conditions (`h` has, `m` missing) and headers (`s`). */
export interface AssetHeaderEntry {
  h?: AssetHeaderCondition[];
  m?: AssetHeaderCondition[];
  s: [string, string][];
}

// Headers a CloudFront Function may not add (502 for the viewer) or may not change on a viewer
// response (CloudFront's "Restrictions on all edge functions"): left out, never sent.
const FORBIDDEN = new Set([
  'connection', 'expect', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'trailer', 'upgrade',
  'x-cache', 'x-forwarded-proto', 'x-real-ip', 'content-encoding', 'content-length', 'transfer-encoding', 'via', 'warning', 'host',
]);
const FORBIDDEN_PREFIXES = ['x-accel-', 'x-amz-', 'x-amzn-', 'x-edge-'];

/** Whether a viewer-response CloudFront Function may set this header. */
export const settableAtEdge = (name: string): boolean => {
  const n = name.toLowerCase();
  return !FORBIDDEN.has(n) && !FORBIDDEN_PREFIXES.some((p) => n.startsWith(p)) && /^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(n);
};

/**
 * The `headers()` rules of a build's `routes-manifest.json`, compiled for matching asset paths.
 *
 * @example
 * assetHeaderRules('{"headers":[{"source":"/robots.txt","regex":"^/robots\\\\.txt(?:/)?$","headers":[{"key":"x-a","value":"1"}]}]}');
 */
export const assetHeaderRules = (manifestText: string): AssetHeaderRule[] => {
  const m = JSON.parse(manifestText) as {
    caseSensitive?: boolean;
    headers?: { regex: string; has?: AssetHeaderCondition[]; missing?: AssetHeaderCondition[]; headers: { key: string; value: string }[] }[];
  };
  return (m.headers ?? []).map((r) => ({
    re: new RegExp(r.regex, m.caseSensitive ? '' : 'i'),
    ...(r.has?.length ? { has: r.has } : {}),
    ...(r.missing?.length ? { missing: r.missing } : {}),
    headers: r.headers.filter((h) => settableAtEdge(h.key)).map((h) => [h.key.toLowerCase(), h.value] as [string, string]),
  }));
};

// Metadata travels as an HTTP header: anything outside printable ASCII is written as a JSON escape.
const asciiJson = (value: unknown) => JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The metadata value for an asset served at `requestPath` (with the basePath, as viewers ask for
 * it): the rules whose source matches it, in order, or `undefined` when none does. `'too-large'`
 * when they do not fit S3's 2 KB of metadata (the object then carries none).
 *
 * @example
 * assetHeadersMeta(rules, '/robots.txt'); // '[{"s":[["x-a","1"]]}]'
 */
export const assetHeadersMeta = (rules: AssetHeaderRule[], requestPath: string): string | 'too-large' | undefined => {
  const entries: AssetHeaderEntry[] = [];
  for (const r of rules) {
    if (r.headers.length === 0 || !r.re.test(requestPath)) continue;
    entries.push({ ...(r.has ? { h: r.has } : {}), ...(r.missing ? { m: r.missing } : {}), s: r.headers });
  }
  if (entries.length === 0) return undefined;
  const value = asciiJson(entries);
  return value.length > ASSET_HEADERS_MAX_BYTES ? 'too-large' : value;
};
