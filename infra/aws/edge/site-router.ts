import { readFileSync } from 'node:fs';

/** CloudFront Functions' limit on a function's code, in bytes. */
export const CLOUDFRONT_FUNCTION_MAX_BYTES = 10_240;

/**
 * What the sites' viewer-request function is built for: the domain sites live under, the
 * KeyValueStore it reads (its id, the last part of its ARN) and the sites bucket's regional
 * domain (its assets origin).
 *
 * @example
 * const c: SiteRouterConfig = { siteDomain: 'apps.example.com', kvsId: '9f2c…', assetsDomain: 'shiplog-sites-1.s3.eu-west-1.amazonaws.com' };
 */
export interface SiteRouterConfig {
  siteDomain: string;
  kvsId: string;
  assetsDomain: string;
}

const source = () => readFileSync(new URL('./site-router.js', import.meta.url), 'utf8');
const safe = /^[A-Za-z0-9.-]+$/;

/**
 * The code of the sites' viewer-request CloudFront Function (`site-router.js`) with its
 * configuration filled in. Refuses values that are not plain host names or ids, and code past
 * CloudFront's 10 KB limit.
 *
 * @example
 * new aws.cloudfront.Function('SiteRouter', { runtime: 'cloudfront-js-2.0', code: siteRouterCode(config) });
 */
export const siteRouterCode = (config: SiteRouterConfig): string => {
  for (const [name, value] of Object.entries(config)) {
    if (!safe.test(value)) throw new Error(`site router ${name} must be a host name or id, got ${JSON.stringify(value)}`);
  }
  const code = source()
    .replace("'__SITE_DOMAIN__'", JSON.stringify(config.siteDomain.toLowerCase()))
    .replace("'__KVS_ID__'", JSON.stringify(config.kvsId))
    .replace("'__ASSETS_DOMAIN__'", JSON.stringify(config.assetsDomain));
  const bytes = Buffer.byteLength(code);
  if (bytes > CLOUDFRONT_FUNCTION_MAX_BYTES) throw new Error(`site router code is ${bytes} bytes, past CloudFront's ${CLOUDFRONT_FUNCTION_MAX_BYTES}`);
  return code;
};
