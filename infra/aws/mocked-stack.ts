import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import type { Subscription } from '../topology-types.ts';
import { declareShiplog, stackNames, type FunctionSpec, type ShiplogStackInput } from './index.ts';

// The stack from infra/aws, declared under Pulumi mocks for the *.int.test.ts files here: no AWS,
// no SST. What the tests check is what the declaration hands to Pulumi, which is what
// `sst deploy` would send to AWS. Resource state echoes the inputs plus AWS-shaped ARNs.

/**
 * The account every mocked stack is in.
 *
 * @example
 * `arn:aws:iam::${ACCOUNT}:role/shiplog-ci-site`;
 */
export const ACCOUNT = '123456789012';
/**
 * The region every mocked stack is in.
 *
 * @example
 * `arn:aws:lambda:${REGION}:${ACCOUNT}:function:shiplog-ci-site-*`;
 */
export const REGION = 'eu-west-1';
/**
 * Mocked buckets are named from their `bucketPrefix` with this suffix.
 *
 * @example
 * `shiplog-ci-artifacts-${BUCKET_SUFFIX}`; // the artifacts bucket of stage ci
 */
export const BUCKET_SUFFIX = 'mock';

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
}

/**
 * The ARN a mocked resource gets when the tests do not need a real-looking one.
 *
 * @example
 * arnOf('aws:sqs/queue:Queue', 'shiplog-ci-x-dlq'); // 'arn:aws:sqs:eu-west-1:123456789012:queue/shiplog-ci-x-dlq'
 */
export const arnOf = (type: string, name: string): string => {
  const [, service = 'x', kind = 'x'] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
  return `arn:aws:${service}:${REGION}:${ACCOUNT}:${kind}/${name}`;
};

const realArn: Record<string, (name: string) => string> = {
  'aws:lambda/function:Function': (n) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${n}`,
  'aws:s3/bucket:Bucket': (n) => `arn:aws:s3:::${n}`,
  'aws:cloudwatch/logGroup:LogGroup': (n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`,
  'aws:codebuild/project:Project': (n) => `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${n}`,
  'aws:iam/role:Role': (n) => `arn:aws:iam::${ACCOUNT}:role/${n}`,
};

const stateOf = (args: { type: string; name: string; inputs: Record<string, unknown> }): Record<string, unknown> => {
  const prefix = args.inputs.bucketPrefix as string | undefined;
  const name = prefix ? `${prefix}${BUCKET_SUFFIX}` : ((args.inputs.name as string | undefined) ?? args.name);
  const arn = realArn[args.type]?.(name) ?? arnOf(args.type, name);
  const extra: Record<string, unknown> =
    args.type === 'aws:dynamodb/table:Table' ? { streamArn: `${arn}/stream/2026-01-01T00:00:00.000` }
    : args.type === 'aws:sqs/queue:Queue' ? { url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}` }
    : args.type === 'aws:s3/bucket:Bucket' ? { bucket: name }
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

/**
 * Declares the stack under fresh mocks (stage `ci` unless told) and waits until every resource
 * is registered. Functions are raw `aws.lambda.Function`s named after their spec.
 *
 * @example
 * const s = await declareUnderMocks(subscriptions);
 * s.one('aws:codebuild/project:Project', 'Build').inputs.name; // 'shiplog-ci-build'
 */
export const declareUnderMocks = async (
  subs: Subscription[],
  options: Partial<Omit<ShiplogStackInput, 'names' | 'subscriptions' | 'declareFunction'>> & { stage?: string } = {},
) => {
  const registered: Registered[] = [];
  const { stage = 'ci', ...rest } = options;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        registered.push({ type: args.type, name: args.name, inputs });
        const state = stateOf({ type: args.type, name: args.name, inputs });
        return { id: args.type === 'aws:s3/bucket:Bucket' ? (state.bucket as string) : `${args.name}-id`, state };
      },
      call: (args) =>
        args.token === 'aws:index/getCallerIdentity:getCallerIdentity' ? { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: 'ci', id: ACCOUNT }
        : args.token === 'aws:index/getRegion:getRegion' ? { region: REGION, name: REGION, id: REGION }
        : args.inputs,
    },
    'shiplog',
    stage,
    false,
  );
  const specs: FunctionSpec[] = [];
  const functions: aws.lambda.Function[] = [];
  const names = stackNames('shiplog', stage);
  const stack = declareShiplog(
    { aws, pulumi },
    {
      names,
      subscriptions: subs,
      protect: stage === 'production',
      siteDomain: 'apps.example.com',
      ...rest,
      declareFunction: (spec) => {
        specs.push(spec);
        const fn = new aws.lambda.Function(spec.name, {
          name: spec.name,
          role: `arn:aws:iam::${ACCOUNT}:role/${spec.name}`,
          handler: spec.handler,
          runtime: 'nodejs22.x',
          code: new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export {}') }),
        });
        functions.push(fn);
        return { name: fn.name, arn: fn.arn };
      },
    },
  );
  await resolved(pulumi.all([...resourcesIn(stack), ...functions].map((r) => r.urn)));
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

/**
 * Asserts a declared table's inputs equal a code table definition (as `tableArgsFrom` should
 * have carried it over): name, billing, attributes, keys and every index with its projection.
 *
 * @example
 * expectTableFrom(s.one(Table, 'Views').inputs, viewsTableDefinition(s.names.viewsTable));
 */
export const expectTableFrom = (table: Record<string, unknown>, def: CreateTableCommandInput): void => {
  expect(table.name).toBe(def.TableName);
  expect(table.billingMode).toBe(def.BillingMode);
  expect(table.attributes).toEqual(def.AttributeDefinitions?.map((a) => ({ name: a.AttributeName, type: a.AttributeType })));
  expect(table.hashKey).toBe(def.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName);
  expect(table.rangeKey).toBe(def.KeySchema?.find((k) => k.KeyType === 'RANGE')?.AttributeName);
  expect(table.globalSecondaryIndexes).toEqual(
    def.GlobalSecondaryIndexes?.map((g) => ({
      name: g.IndexName,
      keySchemas: g.KeySchema?.map((k) => ({ attributeName: k.AttributeName, keyType: k.KeyType })),
      projectionType: g.Projection?.ProjectionType,
      nonKeyAttributes: g.Projection?.NonKeyAttributes,
    })),
  );
};
