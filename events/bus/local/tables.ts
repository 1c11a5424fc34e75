import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableIfMissing, pkSkTableDefinition } from '../../store/table.ts';

/**
 * The local bus keeps two tables, so a restart loses nothing:
 * - deliveries: what each subscription still has to receive (pk = subscription, sk = event id);
 * - dead letters: what a subscription could not take (pk = subscription, sk = dead-letter id).
 *
 * @example
 * await createLocalBusTables(client, { deliveries: 'shiplog-bus-deliveries', deadLetters: 'shiplog-dlq' });
 */
export interface LocalBusTables {
  deliveries: string;
  deadLetters: string;
}

export const createLocalBusTables = async (client: DynamoDBClient, tables: LocalBusTables): Promise<void> => {
  for (const TableName of [tables.deliveries, tables.deadLetters]) {
    await createTableIfMissing(client, pkSkTableDefinition(TableName));
  }
};
