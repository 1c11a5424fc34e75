import type * as AwsModule from '@pulumi/aws';
import type { Cloud } from './cloud.ts';
import { ASSET_HEADERS_SOURCE } from './edge/asset-headers.ts';
import { BODY_HASH_SOURCE } from './edge/body-hash.ts';
import { siteRouterCode } from './edge/site-router.ts';
import type { StackNames } from './names.ts';

/**
 * The request headers in the sites' server cache key, besides the path and every query string:
 * the deployment the edge function chose (two deployments never share a cached answer) and the
 * headers a Next.js answer varies by (OpenNext's server behaviour: HTML or RSC payload, prefetch,
 * router state, interception route).
 *
 * @example
 * SERVER_CACHE_HEADERS.includes('x-shiplog-deployment'); // true
 */
export const SERVER_CACHE_HEADERS = ['x-shiplog-deployment', 'accept', 'rsc', 'next-router-prefetch', 'next-router-state-tree', 'next-url'] as const;

/**
 * CloudFront's managed origin request policy `AllViewerExceptHostHeader`: every viewer header,
 * cookie and query string reaches the origin except `Host` (a Function URL answers only to its
 * own host); `x-forwarded-host`, which the edge function sets, carries the viewer's host.
 *
 * @example
 * new aws.cloudfront.MultitenantDistribution('Sites', { defaultCacheBehavior: { originRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_POLICY_ID, … } });
 */
export const ALL_VIEWER_EXCEPT_HOST_POLICY_ID = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

/** A year, in seconds: the longest an answer's own `Cache-Control` may keep it at the edge. */
const YEAR_SECONDS = 31_536_000;
const SITES_ORIGIN = 'sites-bucket';
const SERVER_ORIGIN = 'site-server';
const ALL_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
const READ_METHODS = ['GET', 'HEAD'];

/**
 * What the sites' CloudFront front is declared from: the stage's names, the domain sites live
 * under, the sites bucket (assets under `sites/<project>/<deployment>/`) and whether the stage
 * keeps its routing state (the key value store) and certificate on removal.
 *
 * @example
 * const input: SiteEdgeInput = { names, siteDomain: 'apps.example.com', sitesBucket: buckets.sites.bucket, protect: false };
 */
export interface SiteEdgeInput {
  names: StackNames;
  siteDomain: string;
  sitesBucket: AwsModule.s3.Bucket;
  protect: boolean;
}

/**
 * Declares the one CloudFront front of every site (CloudFront SaaS Manager): a multi-tenant
 * distribution whose every behaviour runs the viewer-request site router (`edge/site-router.ts`),
 * which reads the host's deployment from a KeyValueStore and sends the request to its S3 assets
 * (through the `s3` origin access control) or its Lambda Function URLs (through the `lambda` one);
 * a distribution tenant for `*.<siteDomain>` with a wildcard ACM certificate requested in
 * us-east-1 (CloudFront reads certificates only there), validated by DNS records the user creates
 * (`validationRecords`); and the sites bucket's policy letting this distribution, and nothing
 * else, read `sites/*`. A rollback is one key write; no part of this changes per deployment.
 *
 * @example
 * const edge = declareSiteEdge(cloud, { names, siteDomain: 'apps.example.com', sitesBucket: sites.bucket, protect: false });
 * edge.validationRecords; // [{ name: '_x.apps.example.com.', type: 'CNAME', value: '_y.acm-validations.aws.' }]
 */
export const declareSiteEdge = ({ aws, pulumi }: Cloud, input: SiteEdgeInput) => {
  const { names, siteDomain, sitesBucket, protect } = input;
  const prefix = names.prefix;
  const wildcard = `*.${siteDomain}`;

  // 1. the certificate, where CloudFront reads it
  const usEast1 = new aws.Provider('UsEast1', { region: 'us-east-1' });
  const certificate = new aws.acm.Certificate(
    'SitesCertificate',
    { domainName: wildcard, validationMethod: 'DNS', tags: { 'shiplog:stage': prefix } },
    { provider: usEast1, retainOnDelete: protect },
  );
  const validationRecords = certificate.domainValidationOptions.apply((options) =>
    options.map((o) => ({ name: o.resourceRecordName, type: o.resourceRecordType, value: o.resourceRecordValue })),
  );
  // CloudFront refuses a certificate that is not issued yet: the deploy waits here until the
  // user has created `validationRecords` (ACM shows them as soon as the request is made).
  const validation = new aws.acm.CertificateValidation('SitesCertificateValidation', { certificateArn: certificate.arn }, { provider: usEast1 });

  // 2. the routing state and the function that reads it
  const keyValueStore = new aws.cloudfront.KeyValueStore(
    'SitesKeyValueStore',
    { name: `${prefix}-sites`, comment: 'shiplog: which deployment each site host serves (written by the deploy service)' },
    { retainOnDelete: protect },
  );
  // The function's `cf.kvs()` takes the store's id, the last part of its ARN.
  const kvsId = keyValueStore.arn.apply((arn) => arn.split('/').pop() ?? arn);
  const code = pulumi
    .all([kvsId, sitesBucket.bucketRegionalDomainName])
    .apply(([id, assetsDomain]) => siteRouterCode({ siteDomain, kvsId: id, assetsDomain }));
  const router = new aws.cloudfront.Function('SiteRouter', {
    name: `${prefix}-site-router`,
    runtime: 'cloudfront-js-2.0',
    comment: 'shiplog: maps a site host to its deployment and origin',
    publish: true,
    keyValueStoreAssociations: [keyValueStore.arn],
    code,
  });

  // The app's headers() on the files served from S3, which no server function answers: the
  // deploy service puts the rules matching each file in its metadata, this function applies them.
  const assetHeaders = new aws.cloudfront.Function('SiteAssetHeaders', {
    name: `${prefix}-site-headers`,
    runtime: 'cloudfront-js-2.0',
    comment: "shiplog: adds next.config headers() to a site's files in S3",
    publish: true,
    code: ASSET_HEADERS_SOURCE,
  });

  // 3. how CloudFront signs its requests to the origins the function picks
  const originAccess = (logical: string, type: 's3' | 'lambda', description: string) =>
    new aws.cloudfront.OriginAccessControl(logical, {
      name: `${prefix}-sites-${type}`, description, originAccessControlOriginType: type, signingBehavior: 'always', signingProtocol: 'sigv4',
    });
  const oacS3 = originAccess('SitesS3Access', 's3', 'shiplog: sites assets in S3');
  // The router passes this signing inline (`updateRequestOrigin`'s `originAccessControlConfig`)
  // for each deployment's Function URL; this one names it in the account, for the console and
  // for a behaviour that targets a Function URL origin directly.
  const oacLambda = originAccess('SitesLambdaAccess', 'lambda', 'shiplog: site functions behind their Function URLs');

  // 4. what is cached, under which key
  const serverCache = new aws.cloudfront.CachePolicy('SitesServerCache', {
    name: `${prefix}-sites-server`,
    comment: "shiplog: site functions' answers, kept as long as their Cache-Control says, per deployment",
    minTtl: 0,
    defaultTtl: 0,
    maxTtl: YEAR_SECONDS,
    parametersInCacheKeyAndForwardedToOrigin: {
      cookiesConfig: { cookieBehavior: 'none' },
      headersConfig: { headerBehavior: 'whitelist', headers: { items: [...SERVER_CACHE_HEADERS] } },
      queryStringsConfig: { queryStringBehavior: 'all' },
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    },
  });
  // CachingOptimized's TTLs, plus the deployment: `/_next/static/*` paths are content-hashed, but
  // two deployments of one build output share them, and a cache key without the deployment would
  // also let one project's asset answer for another's.
  const assetsCache = new aws.cloudfront.CachePolicy('SitesAssetsCache', {
    name: `${prefix}-sites-assets`,
    comment: 'shiplog: immutable site assets, per deployment',
    minTtl: 1,
    defaultTtl: 86_400,
    maxTtl: YEAR_SECONDS,
    parametersInCacheKeyAndForwardedToOrigin: {
      cookiesConfig: { cookieBehavior: 'none' },
      headersConfig: { headerBehavior: 'whitelist', headers: { items: ['x-shiplog-deployment'] } },
      queryStringsConfig: { queryStringBehavior: 'none' },
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    },
  });

  // 5. bodies for the site functions: a Function URL behind origin access control takes a body
  // only with its SHA-256 in x-amz-content-sha256, which browsers do not send (edge/body-hash.ts)
  const bodyHashRole = new aws.iam.Role('SitesBodyHashRole', {
    name: `${prefix}-sites-body-hash`,
    description: "shiplog: the sites' origin-request function (Lambda@Edge), which only writes its logs",
    assumeRolePolicy: pulumi.jsonStringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com', 'edgelambda.amazonaws.com'] }, Action: 'sts:AssumeRole' }],
    }),
  });
  const bodyHashLogs = new aws.iam.RolePolicy('SitesBodyHashLogs', {
    role: bodyHashRole.id,
    policy: pulumi.jsonStringify({
      Version: '2012-10-17',
      // Lambda@Edge logs in the region that ran it, to /aws/lambda/us-east-1.<function>.
      Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:aws:logs:*:*:log-group:/aws/lambda/us-east-1.${prefix}-sites-body-hash:*` }],
    }),
  });
  const bodyHash = new aws.lambda.Function('SitesBodyHash', {
    name: `${prefix}-sites-body-hash`,
    description: 'shiplog: x-amz-content-sha256 for requests with a body to the site functions (Lambda@Edge, origin-request)',
    role: bodyHashRole.arn,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    code: new pulumi.asset.AssetArchive({ 'index.js': new pulumi.asset.StringAsset(BODY_HASH_SOURCE) }),
    memorySize: 128,
    timeout: 5,
    // Lambda@Edge runs a numbered version, never $LATEST.
    publish: true,
  }, { provider: usEast1, dependsOn: [bodyHashLogs] });

  // 6. the distribution: every behaviour runs the router, which chooses the origin
  const viewerFunctions = [{ eventType: 'viewer-request', functionArn: router.arn }, { eventType: 'viewer-response', functionArn: assetHeaders.arn }];
  const server = {
    targetOriginId: SERVER_ORIGIN,
    viewerProtocolPolicy: 'redirect-to-https',
    allowedMethods: { items: ALL_METHODS, cachedMethods: READ_METHODS },
    cachePolicyId: serverCache.id,
    originRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_POLICY_ID,
    compress: true,
    functionAssociations: viewerFunctions,
    lambdaFunctionAssociations: [{ eventType: 'origin-request', lambdaFunctionArn: bodyHash.qualifiedArn, includeBody: true }],
  };
  const distribution = new aws.cloudfront.MultitenantDistribution('SitesDistribution', {
    comment: `shiplog ${prefix}: every site, routed by host`,
    enabled: true,
    httpVersion: 'http2and3',
    origins: [
      { id: SITES_ORIGIN, domainName: sitesBucket.bucketRegionalDomainName, originAccessControlId: oacS3.id },
      // A behaviour must target an origin, but the router sets each request's own (its
      // deployment's Function URL) and answers itself when it finds none: this one is never
      // reached. A custom origin needs a real public host name; the bucket's is one the stack owns.
      {
        id: SERVER_ORIGIN,
        domainName: sitesBucket.bucketRegionalDomainName,
        customOriginConfigs: [{ httpPort: 80, httpsPort: 443, originProtocolPolicy: 'https-only', originSslProtocols: ['TLSv1.2'] }],
      },
    ],
    cacheBehaviors: [
      {
        pathPattern: '/_next/static/*',
        targetOriginId: SITES_ORIGIN,
        viewerProtocolPolicy: 'redirect-to-https',
        allowedMethods: { items: READ_METHODS, cachedMethods: READ_METHODS },
        cachePolicyId: assetsCache.id,
        compress: true,
        functionAssociations: viewerFunctions,
      },
      { ...server, pathPattern: '/_next/image*' },
    ],
    defaultCacheBehavior: server,
    restrictions: { geoRestriction: { restrictionType: 'none' } },
    // The tenants' certificate (the platform's wildcard one; a custom domain's tenant brings its own).
    viewerCertificate: { acmCertificateArn: validation.certificateArn, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' },
    tenantConfig: {},
  });
  const tenant = new aws.cloudfront.DistributionTenant('SitesTenant', {
    name: `${prefix}-sites`,
    distributionId: distribution.id,
    domains: [{ domain: wildcard }],
    enabled: true,
    customizations: { certificate: { arn: validation.certificateArn } },
  });

  // 7. the assets, readable by this distribution alone
  const bucketPolicy = new aws.s3.BucketPolicy('SitesBucketPolicy', {
    bucket: sitesBucket.id,
    policy: pulumi.jsonStringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'SitesDistributionReadsAssets',
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: pulumi.interpolate`${sitesBucket.arn}/sites/*`,
          Condition: { StringEquals: { 'AWS:SourceArn': distribution.arn } },
        },
      ],
    }),
  });

  // Where `*.<siteDomain>` and custom domains point: the routing endpoint of the tenants' connection group.
  const dnsTarget = aws.cloudfront.getConnectionGroupOutput({ id: tenant.connectionGroupId }).routingEndpoint;

  return {
    distribution, tenant, dnsTarget, keyValueStore, function: router, bodyHash, certificate, certificateValidation: validation, validationRecords,
    oac: { s3: oacS3, lambda: oacLambda }, cachePolicies: { server: serverCache, assets: assetsCache }, bucketPolicy, provider: usEast1,
  };
};

/** The sites' CloudFront front, as {@link declareSiteEdge} declares it. */
export type SiteEdge = ReturnType<typeof declareSiteEdge>;
