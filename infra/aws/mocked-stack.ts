import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import type { Subscription } from '../topology-types.ts';
import { declareStack, type DeclareOptions } from '../aws-box/declared.ts';

// The stack from infra/aws, declared under Pulumi mocks for the *.int.test.ts files here: no AWS,
// no SST (`infra/aws-box/declared.ts`, which the AWS box also creates its resources from).

export {
  arnOf, DECLARED_ACCOUNT as ACCOUNT, DECLARED_BUCKET_SUFFIX as BUCKET_SUFFIX, DECLARED_REGION as REGION, idOf, resolved, stateOf,
  type Registered,
} from '../aws-box/declared.ts';

/**
 * Declares the stack under fresh mocks (stage `ci` unless told); functions are named after their spec.
 *
 * @example
 * const s = await declareUnderMocks(subscriptions);
 * s.one('aws:codebuild/project:Project', 'Build').inputs.name; // 'shiplog-ci-build'
 */
export const declareUnderMocks = (subs: Subscription[], options: DeclareOptions = {}) => declareStack(subs, options);

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
