/**
 * The code of the sites' viewer-response CloudFront Function (runtime `cloudfront-js-2.0`): it
 * adds the app's `next.config` `headers()` to the files served from S3. The deploy service writes
 * the rules that match each file into its S3 metadata (`x-amz-meta-shiplog-headers`,
 * services/deploy/adapters/site-host/asset-headers.ts); this function checks each rule's `has` and
 * `missing` conditions against the viewer's request, as Next's `matchHas` does (present, and when a
 * value is given, matching it whole as a regular expression), sets its headers over the object's
 * own (a later rule over an earlier one, as `next start` does), and drops the metadata header.
 * A response without it (a server function's, a file no rule matches) passes unchanged.
 * CloudFront runs no viewer-response function for a status of 400 or more.
 */
export const ASSET_HEADERS_SOURCE = String.raw`// shiplog's viewer-response CloudFront Function on the sites distribution: applies the
// next.config headers() rules a file's S3 metadata carries (x-amz-meta-shiplog-headers),
// [{"h": has conditions, "m": missing conditions, "s": [[name, value], ...]}, ...].
var META = 'x-amz-meta-shiplog-headers';

function actual(c, request) {
  var key = c.key || '';
  var item;
  if (c.type === 'header') item = request.headers[key.toLowerCase()];
  else if (c.type === 'cookie') item = request.cookies[key];
  else if (c.type === 'query') item = request.querystring[key];
  else if (c.type === 'host') item = request.headers.host;
  if (!item) return undefined;
  return c.type === 'host' ? item.value.replace(/:\d+$/, '') : item.value;
}

function holds(c, request) {
  var value = actual(c, request);
  if (value === undefined) return false;
  if (c.value === undefined) return true;
  try {
    return new RegExp('^(?:' + c.value + ')$').test(value);
  } catch (e) {
    return false;
  }
}

function applies(rule, request) {
  var i;
  for (i = 0; rule.h && i < rule.h.length; i++) if (!holds(rule.h[i], request)) return false;
  for (i = 0; rule.m && i < rule.m.length; i++) if (holds(rule.m[i], request)) return false;
  return true;
}

function handler(event) {
  var response = event.response;
  var meta = response.headers[META];
  if (!meta) return response;
  delete response.headers[META];
  var rules;
  try {
    rules = JSON.parse(meta.value);
  } catch (e) {
    return response;
  }
  for (var r = 0; r < rules.length; r++) {
    if (!applies(rules[r], event.request)) continue;
    var set = rules[r].s;
    for (var s = 0; s < set.length; s++) response.headers[set[s][0]] = { value: set[s][1] };
  }
  return response;
}
`;
