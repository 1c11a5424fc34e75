import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableIfMissing } from '../../events/store/index.ts';

/** The index of the views table that serves lists (deployments of a project, activity, …). */
export const LIST_INDEX = 'byList';

/**
 * The read models' table, one for every projection and generation.
 *
 * | key           | holds                                           | serves                                  |
 * | ------------- | ----------------------------------------------- | --------------------------------------- |
 * | `pk`, `sk`    | `<projection>\|<generation>\|<doc pk>`, doc sk   | a document (GetItem), a partition (Query) |
 * | `pk`          | `<projection>\|<generation>\|applied\|<stream>`  | the stream's applied version (`v`)      |
 * | `pk`, `sk`    | `registry`, projection name                     | which generation serves, which rebuilds |
 * | `lpk`, `lsk`  | `<projection>\|<generation>\|<list>`, sort key   | a list, newest first (GSI `byList`)     |
 *
 * Documents are JSON in `d` with a revision `rev` for conditional updates; a list entry's summary
 * is JSON in `li`, the only attribute the list index carries.
 *
 * @example
 * await createViewsTable(client, 'shiplog-views');
 */
export const viewsTableDefinition = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'lpk', AttributeType: 'S' },
    { AttributeName: 'lsk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: LIST_INDEX,
      KeySchema: [
        { AttributeName: 'lpk', KeyType: 'HASH' },
        { AttributeName: 'lsk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['li'] },
    },
  ],
});

/**
 * Creates the views table unless it exists; safe on every start.
 *
 * @example
 * await createViewsTable(dynamoClient(endpoint), 'shiplog-views');
 */
export const createViewsTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  await createTableIfMissing(client, viewsTableDefinition(tableName));
};
