import { describe, expect, it } from 'vitest';
import { loadViewerRequestFunction, viewerRequest, type KeyValueReader } from './runner.ts';
import { publicNamesOf, routingEntries, ROUTING_VALUE_MAX, type RoutingEntry } from '../../../services/deploy/adapters/site-host/aws-routing.ts';
import { CLOUDFRONT_FUNCTION_MAX_BYTES, siteRouterCode } from './site-router.ts';

const config = { siteDomain: 'apps.example.com', kvsId: 'kvs-1', assetsDomain: 'shiplog-sites.s3.eu-west-1.amazonaws.com' };
const D1 = '01JD2Z8J6X3Q4R5S6T7V8W9XYZ';
const D2 = '01JD300000000000000000000A';
const DOCS = '01JD311111111111111111111B';

const kvs = (entries: RoutingEntry[]) => {
  const map = new Map(entries.map((e) => [e.key, e.value]));
  const reader: KeyValueReader = { get: async (key) => (map.has(key) ? map.get(key)! : Promise.reject(new Error(`key ${key} not found`))) };
  return { map, reader, put: (e: RoutingEntry) => map.set(e.key, e.value) };
};

const world = () => {
  const store = kvs([
    routingEntries.deployment({ deploymentId: D1, projectId: 'web', serverHost: 'd1.lambda-url.eu-west-1.on.aws', imageHost: 'img1.lambda-url.eu-west-1.on.aws', publicNames: ['favicon.ico', 'images', 'my file.txt', 'café.txt'] }),
    routingEntries.deployment({ deploymentId: D2, projectId: 'web', serverHost: 'd2.lambda-url.eu-west-1.on.aws', publicNames: [] }),
    routingEntries.deployment({ deploymentId: DOCS, projectId: 'docs', serverHost: 'docs.lambda-url.eu-west-1.on.aws', basePath: '/docs', publicNames: ['logo.svg'] }),
    routingEntries.alias('web', 'production', D1),
    routingEntries.alias('web', 'preview-login', D2),
    routingEntries.alias('docs', 'production', DOCS),
    routingEntries.domain('www.example.org', { projectId: 'web' }),
    routingEntries.domain('example.org', { redirectTo: 'www.example.org' }),
  ]);
  const seen: string[] = [];
  const fn = loadViewerRequestFunction(siteRouterCode(config), (id) => {
    seen.push(id);
    return store.reader;
  });
  const run = (host: string, uri = '/', query?: string) => fn.run(viewerRequest({ host, uri, query }));
  return { store, fn, run, seen };
};

const originOf = async (p: ReturnType<ReturnType<typeof world>['run']>) => {
  const out = await p;
  if (out.kind !== 'request') throw new Error(`answered ${out.response.statusCode}`);
  return { domain: out.origin?.domainName, path: out.origin?.originPath, type: out.origin?.originAccessControlConfig?.originType, deployment: out.request.headers['x-shiplog-deployment']?.value, forwardedHost: out.request.headers['x-forwarded-host']?.value };
};
const statusOf = async (p: ReturnType<ReturnType<typeof world>['run']>) => {
  const out = await p;
  return out.kind === 'response' ? out.response.statusCode : 'passed';
};

describe('the sites viewer-request function', () => {
  it('sends a project host to its production deployment, through its Function URL with origin access control', async () => {
    const w = world();
    expect(await originOf(w.run('web.apps.example.com', '/dashboard'))).toEqual({
      domain: 'd1.lambda-url.eu-west-1.on.aws', path: undefined, type: 'lambda', deployment: D1, forwardedHost: 'web.apps.example.com',
    });
    expect(w.seen.every((id) => id === 'kvs-1')).toBe(true);
  });

  it('serves _next/static and public files from the deployment\'s S3 prefix, anything else from the server', async () => {
    const w = world();
    expect(await originOf(w.run('web.apps.example.com', '/_next/static/chunks/a.js'))).toMatchObject({ domain: config.assetsDomain, path: `/sites/web/${D1}`, type: 's3' });
    expect(await originOf(w.run('web.apps.example.com', '/images/a.png'))).toMatchObject({ domain: config.assetsDomain, type: 's3' });
    expect(await originOf(w.run('web.apps.example.com', '/favicon.ico'))).toMatchObject({ type: 's3' });
    expect(await originOf(w.run('web.apps.example.com', '/imagesx'))).toMatchObject({ domain: 'd1.lambda-url.eu-west-1.on.aws', type: 'lambda' });
    // Public files whose names need percent-encoding in a URL (next start serves them by the decoded name).
    expect(await originOf(w.run('web.apps.example.com', '/my%20file.txt'))).toMatchObject({ type: 's3' });
    expect(await originOf(w.run('web.apps.example.com', '/caf%C3%A9.txt'))).toMatchObject({ type: 's3' });
    expect(await originOf(w.run('web.apps.example.com', '/caf%E9.txt'))).toMatchObject({ type: 'lambda' });
    expect(await originOf(w.run('web.apps.example.com', '/_next/image', 'url=%2Fa.png&w=64'))).toMatchObject({ domain: 'img1.lambda-url.eu-west-1.on.aws', type: 'lambda' });
    // A deployment without an image function sends images to its server.
    expect(await originOf(w.run('login--web.apps.example.com', '/_next/image'))).toMatchObject({ domain: 'd2.lambda-url.eu-west-1.on.aws' });
  });

  it('rolls back and promotes with one key: the next request follows it', async () => {
    const w = world();
    expect((await originOf(w.run('web.apps.example.com'))).deployment).toBe(D1);
    w.store.put(routingEntries.alias('web', 'production', D2));
    expect(await originOf(w.run('web.apps.example.com'))).toMatchObject({ deployment: D2, domain: 'd2.lambda-url.eu-west-1.on.aws' });
  });

  it('keeps a deployment URL on its deployment, whatever production serves, and only under its own project', async () => {
    const w = world();
    w.store.put(routingEntries.alias('web', 'production', D2));
    expect(await originOf(w.run(`${D1.toLowerCase()}-web.apps.example.com`))).toMatchObject({ deployment: D1 });
    expect(await originOf(w.run(`${D1}-web.APPS.example.com:443`))).toMatchObject({ deployment: D1 });
    expect(await statusOf(w.run(`${DOCS.toLowerCase()}-web.apps.example.com`))).toBe(404);
    expect(await statusOf(w.run('01jd2z8j6x3q4r5s6t7v8w9xyy-web.apps.example.com'))).toBe(404);
  });

  it('serves a branch URL from its preview alias, and a label that is itself a project from that project', async () => {
    const w = world();
    expect(await originOf(w.run('login--web.apps.example.com'))).toMatchObject({ deployment: D2 });
    expect(await statusOf(w.run('signup--web.apps.example.com'))).toBe(404);
    w.store.put(routingEntries.alias('signup--web', 'production', D1));
    w.store.put(routingEntries.deployment({ deploymentId: D1, projectId: 'signup--web', serverHost: 's.lambda-url.eu-west-1.on.aws', publicNames: [] }));
    expect(await originOf(w.run('signup--web.apps.example.com'))).toMatchObject({ domain: 's.lambda-url.eu-west-1.on.aws' });
  });

  it('serves a custom domain as its project, and redirects one with redirectTo, keeping path and query', async () => {
    const w = world();
    expect(await originOf(w.run('www.example.org', '/a'))).toMatchObject({ deployment: D1, forwardedHost: 'www.example.org' });
    const out = await w.run('example.org', '/a/b', 'x=1&x=2&y=');
    expect(out).toMatchObject({ kind: 'response', response: { statusCode: 308, headers: { location: { value: 'https://www.example.org/a/b?x=1&x=2&y' } } } });
    expect(await statusOf(w.run('unknown.example.net'))).toBe(404);
    // A domain on a preview alias follows that alias.
    w.store.put(routingEntries.domain('beta.example.org', { projectId: 'web', alias: 'preview-login' }));
    expect(await originOf(w.run('beta.example.org', '/'))).toMatchObject({ deployment: D2 });
  });

  it('serves a mounted path from the mounted project\'s production, static files under its basePath included', async () => {
    const w = world();
    w.store.put(routingEntries.mounts('web', [{ prefix: '/docs', projectId: 'docs' }]));
    expect(await originOf(w.run('web.apps.example.com', '/docs'))).toMatchObject({ deployment: DOCS, domain: 'docs.lambda-url.eu-west-1.on.aws' });
    expect(await originOf(w.run('www.example.org', '/docs/intro'))).toMatchObject({ deployment: DOCS });
    expect(await originOf(w.run('web.apps.example.com', '/docs/_next/static/x.js'))).toMatchObject({ type: 's3', path: `/sites/docs/${DOCS}` });
    expect(await originOf(w.run('web.apps.example.com', '/docs/logo.svg'))).toMatchObject({ type: 's3' });
    expect(await originOf(w.run('web.apps.example.com', '/docsx'))).toMatchObject({ deployment: D1 });
    // A rollback of the mounted project moves the mount with no step on the host project.
    w.store.put(routingEntries.alias('docs', 'production', D2));
    expect(await statusOf(w.run('web.apps.example.com', '/docs'))).toBe(404);
  });

  it('answers 404 for hosts and aliases it cannot place, with a plain-text reason that is not cached', async () => {
    const w = world();
    for (const host of ['nope.apps.example.com', 'a.b.apps.example.com', 'apps.example.com', '-bad.apps.example.com', '']) {
      const out = await w.run(host);
      expect(out.kind).toBe('response');
      if (out.kind === 'response') expect(out.response).toMatchObject({ statusCode: 404, headers: { 'cache-control': { value: 'no-store' } } });
    }
  });

  it('sets the deployment header itself: a viewer cannot choose another deployment', async () => {
    const w = world();
    const out = await w.fn.run(viewerRequest({ host: 'web.apps.example.com', uri: '/', headers: { 'x-shiplog-deployment': D2 } }));
    expect(out.kind === 'request' && out.request.headers['x-shiplog-deployment']?.value).toBe(D1);
  });

  it('fits CloudFront\'s code limit and refuses a configuration that is not a host name', () => {
    expect(Buffer.byteLength(siteRouterCode(config))).toBeLessThan(CLOUDFRONT_FUNCTION_MAX_BYTES);
    expect(siteRouterCode(config)).toContain('"apps.example.com"');
    expect(() => siteRouterCode({ ...config, siteDomain: "x'; evil()" })).toThrow(/host name or id/);
  });
});

describe('routing entries', () => {
  it('cut public names that do not fit a value and say so', () => {
    const names = Array.from({ length: 200 }, (_, i) => `file-${i}.txt`);
    const e = routingEntries.deployment({ deploymentId: D1, projectId: 'web', serverHost: 'd1.lambda-url.eu-west-1.on.aws', publicNames: names });
    expect(e.value.length).toBeLessThanOrEqual(ROUTING_VALUE_MAX);
    const parsed = JSON.parse(e.value) as { f: string[]; F?: number };
    expect(parsed.F).toBe(1);
    expect(parsed.f.length).toBeGreaterThan(0);
    expect(parsed.f.length).toBeLessThan(200);
    expect(() => routingEntries.alias('x'.repeat(600), 'production', D1)).toThrow(RangeError);
  });

  it('name a deployment\'s public files by their first segment under its basePath', () => {
    expect(publicNamesOf(['_next/static/a.js', 'favicon.ico', 'images/a.png', 'images/b.png'])).toEqual(['favicon.ico', 'images']);
    expect(publicNamesOf(['docs/_next/static/a.js', 'docs/logo.svg', 'other.txt'], '/docs')).toEqual(['logo.svg']);
  });
});
