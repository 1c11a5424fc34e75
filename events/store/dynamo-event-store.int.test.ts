import { afterAll } from 'vitest';
import { createEventStoreTable, dynamoEventStore } from './index.ts';
import { eventStoreContract } from '../../test/contracts/event-store.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';

const client = testDynamoClient();
afterAll(() => client.destroy());

eventStoreContract('dynamo (DynamoDB Local)', async () => {
  const tableName = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, tableName);
  return dynamoEventStore({ client, tableName });
});
