import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/**
 * The event store's single table.
 *
 * | key             | holds                                   | serves                                 |
 * | --------------- | --------------------------------------- | -------------------------------------- |
 * | `pk`, `sk`      | `s#<streamId>`, version                 | a stream from a version (consistent)   |
 * | `gpk`, `pos`    | `all#<shard>` (hash of stream), position | the whole store in global order        |
 * | `dpk`, `pos`    | deploymentId (sparse)                   | one deployment across all streams      |
 * | `ppk`, `pos`    | projectId                               | one project across all streams         |
 * | `eventId`       | the event id                            | `events get <id>`, retry detection     |
 *
 * `pos` is `<recordedAt ISO>#<index in batch>#<eventId>`: string order is commit-time order.
 * The global index is spread over {@link GLOBAL_SHARDS} partitions so no single partition takes
 * every write; a global read merges the shards.
 *
 * @example
 * await createEventStoreTable(client, 'shiplog-events');
 */
export const GLOBAL_SHARDS = 16;

export const Index = {
  global: 'byGlobalPosition',
  deployment: 'byDeployment',
  project: 'byProject',
  eventId: 'byEventId',
} as const;

/**
 * The table definition, shared by the local runtime, the tests and (mirrored) `infra/aws`.
 *
 * @example
 * eventStoreTableDefinition('shiplog-events').StreamSpecification; // { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' }
 */
export const eventStoreTableDefinition = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'N' },
    { AttributeName: 'gpk', AttributeType: 'S' },
    { AttributeName: 'dpk', AttributeType: 'S' },
    { AttributeName: 'ppk', AttributeType: 'S' },
    { AttributeName: 'pos', AttributeType: 'S' },
    { AttributeName: 'eventId', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: Index.global,
      KeySchema: [
        { AttributeName: 'gpk', KeyType: 'HASH' },
        { AttributeName: 'pos', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
    {
      IndexName: Index.deployment,
      KeySchema: [
        { AttributeName: 'dpk', KeyType: 'HASH' },
        { AttributeName: 'pos', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
    {
      IndexName: Index.project,
      KeySchema: [
        { AttributeName: 'ppk', KeyType: 'HASH' },
        { AttributeName: 'pos', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
    {
      IndexName: Index.eventId,
      KeySchema: [{ AttributeName: 'eventId', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
  ],
  // The outbox reads committed events from the table's stream.
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
});

/**
 * Creates the event store table if it does not exist and waits until it is active.
 * Safe to call on every start.
 *
 * @example
 * await createEventStoreTable(dynamoClient(endpoint), 'shiplog-events');
 */
export const createEventStoreTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  await createTableIfMissing(client, eventStoreTableDefinition(tableName));
};

/**
 * Creates any table from its definition unless it exists, then waits until it is active.
 *
 * @example
 * await createTableIfMissing(client, { TableName: 'x', ... });
 */
export const createTableIfMissing = async (client: DynamoDBClient, def: CreateTableCommandInput): Promise<void> => {
  try {
    await client.send(new CreateTableCommand(def));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: def.TableName });
  const { Table } = await client.send(new DescribeTableCommand({ TableName: def.TableName }));
  if (Table?.TableStatus !== 'ACTIVE') throw new Error(`table ${def.TableName} is ${Table?.TableStatus}`);
};

/**
 * A table keyed by two strings, `pk` and `sk`, on demand: the shape of the local runtime's
 * small tables (bus deliveries, dead letters, outbox checkpoints, secrets).
 *
 * @example
 * await createTableIfMissing(client, pkSkTableDefinition('shiplog-dlq'));
 */
export const pkSkTableDefinition = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
});
