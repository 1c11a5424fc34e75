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

/**
 * The function's code as CloudFront runs it (JavaScript runtime 2.0, which imports the
 * 'cloudfront' module). Kept as text here, not as a file read at deploy time, so that SST's bundle
 * of 'sst.config.ts' carries it.
 */
const SITE_ROUTER_SOURCE = String.raw`import cf from 'cloudfront';
// shiplog's viewer-request CloudFront Function (runtime cloudfront-js-2.0) on the sites
// distribution: maps a request's host to one deployment through the KeyValueStore the deploy
// service writes, then sends the request to that deployment's origin. Its keys (routing.ts):
//   a:<project>:<alias>   the deployment id an alias serves (production, preview-<branch>)
//   d:<deployment, lower> {"id","p" project,"s" server URL host,"i" image URL host,"b" basePath,"f" public top-level names,"F" 1 when f is cut short}
//   h:<host>              a custom domain: {"p" project,"a" alias when not production} or {"r" host to redirect to}
//   m:<project>           path mounts: [["/prefix","project"], ...]
// A rollback or promote is one write of an 'a:' key: no function, alias or distribution change.
// 'declareSiteEdge' fills CONFIG in; the unit tests run this very text.
var CONFIG = { siteDomain: '__SITE_DOMAIN__', kvsId: '__KVS_ID__', assets: '__ASSETS_DOMAIN__' };
var store = cf.kvs(CONFIG.kvsId);
var PROJECT = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
var DEPLOYMENT = /^([0-9a-hjkmnp-tv-z]{26})-(.+)$/;
var BRANCH = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function text(status, description, body, extra) {
  var headers = { 'content-type': { value: 'text/plain; charset=utf-8' }, 'cache-control': { value: 'no-store' } };
  if (extra) for (var k in extra) headers[k] = { value: extra[k] };
  return { statusCode: status, statusDescription: description, headers: headers, body: { encoding: 'text', data: body + '\n' } };
}

async function read(key, json) {
  try {
    var value = await store.get(key);
    return json ? JSON.parse(value) : value;
  } catch (e) {
    // A missing key throws; so does a value that is not JSON (never written by shiplog).
    return undefined;
  }
}

async function aliasTarget(project, alias) {
  return read('a:' + project + ':' + alias, false);
}

function address(host) {
  var suffix = '.' + CONFIG.siteDomain;
  if (host.length <= suffix.length || host.slice(-suffix.length) !== suffix) return { custom: host };
  var label = host.slice(0, -suffix.length);
  if (label.indexOf('.') >= 0) return undefined;
  var m = DEPLOYMENT.exec(label);
  if (m && PROJECT.test(m[2])) return { project: m[2], deployment: m[1] };
  if (!PROJECT.test(label)) return undefined;
  var at = label.indexOf('--');
  if (at > 0) {
    var branch = label.slice(0, at);
    var project = label.slice(at + 2);
    if (BRANCH.test(branch) && PROJECT.test(project)) return { project: project, alias: 'preview-' + branch, orProject: label };
  }
  return { project: label, alias: 'production' };
}

// The longest mount whose prefix covers the path segment-wise ('/docs' covers '/docs' and '/docs/a', not '/docsx').
function mountFor(mounts, uri) {
  var best;
  for (var i = 0; i < mounts.length; i++) {
    var prefix = mounts[i][0];
    var covers = uri === prefix || uri.slice(0, prefix.length + 1) === prefix + '/';
    if (covers && (!best || prefix.length > best[0].length)) best = mounts[i];
  }
  return best;
}

function isAsset(site, uri) {
  var base = site.b || '';
  if (base && uri.slice(0, base.length + 1) !== base + '/') return false;
  var rest = uri.slice(base.length + 1);
  if (rest.slice(0, 13) === '_next/static/') return true;
  var first = rest.split('/')[0];
  // The URI comes percent-encoded (/my%20file.txt); the public names are the files' own.
  try {
    first = decodeURIComponent(first);
  } catch (e) {
    // not valid percent-encoding: compared as it came
  }
  return !!first && (site.f || []).indexOf(first) >= 0;
}

async function handler(event) {
  var request = event.request;
  var hostHeader = request.headers.host;
  var host = hostHeader ? hostHeader.value.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '') : '';
  var where = address(host);
  if (!where) return text(404, 'Not Found', 'No site at "' + host + '".');
  if (where.custom) {
    var domain = await read('h:' + host, true);
    if (!domain) return text(404, 'Not Found', 'No site at "' + host + '".');
    if (domain.r) {
      var query = [];
      for (var name in request.querystring) {
        var q = request.querystring[name];
        var values = q.multiValue ? q.multiValue : [q];
        for (var j = 0; j < values.length; j++) query.push(name + (values[j].value === '' ? '' : '=' + values[j].value));
      }
      var location = 'https://' + domain.r + request.uri + (query.length ? '?' + query.join('&') : '');
      return text(308, 'Permanent Redirect', 'Moved to ' + location + '.', { location: location });
    }
    where = { project: domain.p, alias: domain.a || 'production' };
  }
  var project = where.project;
  var id = where.deployment;
  var mounts = await read('m:' + project, true);
  var mount = mounts ? mountFor(mounts, request.uri) : undefined;
  if (mount) {
    project = mount[1];
    id = await aliasTarget(project, 'production');
    if (!id) return text(404, 'Not Found', 'Project "' + project + '" has no production deployment.');
  } else if (!id) {
    id = await aliasTarget(project, where.alias);
    if (!id && where.orProject) {
      id = await aliasTarget(where.orProject, 'production');
      if (id) project = where.orProject;
    }
    if (!id) return text(404, 'Not Found', where.alias === 'production' ? 'Project "' + project + '" has no production deployment.' : 'Project "' + project + '" has no alias "' + where.alias + '".');
  }
  var site = await read('d:' + id.toLowerCase(), true);
  // A deployment URL names its project: another project's deployment id is not served under it.
  if (!site || site.p !== project) return text(404, 'Not Found', 'Project "' + project + '" has no deployment "' + id + '".');
  request.headers['x-shiplog-deployment'] = { value: site.id };
  request.headers['x-forwarded-host'] = { value: host };
  if (isAsset(site, request.uri)) {
    cf.updateRequestOrigin({
      domainName: CONFIG.assets,
      originPath: '/sites/' + site.p + '/' + site.id,
      originAccessControlConfig: { enabled: true, signingBehavior: 'always', signingProtocol: 'sigv4', originType: 's3' },
    });
    return request;
  }
  var base = site.b || '';
  var image = site.i && request.uri === base + '/_next/image';
  cf.updateRequestOrigin({
    domainName: image ? site.i : site.s,
    originAccessControlConfig: { enabled: true, signingBehavior: 'always', signingProtocol: 'sigv4', originType: 'lambda' },
  });
  return request;
}
`;
const source = () => SITE_ROUTER_SOURCE;
const safe = /^[A-Za-z0-9.-]+$/;

/**
 * The code of the sites' viewer-request CloudFront Function with its
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
