import { createHash } from 'node:crypto';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { subscriptions as topology } from '../topology.ts';
import type { Subscription } from '../topology-types.ts';
import { declareShiplog, stackNames, type Cloud, type DeclareFunction, type FunctionSpec, type ShiplogStackInput } from '../aws/index.ts';

// The AWS stack exactly as `infra/aws` declares it, run under Pulumi mocks: no AWS, no SST, no
// provider plugin. What comes out is what the declaration hands to Pulumi (the inputs of every
// resource, outputs resolved), which is what `sst deploy` would send to AWS. The box creates its
// resources in moto from this list; the *.int.test.ts files of infra/aws assert on it.

/** The account of a declared stack (moto's default account, so ARNs agree with moto's). */
export const DECLARED_ACCOUNT = '123456789012';
/** The region of a declared stack. */
export const DECLARED_REGION = 'eu-west-1';
/** The routing endpoint of the sites' connection group in a declared stack (CloudFront's shape). */
export const DECLARED_ROUTING_ENDPOINT = 'd1mockrouting.cloudfront.net';
/** A declared bucket is named from its `bucketPrefix` with this suffix. */
export const DECLARED_BUCKET_SUFFIX = 'mock';

/**
 * One resource as the declaration registered it.
 *
 * @example
 * const rule: Registered = s.one('aws:cloudwatch/eventRule:EventRule', 'ProjectionsRule');
 */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The state the mock gave it: the inputs plus its physical `name`, `arn`, `url`, `streamArn`… */
  state: Record<string, unknown>;
  /** The id the mock gave it (`<logical name>-id`, or an AWS-shaped one: {@link idOf}). */
  id: string;
  /** The region of the explicit provider it was declared with (`aws.Provider`'s `region`), if any. */
  providerRegion?: string;
}

/**
 * The ARN a declared resource gets when the tests need no AWS-specific form (the box finds
 * resources by the name after the last `/`).
 *
 * @example
 * arnOf('aws:sqs/queue:Queue', 'shiplog-ci-x-dlq'); // 'arn:aws:sqs:eu-west-1:123456789012:queue/shiplog-ci-x-dlq'
 */
export const arnOf = (type: string, name: string): string => {
  const [, service = 'x', kind = 'x'] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
  return `arn:aws:${service}:${DECLARED_REGION}:${DECLARED_ACCOUNT}:${kind}/${name}`;
};

/** A stable hex digest of a declared resource, for the AWS-shaped ids the mocks give. */
const digest = (type: string, name: string) => createHash('sha256').update(`${type}\0${name}`).digest('hex');
const uuidOf = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
/** CloudFront's ids of distributions and origin access controls: `E` and 13 capitals or digits. */
const cloudFrontId = (h: string) => `E${h.slice(0, 13).toUpperCase()}`;

const awsIds: Record<string, (h: string) => string> = {
  'aws:cloudfront/keyValueStore:KeyValueStore': uuidOf,
  'aws:cloudfront/cachePolicy:CachePolicy': uuidOf,
  'aws:cloudfront/originAccessControl:OriginAccessControl': cloudFrontId,
  'aws:cloudfront/multitenantDistribution:MultitenantDistribution': cloudFrontId,
  'aws:cloudfront/distributionTenant:DistributionTenant': (h) => `dt_${h.slice(0, 27)}`,
};

/**
 * The id a mocked resource gets: a bucket's name, AWS's own shape for the CloudFront resources
 * whose ids other resources or the site router use (a KeyValueStore's is the last part of its
 * ARN, a distribution's `E…`), else `<logical name>-id`.
 *
 * @example
 * idOf({ type: 'aws:cloudfront/keyValueStore:KeyValueStore', name: 'SitesKeyValueStore', inputs: {} }); // '3f1c…-…' (uuid-shaped)
 */
export const idOf = (args: { type: string; name: string; inputs: Record<string, unknown> }): string => {
  if (args.type === 'aws:s3/bucket:Bucket') {
    const prefix = args.inputs.bucketPrefix as string | undefined;
    return prefix ? `${prefix}${DECLARED_BUCKET_SUFFIX}` : ((args.inputs.bucket as string | undefined) ?? args.name);
  }
  const shape = awsIds[args.type];
  return shape ? shape(digest(args.type, args.name)) : `${args.name}-id`;
};

const cloudFrontArn = (kind: string) => (_: string, id: string) => `arn:aws:cloudfront::${DECLARED_ACCOUNT}:${kind}/${id}`;
/** ARNs that name the resource by its id rather than its name. */
const arnById: Record<string, (name: string, id: string, region: string) => string> = {
  'aws:cloudfront/keyValueStore:KeyValueStore': cloudFrontArn('key-value-store'),
  'aws:cloudfront/multitenantDistribution:MultitenantDistribution': cloudFrontArn('distribution'),
  'aws:cloudfront/distributionTenant:DistributionTenant': cloudFrontArn('distribution-tenant'),
  'aws:cloudfront/originAccessControl:OriginAccessControl': cloudFrontArn('origin-access-control'),
  'aws:cloudfront/cachePolicy:CachePolicy': cloudFrontArn('cache-policy'),
  'aws:cloudfront/function:Function': (name) => `arn:aws:cloudfront::${DECLARED_ACCOUNT}:function/${name}`,
  'aws:acm/certificate:Certificate': (name, _id, region) => `arn:aws:acm:${region}:${DECLARED_ACCOUNT}:certificate/${uuidOf(digest('acm', name))}`,
  'aws:codeconnections/connection:Connection': (name, _id, region) => `arn:aws:codeconnections:${region}:${DECLARED_ACCOUNT}:connection/${uuidOf(digest('codeconnections', name))}`,
};

/** ACM's DNS validation record for a certificate's domain (a wildcard's is its parent domain's). */
const validationOption = (domainName: string) => {
  const h = digest('acm-validation', domainName);
  return {
    domainName,
    resourceRecordName: `_${h.slice(0, 32)}.${domainName.replace(/^\*\./, '')}.`,
    resourceRecordType: 'CNAME',
    resourceRecordValue: `_${h.slice(32, 64)}.acm-validations.aws.`,
  };
};

const realArn: Record<string, (name: string) => string> = {
  'aws:lambda/function:Function': (n) => `arn:aws:lambda:${DECLARED_REGION}:${DECLARED_ACCOUNT}:function:${n}`,
  'aws:s3/bucket:Bucket': (n) => `arn:aws:s3:::${n}`,
  'aws:cloudwatch/logGroup:LogGroup': (n) => `arn:aws:logs:${DECLARED_REGION}:${DECLARED_ACCOUNT}:log-group:${n}`,
  'aws:codebuild/project:Project': (n) => `arn:aws:codebuild:${DECLARED_REGION}:${DECLARED_ACCOUNT}:project/${n}`,
  'aws:iam/role:Role': (n) => `arn:aws:iam::${DECLARED_ACCOUNT}:role/${n}`,
  'aws:iam/policy:Policy': (n) => `arn:aws:iam::${DECLARED_ACCOUNT}:policy/${n}`,
  'aws:kms/alias:Alias': (n) => `arn:aws:kms:${DECLARED_REGION}:${DECLARED_ACCOUNT}:${n}`,
};

/**
 * The state a mocked resource gets: its inputs, its physical name (a bucket's `bucketPrefix` +
 * {@link DECLARED_BUCKET_SUFFIX}, else `name`, else the logical name) and AWS-shaped ARN / URL,
 * in `region` (its explicit provider's) when given: the sites certificate's is us-east-1.
 *
 * @example
 * stateOf({ type: 'aws:sqs/queue:Queue', name: 'X', inputs: { name: 'q' } }).url; // 'https://sqs.eu-west-1.amazonaws.com/123456789012/q'
 */
export const stateOf = (args: { type: string; name: string; inputs: Record<string, unknown>; region?: string }): Record<string, unknown> => {
  const prefix = args.inputs.bucketPrefix as string | undefined;
  const name = prefix ? `${prefix}${DECLARED_BUCKET_SUFFIX}` : ((args.inputs.name as string | undefined) ?? args.name);
  const region = args.region ?? DECLARED_REGION;
  const arn = arnById[args.type]?.(name, idOf(args), region) ?? realArn[args.type]?.(name) ?? arnOf(args.type, name);
  const extra: Record<string, unknown> =
    args.type === 'aws:dynamodb/table:Table' ? { streamArn: `${arn}/stream/2026-01-01T00:00:00.000` }
    : args.type === 'aws:sqs/queue:Queue' ? { url: `https://sqs.${DECLARED_REGION}.amazonaws.com/${DECLARED_ACCOUNT}/${name}` }
    : args.type === 'aws:s3/bucket:Bucket' ? { bucket: name, bucketRegionalDomainName: `${name}.s3.${DECLARED_REGION}.amazonaws.com` }
    : args.type === 'aws:acm/certificate:Certificate' ? {
        region, status: 'PENDING_VALIDATION', domainValidationOptions: [validationOption(args.inputs.domainName as string)],
      }
    : args.type === 'aws:cloudfront/multitenantDistribution:MultitenantDistribution' ? { connectionMode: 'tenant-only', status: 'Deployed' }
    : args.type === 'aws:cloudfront/function:Function' ? { status: 'DEPLOYED', liveStageEtag: 'ETVPDKIKX0DER' }
    : args.type === 'aws:kms/key:Key' ? { keyId: `${args.name}-key-id` }
    // A connection starts PENDING: a user completes its GitHub App handshake in the console.
    : args.type === 'aws:codeconnections/connection:Connection' ? { connectionStatus: 'PENDING', ownerAccountId: DECLARED_ACCOUNT }
    : args.type === 'aws:apigatewayv2/api:Api' ? {
        apiEndpoint: `https://${args.name}-id.execute-api.${DECLARED_REGION}.amazonaws.com`,
        executionArn: `arn:aws:execute-api:${DECLARED_REGION}:${DECLARED_ACCOUNT}:${args.name}-id`,
      }
    : {};
  return { ...args.inputs, name, arn, ...extra };
};

/**
 * The value behind a Pulumi input, once the mocks resolved it.
 *
 * @example
 * expect(await resolved(spec.environment)).toEqual({ SHIPLOG_EVENTS_TABLE: 'shiplog-ci-events' });
 */
export const resolved = <T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> =>
  new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v)));

const resourcesIn = (value: unknown, seen = new Set<unknown>()): pulumi.Resource[] => {
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  if (pulumi.Resource.isInstance(value)) return [value];
  return Object.values(value).flatMap((v) => resourcesIn(v, seen));
};

/** Options of {@link declareStack}. */
export type DeclareOptions = Partial<Omit<ShiplogStackInput, 'names' | 'subscriptions' | 'declareFunction'>> & {
  stage?: string;
  /** The physical name of a declared function (default: its spec's name). */
  functionName?: (spec: FunctionSpec, prefix: string) => string;
  /** What `sst.config.ts` declares beside the stack (the hosted dashboard and its sign-in), under the same mocks. */
  also?: (cloud: Cloud, stack: ReturnType<typeof declareShiplog>, declareFunction: DeclareFunction) => unknown;
};

/**
 * Declares the stack under fresh Pulumi mocks (stage `ci` unless told) and waits until every
 * resource is registered. Functions are raw `aws.lambda.Function`s (SST's `sst.aws.Function` does
 * the same plus bundling) carrying their spec's handler, environment and timeout.
 *
 * @example
 * const s = await declareStack(subscriptions, { stage: 'box', siteDomain: 'localhost' });
 * s.one('aws:codebuild/project:Project', 'Build').state.name; // 'shiplog-box-build'
 */
export const declareStack = async (subs: Subscription[] = topology, options: DeclareOptions = {}) => {
  const registered: Registered[] = [];
  const providerRegions = new Map<string, string>();
  const { stage = 'ci', functionName = (spec) => spec.name, also, ...rest } = options;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        // A provider reference is `<urn>::<id>`; an explicit provider's region is its resources'.
        const providerRegion = args.provider ? providerRegions.get(args.provider.split('::').pop() ?? '') : undefined;
        const state = stateOf({ type: args.type, name: args.name, inputs, ...(providerRegion ? { region: providerRegion } : {}) });
        const id = idOf({ type: args.type, name: args.name, inputs });
        if (args.type === 'pulumi:providers:aws' && typeof inputs.region === 'string') providerRegions.set(id, inputs.region);
        registered.push({ type: args.type, name: args.name, inputs, state, id, ...(providerRegion ? { providerRegion } : {}) });
        return { id, state };
      },
      call: (args) =>
        args.token === 'aws:index/getCallerIdentity:getCallerIdentity'
          ? { accountId: DECLARED_ACCOUNT, arn: `arn:aws:iam::${DECLARED_ACCOUNT}:user/ci`, userId: 'ci', id: DECLARED_ACCOUNT }
          : args.token === 'aws:index/getRegion:getRegion' ? { region: DECLARED_REGION, name: DECLARED_REGION, id: DECLARED_REGION }
          : args.token === 'aws:cloudfront/getConnectionGroup:getConnectionGroup' ? { ...args.inputs, routingEndpoint: DECLARED_ROUTING_ENDPOINT }
          : args.token === 'aws:secretsmanager/getRandomPassword:getRandomPassword' ? { ...args.inputs, randomPassword: 'mocked-random-password'.padEnd(Number(args.inputs.passwordLength ?? 32), '0'), id: 'random' }
          : args.inputs,
    },
    'shiplog',
    stage,
    false,
  );
  const specs: FunctionSpec[] = [];
  const functions: aws.lambda.Function[] = [];
  const names = stackNames('shiplog', stage);
  const declareFunction: DeclareFunction = (spec) => {
    specs.push(spec);
    const name = functionName(spec, names.prefix);
    const fn = new aws.lambda.Function(spec.name, {
      name,
      role: `arn:aws:iam::${DECLARED_ACCOUNT}:role/${name}`,
      handler: spec.handler,
      runtime: 'nodejs22.x',
      description: spec.description,
      environment: { variables: spec.environment },
      ...(spec.timeoutSeconds ? { timeout: spec.timeoutSeconds } : {}),
      code: new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export {}') }),
    });
    functions.push(fn);
    return { name: fn.name, arn: fn.arn };
  };
  const stack = declareShiplog(
    { aws, pulumi },
    {
      names,
      subscriptions: subs,
      protect: stage === 'production',
      siteDomain: 'apps.example.com',
      ...rest,
      declareFunction,
    },
  );
  const extra = also?.({ aws, pulumi }, stack, declareFunction);
  await resolved(pulumi.all([...resourcesIn(stack), ...resourcesIn(extra), ...functions].map((r) => r.urn)));
  const ofType = (type: string) => registered.filter((r) => r.type === type);
  const one = (type: string, name: string): Registered => {
    const found = registered.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) throw new Error(`${found.length} resources ${type} ${name}, expected 1`);
    return found[0] as Registered;
  };
  const spec = (name: string): FunctionSpec => {
    const found = specs.find((f) => f.name === name);
    if (!found) throw new Error(`no function ${name}`);
    return found;
  };
  const functionArn = (name: string) => realArn['aws:lambda/function:Function']!(name);
  return { stack, names, registered, specs, spec, ofType, one, functionArn };
};

/** A declared stack. */
export type DeclaredStack = Awaited<ReturnType<typeof declareStack>>;
