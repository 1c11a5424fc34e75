import { isDecodablePath } from '../../http/paths.ts';

/**
 * Why a site request is malformed (answered 400 by the router before any function runs), or
 * undefined: a path that does not percent-decode (`/%ZZ`), or a `/_next/image` request whose
 * `url` is missing, not decodable, protocol-relative or not http(s), or whose `w`/`q` are not
 * whole numbers (`q` 1-100), as Next's image optimizer itself requires.
 *
 * @example
 * malformedSiteRequest('/_next/image?url=%ZZ&w=64&q=75'); // '`url` is not valid percent-encoding'
 * malformedSiteRequest('/_next/image?url=%2Flogo.png&w=64&q=75'); // undefined
 */
export const malformedSiteRequest = (rawUrl: string): string | undefined => {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  if (!isDecodablePath(path)) return `the path "${path.slice(0, 200)}" is not valid percent-encoding`;
  if (path !== '/_next/image') return undefined;
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  const params = new Map<string, string>();
  for (const pair of query.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    let value: string;
    try {
      value = decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      return `\`${k}\` is not valid percent-encoding`;
    }
    params.set(k, value);
  }
  const url = params.get('url');
  if (!url) return '`url` is required';
  if (url.startsWith('//')) return '`url` cannot be protocol-relative';
  if (!url.startsWith('/')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return '`url` must be a path starting with / or an absolute http(s) URL';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return '`url` must be a path starting with / or an absolute http(s) URL';
  }
  const w = params.get('w');
  if (w !== undefined && !/^[1-9]\d{0,4}$/.test(w)) return '`w` must be a positive whole number';
  const quality = params.get('q');
  if (quality !== undefined && !(/^\d{1,3}$/.test(quality) && Number(quality) >= 1 && Number(quality) <= 100)) return '`q` must be a whole number from 1 to 100';
  return undefined;
};
