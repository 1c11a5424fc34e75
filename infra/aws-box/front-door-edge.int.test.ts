import { GetKeyCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { GetFunctionUrlConfigCommand, GetPolicyCommand } from '@aws-sdk/client-lambda';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentAlias, siteFunctionName } from '../../services/deploy/adapters/site-host/aws.ts';
import { routingEntries } from '../../services/deploy/adapters/site-host/aws-routing.ts';
import { cloudFrontDomainEdge } from '../../services/domains/adapters/domain-edge/aws.ts';
import { EDGE, edgeArtifact, startSitesEdge, type SitesEdge } from '../../test/support/sites-edge.ts';

// The front door as the stack declares it: the sites' CloudFront Function (its real code) on the
// box's KeyValueStore, Function URLs per deployment alias, written by the AWS site host through
// the box's endpoint with the real SDK clients (test/support/sites-edge.ts).

const ulid = monotonicFactory();
let edge: SitesEdge;
beforeAll(async () => {
  edge = await startSitesEdge();
}, 120_000);
afterAll(async () => edge?.stop());

describe('the front door on the sites distribution\'s routing state', () => {
  it('serves production, a deployment\'s own URL and a branch URL from the key value store, and rolls back with one key', async () => {
    const d1 = await edge.deploy('web', 'one');
    // Published but on no alias: only its own URL serves it.
    expect((await edge.get('web.sites.localhost')).status).toBe(404);
    expect((await edge.get(`${d1.toLowerCase()}-web.sites.localhost`, '/x')).body).toBe(`one /x ${d1.toLowerCase()}-web.sites.localhost ${d1}`);
    await edge.host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    const first = await edge.get('web.sites.localhost', '/a');
    expect(first).toMatchObject({ status: 200, body: `one /a web.sites.localhost ${d1}` });
    expect(first.headers['x-shiplog-deployment']).toBe(d1);

    const d2 = await edge.deploy('web', 'two');
    await edge.host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d2 });
    await edge.host.shiftAlias({ projectId: 'web', alias: 'preview-login', deploymentId: d2 });
    expect((await edge.get('web.sites.localhost', '/a')).body).toBe(`two /a web.sites.localhost ${d2}`);
    expect((await edge.get('login--web.sites.localhost', '/b')).body).toBe(`two /b login--web.sites.localhost ${d2}`);
    // Rollback: one routing key; the old deployment's URL never moved.
    await edge.host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    expect((await edge.get('web.sites.localhost', '/a')).body).toBe(`one /a web.sites.localhost ${d1}`);
    expect((await edge.get(`${d2.toLowerCase()}-web.sites.localhost`, '/')).body).toContain('two /');
    const key = await edge.kvsClient().send(new GetKeyCommand({ KvsARN: EDGE.kvsArn, Key: 'a:web:production' }));
    expect(key.Value).toBe(d1);
    expect(await edge.host.aliasTarget('web', 'production')).toBe(d1);
  });

  it('serves assets from the deployment\'s S3 prefix with their headers, and a missing static file as a 404', async () => {
    const d = await edge.deploy('assets', 'three');
    await edge.host.shiftAlias({ projectId: 'assets', alias: 'production', deploymentId: d });
    const js = await edge.get('assets.sites.localhost', '/_next/static/chunks/app-three.js');
    expect(js).toMatchObject({ status: 200, body: "console.log('three')" });
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-shiplog-deployment']).toBe(d);
    expect((await edge.get('assets.sites.localhost', '/robots.txt')).body).toBe('User-agent: * (three)');
    expect((await edge.get('assets.sites.localhost', '/_next/static/chunks/nope.js')).status).toBe(404);
  });

  it("adds the app's headers() to its files from S3, as the local router and next start do, and answers the function's own as it sent them", async () => {
    // routes-manifest.json as next build writes it in the server function (headers() of next.config).
    const manifest = {
      version: 3, caseSensitive: false, basePath: '',
      headers: [
        { source: '/:path*', headers: [{ key: 'Strict-Transport-Security', value: 'max-age=63072000' }], regex: '^(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?(?:/)?$' },
        { source: '/robots.txt', headers: [{ key: 'Cache-Control', value: 'public, max-age=3600' }, { key: 'Via', value: 'never' }], regex: '^/robots\\.txt(?:/)?$' },
        { source: '/_next/static/:path*', has: [{ type: 'cookie', key: 'cors' }], headers: [{ key: 'access-control-allow-origin', value: '*' }], regex: '^/_next/static(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?(?:/)?$' },
      ],
    };
    const d = ulid();
    await edge.host.publish({
      projectId: 'heads', deploymentId: d,
      artifactDir: edgeArtifact(edge.work, 'six', undefined, { 'server-functions/default/.next/routes-manifest.json': JSON.stringify(manifest) }),
    });
    await edge.host.shiftAlias({ projectId: 'heads', alias: 'production', deploymentId: d });
    const robots = await edge.get('heads.sites.localhost', '/robots.txt');
    expect([robots.status, robots.body, robots.headers['strict-transport-security'], robots.headers['cache-control']]).toEqual([200, 'User-agent: * (six)', 'max-age=63072000', 'public, max-age=3600']);
    // CloudFront lets no function set Via; the metadata that carried the rules is not sent.
    expect([robots.headers.via, robots.headers['x-amz-meta-shiplog-headers']]).toEqual([undefined, undefined]);
    const js = await edge.get('heads.sites.localhost', '/_next/static/chunks/app-six.js');
    expect([js.headers['strict-transport-security'], js.headers['cache-control'], js.headers['access-control-allow-origin']]).toEqual(['max-age=63072000', 'public, max-age=31536000, immutable', undefined]);
    expect((await edge.get('heads.sites.localhost', '/_next/static/chunks/app-six.js', { cookie: 'cors=1' })).headers['access-control-allow-origin']).toBe('*');
    // The server function applies headers() itself on AWS: its answer passes through as it was.
    const page = await edge.get('heads.sites.localhost', '/about');
    expect([page.body.startsWith('six /about'), page.headers['strict-transport-security']]).toEqual([true, undefined]);
    // A deployment without rules gets no metadata at all.
    const plain = await edge.deploy('heads', 'seven');
    await edge.host.shiftAlias({ projectId: 'heads', alias: 'production', deploymentId: plain });
    expect((await edge.get('heads.sites.localhost', '/robots.txt')).headers['strict-transport-security']).toBeUndefined();
  });

  it('gives each deployment an IAM-only Function URL on its own alias that only the distribution may invoke', async () => {
    const d = await edge.deploy('urls', 'four');
    const fn = siteFunctionName('shiplog', 'urls');
    const url = await edge.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: fn, Qualifier: deploymentAlias(d) }));
    expect(url).toMatchObject({ AuthType: 'AWS_IAM', InvokeMode: 'BUFFERED', FunctionUrl: expect.stringMatching(/^https:\/\/[0-9a-f]{32}\.lambda-url\./) });
    const policy = JSON.parse((await edge.lambda.send(new GetPolicyCommand({ FunctionName: fn, Qualifier: deploymentAlias(d) }))).Policy!) as { Statement: Record<string, unknown>[] };
    expect(policy.Statement).toEqual([expect.objectContaining({
      Action: 'lambda:InvokeFunctionUrl', Principal: { Service: 'cloudfront.amazonaws.com' },
      Condition: expect.objectContaining({ ArnLike: { 'AWS:SourceArn': EDGE.distributionArn } }),
    })]);
    // Publishing again (a retry) finds what it made.
    await edge.host.publish({ projectId: 'urls', deploymentId: d, artifactDir: edgeArtifact(edge.work, 'four') });
    expect((await edge.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: fn, Qualifier: deploymentAlias(d) }))).FunctionUrl).toBe(url.FunctionUrl);
  });

  it('serves a mounted path prefix from the mounted project\'s production once the host routes the mounts, and stops when they are removed', async () => {
    const home = await edge.deploy('home', 'home');
    const docs = await edge.deploy('docs', 'docs');
    await edge.host.shiftAlias({ projectId: 'home', alias: 'production', deploymentId: home });
    await edge.host.shiftAlias({ projectId: 'docs', alias: 'production', deploymentId: docs });
    expect((await edge.get('home.sites.localhost', '/docs/intro')).body).toBe(`home /docs/intro home.sites.localhost ${home}`);
    await edge.host.routeMounts!('home', [{ prefix: '/docs', project: 'docs' }]);
    expect((await edge.get('home.sites.localhost', '/docs/intro')).body).toBe(`docs /docs/intro home.sites.localhost ${docs}`);
    expect((await edge.get('home.sites.localhost', '/docsx')).body).toBe(`home /docsx home.sites.localhost ${home}`);
    await edge.host.routeMounts!('home', []);
    expect((await edge.get('home.sites.localhost', '/docs/intro')).body).toBe(`home /docs/intro home.sites.localhost ${home}`);
  });

  it('answers 404 for unknown projects from the function itself, and 403 for a host no tenant carries', async () => {
    expect(await edge.get('nope.sites.localhost')).toMatchObject({ status: 404, body: 'Project "nope" has no production deployment.\n' });
    expect((await edge.get('example.net')).status).toBe(403);
  });

  it('serves a custom domain once it is attached (its tenant and routing entry), and redirects a redirect domain', async () => {
    const d = await edge.deploy('shop', 'five');
    await edge.host.shiftAlias({ projectId: 'shop', alias: 'production', deploymentId: d });
    expect((await edge.get('shop.example.org', '/cart')).status).toBe(403);
    const domains = cloudFrontDomainEdge({
      cloudfront: edge.cloudfront, distributionId: 'E2SHIPLOGBOX', prefix: 'shiplog',
      route: (host, target) => (target ? edge.routing.put([routingEntries.domain(host, target)]) : edge.routing.remove([routingEntries.domainKey(host)])),
    });
    const certificateId = 'arn:aws:acm:us-east-1:123456789012:certificate/shop';
    await domains.attach({ host: 'shop.example.org', projectId: 'shop', alias: 'production', certificateId });
    expect(await edge.get('shop.example.org', '/cart')).toMatchObject({ status: 200, body: `five /cart shop.example.org ${d}` });
    await domains.attach({ host: 'example.org', projectId: 'shop', alias: 'production', redirectTo: 'shop.example.org', certificateId });
    expect(await edge.get('example.org', '/a?b=1')).toMatchObject({ status: 308, headers: { location: 'https://shop.example.org/a?b=1' } });
    await domains.detach('shop.example.org');
    expect((await edge.get('shop.example.org', '/cart')).status).toBe(403);
  });
});
