import type { CreateTableCommandInput, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import type * as AwsModule from '@pulumi/aws';
import { eventStoreTableDefinition } from '../../events/index.ts';
import type { Cloud } from './cloud.ts';

type TableArgs = AwsModule.dynamodb.TableArgs;
type Gsi = AwsModule.types.input.dynamodb.TableGlobalSecondaryIndex;

const keyOf = (schema: KeySchemaElement[] | undefined, type: 'HASH' | 'RANGE'): string | undefined =>
  schema?.find((k) => k.KeyType === type)?.AttributeName;

const required = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`table definition: ${what} is missing`);
  return value;
};

/**
 * Mirrors a DynamoDB `CreateTable` definition (the one the local runtime and the tests create:
 * the event store's, the idempotency table's) as Pulumi table arguments: same attributes, keys, indexes, billing and stream. Anything the
 * mirror does not know how to carry over is an error, so the two cannot drift apart silently.
 *
 * @example
 * tableArgsFrom(eventStoreTableDefinition('shiplog-events')).streamViewType; // 'NEW_IMAGE'
 */
export const tableArgsFrom = (def: CreateTableCommandInput): TableArgs => {
  const unsupported = (['LocalSecondaryIndexes', 'ProvisionedThroughput', 'SSESpecification', 'TableClass'] as const)
    .filter((k) => def[k] !== undefined);
  if (unsupported.length > 0) throw new Error(`table definition: cannot mirror ${unsupported.join(', ')}`);
  const gsis: Gsi[] = (def.GlobalSecondaryIndexes ?? []).map((gsi) => ({
    name: required(gsi.IndexName, 'IndexName'),
    keySchemas: required(gsi.KeySchema, `KeySchema of ${gsi.IndexName}`).map((k) => ({
      attributeName: required(k.AttributeName, 'AttributeName'),
      keyType: required(k.KeyType, 'KeyType'),
    })),
    projectionType: required(gsi.Projection?.ProjectionType, `ProjectionType of ${gsi.IndexName}`),
    ...(gsi.Projection?.NonKeyAttributes ? { nonKeyAttributes: gsi.Projection.NonKeyAttributes } : {}),
  }));
  const stream = def.StreamSpecification;
  return {
    name: required(def.TableName, 'TableName'),
    billingMode: def.BillingMode ?? 'PROVISIONED',
    attributes: required(def.AttributeDefinitions, 'AttributeDefinitions').map((a) => ({
      name: required(a.AttributeName, 'AttributeName'),
      type: required(a.AttributeType, 'AttributeType'),
    })),
    hashKey: required(keyOf(def.KeySchema, 'HASH'), 'the HASH key'),
    ...(keyOf(def.KeySchema, 'RANGE') ? { rangeKey: keyOf(def.KeySchema, 'RANGE') } : {}),
    globalSecondaryIndexes: gsis,
    streamEnabled: stream?.StreamEnabled ?? false,
    ...(stream?.StreamEnabled ? { streamViewType: required(stream.StreamViewType, 'StreamViewType') } : {}),
  };
};

/**
 * Declares the event store table from `eventStoreTableDefinition`. Events are kept forever:
 * point-in-time recovery is on, and `protect` turns on deletion protection (production).
 *
 * @example
 * const table = declareEventStore(cloud, { name: 'shiplog-events', protect: true });
 * table.streamArn; // the outbox's source
 */
export const declareEventStore = ({ aws }: Cloud, opts: { name: string; protect: boolean }) =>
  new aws.dynamodb.Table('EventStore', {
    ...tableArgsFrom(eventStoreTableDefinition(opts.name)),
    pointInTimeRecovery: { enabled: true },
    deletionProtectionEnabled: opts.protect,
  });
