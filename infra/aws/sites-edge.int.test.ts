import { describe, expect, it } from 'vitest';
import { subscriptions } from '../topology.ts';
import { ASSET_HEADERS_SOURCE } from './edge/asset-headers.ts';
import { siteRouterCode } from './edge/site-router.ts';
import { ALL_VIEWER_EXCEPT_HOST_POLICY_ID, SERVER_CACHE_HEADERS } from './index.ts';
import { ACCOUNT, BUCKET_SUFFIX, declareUnderMocks, REGION, resolved, type Registered } from './mocked-stack.ts';

// The sites' CloudFront front (sites-edge.ts), declared under Pulumi mocks (see mocked-stack.ts).

const Provider = 'pulumi:providers:aws';
const Certificate = 'aws:acm/certificate:Certificate';
const Validation = 'aws:acm/certificateValidation:CertificateValidation';
const Kvs = 'aws:cloudfront/keyValueStore:KeyValueStore';
const CfFunction = 'aws:cloudfront/function:Function';
const Oac = 'aws:cloudfront/originAccessControl:OriginAccessControl';
const CachePolicy = 'aws:cloudfront/cachePolicy:CachePolicy';
const Distribution = 'aws:cloudfront/multitenantDistribution:MultitenantDistribution';
const Tenant = 'aws:cloudfront/distributionTenant:DistributionTenant';
const BucketPolicy = 'aws:s3/bucketPolicy:BucketPolicy';

const sitesBucket = `shiplog-ci-sites-${BUCKET_SUFFIX}`;
const sitesDomain = `${sitesBucket}.s3.${REGION}.amazonaws.com`;

interface Behaviour {
  pathPattern?: string;
  targetOriginId: string;
  viewerProtocolPolicy: string;
  allowedMethods: { items: string[]; cachedMethods: string[] };
  cachePolicyId: string;
  originRequestPolicyId?: string;
  compress?: boolean;
  functionAssociations: { eventType: string; functionArn: string }[];
}
interface Origin {
  id: string;
  domainName: string;
  originAccessControlId?: string;
  customOriginConfigs?: { originProtocolPolicy: string }[];
}

const edgeOf = async (siteDomain?: string) => {
  const s = await declareUnderMocks(subscriptions, siteDomain ? { siteDomain } : {});
  const d = s.one(Distribution, 'SitesDistribution');
  const inputs = d.inputs as { origins: Origin[]; cacheBehaviors: Behaviour[]; defaultCacheBehavior: Behaviour } & Record<string, unknown>;
  const behaviours = [...inputs.cacheBehaviors, { ...inputs.defaultCacheBehavior, pathPattern: 'default' }];
  const behaviour = (path: string) => behaviours.find((b) => b.pathPattern === path) as Behaviour;
  const origin = (id: string) => inputs.origins.find((o) => o.id === id) as Origin;
  return { s, d, inputs, behaviours, behaviour, origin };
};

describe('the sites CloudFront front (sites-edge.ts)', () => {
  it("hashes request bodies for the site functions with a Lambda@Edge origin-request function in us-east-1, on the behaviours that reach them", async () => {
    const { s, behaviour } = await edgeOf();
    const fn = s.one('aws:lambda/function:Function', 'SitesBodyHash');
    expect(fn.providerRegion).toBe('us-east-1');
    expect(fn.inputs).toMatchObject({ name: 'shiplog-ci-sites-body-hash', runtime: 'nodejs22.x', handler: 'index.handler', publish: true, timeout: 5 });
    const role = s.one('aws:iam/role:Role', 'SitesBodyHashRole');
    expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0].Principal.Service).toEqual(['lambda.amazonaws.com', 'edgelambda.amazonaws.com']);
    // It may write its logs, and nothing else.
    const policy = JSON.parse(s.one('aws:iam/rolePolicy:RolePolicy', 'SitesBodyHashLogs').inputs.policy as string);
    expect(policy.Statement).toEqual([{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/us-east-1.shiplog-ci-sites-body-hash:*' }]);
    type WithLambda = { lambdaFunctionAssociations?: { eventType: string; includeBody?: boolean }[] };
    for (const path of ['default', '/_next/image*']) {
      expect((behaviour(path) as unknown as WithLambda).lambdaFunctionAssociations?.map((a) => [a.eventType, a.includeBody]), path).toEqual([['origin-request', true]]);
    }
    expect((behaviour('/_next/static/*') as unknown as WithLambda).lambdaFunctionAssociations).toBeUndefined();
  });

  it('requests the wildcard certificate of the site domain in us-east-1, validated by DNS, and exports its records', async () => {
    const { s } = await edgeOf();
    const providers = s.ofType(Provider).filter((p) => p.name === 'UsEast1');
    expect(providers.map((p) => p.inputs.region)).toEqual(['us-east-1']);
    const certificates = s.ofType(Certificate);
    expect(certificates).toHaveLength(1);
    const cert = certificates[0] as Registered;
    expect(cert.providerRegion).toBe('us-east-1');
    expect(cert.inputs).toMatchObject({ domainName: '*.apps.example.com', validationMethod: 'DNS' });
    expect(cert.state.arn).toMatch(new RegExp(`^arn:aws:acm:us-east-1:${ACCOUNT}:certificate/`));
    const validation = s.one(Validation, 'SitesCertificateValidation');
    expect(validation.providerRegion).toBe('us-east-1');
    expect(validation.inputs.certificateArn).toBe(cert.state.arn);
    const options = cert.state.domainValidationOptions as { resourceRecordName: string; resourceRecordType: string; resourceRecordValue: string }[];
    expect(await resolved(s.stack.edge.validationRecords)).toEqual(
      options.map((o) => ({ name: o.resourceRecordName, type: o.resourceRecordType, value: o.resourceRecordValue })),
    );
    expect(options[0]?.resourceRecordName).toMatch(/\.apps\.example\.com\.$/);
  });

  it('declares one tenant for *.<siteDomain> carrying that certificate, on the distribution', async () => {
    const { s, d } = await edgeOf();
    const cert = s.one(Certificate, 'SitesCertificate');
    expect(s.ofType(Tenant)).toHaveLength(1);
    expect(s.one(Tenant, 'SitesTenant').inputs).toEqual({
      name: 'shiplog-ci-sites',
      distributionId: d.id,
      domains: [{ domain: '*.apps.example.com' }],
      enabled: true,
      customizations: { certificate: { arn: cert.state.arn } },
    });
    expect(d.inputs.viewerCertificate).toEqual({ acmCertificateArn: cert.state.arn, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' });
  });

  it('is one multi-tenant distribution with none of the settings multi-tenant distributions refuse', async () => {
    const { s, inputs } = await edgeOf();
    expect(s.ofType(Distribution)).toHaveLength(1);
    expect(s.ofType('aws:cloudfront/distribution:Distribution')).toHaveLength(0);
    expect(inputs).toMatchObject({ enabled: true, httpVersion: 'http2and3', restrictions: { geoRestriction: { restrictionType: 'none' } } });
    for (const refused of ['aliases', 'priceClass', 'isIpv6Enabled', 'continuousDeploymentPolicyId', 'staging', 'anycastIpListId']) {
      expect(inputs, refused).not.toHaveProperty(refused);
    }
    for (const b of [...(inputs.cacheBehaviors as object[]), inputs.defaultCacheBehavior as object]) {
      for (const ttl of ['minTtl', 'defaultTtl', 'maxTtl', 'forwardedValues', 'trustedSigners']) expect(b, ttl).not.toHaveProperty(ttl);
    }
  });

  it('serves /_next/static/* from the sites bucket through the s3 origin access control, the rest through the server behaviour', async () => {
    const { s, inputs, behaviour, origin } = await edgeOf();
    const oac = (name: string) => s.one(Oac, name);
    expect(oac('SitesS3Access').inputs).toEqual({
      name: 'shiplog-ci-sites-s3', description: 'shiplog: sites assets in S3',
      originAccessControlOriginType: 's3', signingBehavior: 'always', signingProtocol: 'sigv4',
    });
    expect(oac('SitesLambdaAccess').inputs).toMatchObject({
      name: 'shiplog-ci-sites-lambda', originAccessControlOriginType: 'lambda', signingBehavior: 'always', signingProtocol: 'sigv4',
    });
    expect(inputs.origins.map((o) => o.id)).toEqual(['sites-bucket', 'site-server']);
    expect(origin('sites-bucket')).toEqual({ id: 'sites-bucket', domainName: sitesDomain, originAccessControlId: oac('SitesS3Access').id });
    expect(origin('site-server')).toMatchObject({ domainName: sitesDomain, customOriginConfigs: [{ originProtocolPolicy: 'https-only' }] });
    expect(origin('site-server').originAccessControlId).toBeUndefined();

    const server = s.one(CachePolicy, 'SitesServerCache');
    const assets = s.one(CachePolicy, 'SitesAssetsCache');
    const all = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
    expect((inputs.cacheBehaviors as Behaviour[]).map((b) => b.pathPattern)).toEqual(['/_next/static/*', '/_next/image*']);
    expect(behaviour('/_next/static/*')).toMatchObject({
      targetOriginId: 'sites-bucket', allowedMethods: { items: ['GET', 'HEAD'], cachedMethods: ['GET', 'HEAD'] },
      cachePolicyId: assets.id, compress: true, viewerProtocolPolicy: 'redirect-to-https',
    });
    expect(behaviour('/_next/static/*').originRequestPolicyId).toBeUndefined();
    for (const path of ['/_next/image*', 'default']) {
      expect(behaviour(path), path).toMatchObject({
        targetOriginId: 'site-server', allowedMethods: { items: all, cachedMethods: ['GET', 'HEAD'] },
        cachePolicyId: server.id, originRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_POLICY_ID, compress: true,
        viewerProtocolPolicy: 'redirect-to-https',
      });
    }
  });

  it("keys the server cache by deployment and Next.js's request headers, and the assets cache by deployment", async () => {
    const { s } = await edgeOf();
    const server = s.one(CachePolicy, 'SitesServerCache').inputs;
    expect(server).toMatchObject({ minTtl: 0, defaultTtl: 0, maxTtl: 31_536_000 });
    expect(server.parametersInCacheKeyAndForwardedToOrigin).toEqual({
      cookiesConfig: { cookieBehavior: 'none' },
      headersConfig: { headerBehavior: 'whitelist', headers: { items: [...SERVER_CACHE_HEADERS] } },
      queryStringsConfig: { queryStringBehavior: 'all' },
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    expect(SERVER_CACHE_HEADERS).toEqual(['x-shiplog-deployment', 'accept', 'rsc', 'next-router-prefetch', 'next-router-state-tree', 'next-url']);
    const assets = s.one(CachePolicy, 'SitesAssetsCache').inputs.parametersInCacheKeyAndForwardedToOrigin as { headersConfig: object };
    expect(assets.headersConfig).toEqual({ headerBehavior: 'whitelist', headers: { items: ['x-shiplog-deployment'] } });
  });

  it('runs the site router as viewer-request on every behaviour, with the key value store and the code siteRouterCode makes of them', async () => {
    const { s, behaviours } = await edgeOf();
    const kvs = s.one(Kvs, 'SitesKeyValueStore');
    const fn = s.one(CfFunction, 'SiteRouter');
    // AWS's shapes: the store's id is the last part of its ARN, and the function's `cf.kvs()` takes it.
    expect(kvs.state.arn).toBe(`arn:aws:cloudfront::${ACCOUNT}:key-value-store/${kvs.id}`);
    expect(kvs.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(kvs.inputs.name).toBe('shiplog-ci-sites');
    expect(fn.inputs).toMatchObject({ name: 'shiplog-ci-site-router', runtime: 'cloudfront-js-2.0', publish: true, keyValueStoreAssociations: [kvs.state.arn] });
    expect(fn.inputs.code).toBe(siteRouterCode({ siteDomain: 'apps.example.com', kvsId: kvs.id, assetsDomain: sitesDomain }));
    expect(behaviours).toHaveLength(3);
    // and the asset headers function as viewer-response: public files come through the default behaviour too
    const headers = s.one(CfFunction, 'SiteAssetHeaders');
    expect(headers.inputs).toMatchObject({ name: 'shiplog-ci-site-headers', runtime: 'cloudfront-js-2.0', publish: true, code: ASSET_HEADERS_SOURCE });
    for (const b of behaviours) {
      expect(b.functionAssociations, b.pathPattern).toEqual([
        { eventType: 'viewer-request', functionArn: fn.state.arn }, { eventType: 'viewer-response', functionArn: headers.state.arn },
      ]);
    }
  });

  it("builds everything from the stage's site domain", async () => {
    const { s } = await edgeOf('sites.example.org');
    expect(s.one(Certificate, 'SitesCertificate').inputs.domainName).toBe('*.sites.example.org');
    expect(s.one(Tenant, 'SitesTenant').inputs.domains).toEqual([{ domain: '*.sites.example.org' }]);
    const kvs = s.one(Kvs, 'SitesKeyValueStore');
    expect(s.one(CfFunction, 'SiteRouter').inputs.code).toBe(siteRouterCode({ siteDomain: 'sites.example.org', kvsId: kvs.id, assetsDomain: sitesDomain }));
  });

  it('lets the distribution, and nothing else, read sites/* of the sites bucket (not cache/ nor artifacts/)', async () => {
    const { s, d } = await edgeOf();
    const policies = s.ofType(BucketPolicy);
    expect(policies.map((p) => p.inputs.bucket)).toEqual([sitesBucket]);
    expect(JSON.parse(policies[0]?.inputs.policy as string)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'SitesDistributionReadsAssets',
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${sitesBucket}/sites/*`,
          Condition: { StringEquals: { 'AWS:SourceArn': d.state.arn } },
        },
      ],
    });
    expect(d.state.arn).toBe(`arn:aws:cloudfront::${ACCOUNT}:distribution/${d.id}`);
    expect(d.id).toMatch(/^E[0-9A-Z]{13}$/);
  });

  it('hands the deploy functions the key value store and Function URLs, the domains functions that attach domains their tenants and domain keys, on those resources alone', async () => {
    const { s, d } = await edgeOf();
    const kvsArn = s.one(Kvs, 'SitesKeyValueStore').state.arn as string;
    const sites = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:shiplog-ci-site-*`;
    const edgeActions = /^cloudfront|^lambda:(CreateFunctionUrlConfig|GetFunctionUrlConfig|AddPermission)$|^lambda:\*$|^\*$/;
    const granted: { fn: string; actions: string[]; resources: string[] }[] = [];
    for (const spec of s.specs) {
      const statements = [...(await resolved(spec.permissions)), ...(await resolved(spec.links.flatMap((l) => l.permissions)))];
      for (const p of statements) if (p.actions.some((a) => edgeActions.test(a))) granted.push({ fn: spec.name, actions: p.actions, resources: p.resources });
      const env = await resolved(spec.environment);
      // ISR's revalidation reads the routing to find the deployment a stale page is served from (site-cache.ts).
      const reader = spec.name === 'IsrRevalidate';
      if (reader) {
        expect(env.SHIPLOG_SITES_KVS_ARN, spec.name).toBe(kvsArn);
        continue;
      }
      const edgeUser = spec.handler.startsWith('infra/aws/functions/deploy.') || (spec.handler.startsWith('infra/aws/functions/domains.') && spec.handler !== 'infra/aws/functions/domains.onDomainAdded');
      expect(env.SHIPLOG_SITES_KVS_ARN, spec.name).toBe(edgeUser ? kvsArn : undefined);
      expect(env.SHIPLOG_SITES_DISTRIBUTION_ARN, spec.name).toBe(edgeUser ? d.state.arn : undefined);
    }
    const deployFns = s.specs.filter((f) => f.handler.startsWith('infra/aws/functions/deploy.')).map((f) => f.name).sort();
    expect(deployFns).toEqual(['DeployOnBuildEnded', 'DeployOnBuildSucceeded', 'DeployOnMountsChanged', 'DeployOnReleaseRequest']);
    const domainFns = ['DomainsOnDomainRemoved', 'DomainsOnValidationPending', 'DomainsReconcile'];
    expect([...new Set(granted.map((g) => g.fn))].sort()).toEqual([...deployFns, ...domainFns, 'IsrRevalidate']);
    expect(granted.filter((g) => g.fn === 'IsrRevalidate').map(({ actions, resources }) => ({ actions, resources }))).toEqual([
      { actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:GetKey'], resources: [kvsArn] },
    ]);
    for (const fn of domainFns) {
      expect(granted.filter((g) => g.fn === fn).map(({ actions, resources }) => ({ actions, resources }))).toEqual([
        {
          actions: ['cloudfront:CreateDistributionTenant', 'cloudfront:GetDistributionTenant', 'cloudfront:UpdateDistributionTenant', 'cloudfront:DeleteDistributionTenant', 'cloudfront:TagResource'],
          resources: [d.state.arn, `arn:aws:cloudfront::${ACCOUNT}:distribution-tenant/*`],
        },
        { actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:UpdateKeys'], resources: [kvsArn] },
      ]);
    }
    for (const fn of deployFns) {
      expect(granted.filter((g) => g.fn === fn).map(({ actions, resources }) => ({ actions, resources }))).toEqual([
        { actions: ['lambda:CreateFunctionUrlConfig', 'lambda:GetFunctionUrlConfig', 'lambda:AddPermission'], resources: [sites, `${sites}:*`] },
        {
          actions: [
            'cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:GetKey', 'cloudfront-keyvaluestore:PutKey',
            'cloudfront-keyvaluestore:DeleteKey', 'cloudfront-keyvaluestore:UpdateKeys',
          ],
          resources: [kvsArn],
        },
      ]);
    }
  });

  it('returns what the stack and sst.config.ts read of it', async () => {
    const { s, d } = await edgeOf();
    const edge = s.stack.edge;
    expect(Object.keys(edge)).toEqual(expect.arrayContaining(['distribution', 'tenant', 'keyValueStore', 'function', 'certificate', 'validationRecords', 'oac']));
    expect(await resolved(edge.distribution.id)).toBe(d.id);
    expect(await resolved(edge.keyValueStore.arn)).toBe(s.one(Kvs, 'SitesKeyValueStore').state.arn);
    expect(await resolved(s.stack.adapters.resources.sitesDistributionArn)).toBe(d.state.arn);
    expect(await resolved(edge.oac.lambda.originAccessControlOriginType)).toBe('lambda');
  });
});
