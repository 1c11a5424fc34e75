import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { inject } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../../infra/local/dynamodb-local.ts';

/** A client for the run's DynamoDB Local (started once in global setup). */
export const testDynamoClient = (): DynamoDBClient => dynamoClient(inject('dynamoEndpoint'));

/**
 * A table name no other test file uses: test files run in parallel against one server.
 *
 * @example
 * const tableName = uniqueTableName(import.meta.url, 'events');
 */
export const uniqueTableName = (fileUrl: string, what: string): string => {
  const file = basename(new URL(fileUrl).pathname).replace(/\.test\.ts$/, '').replace(/[^a-zA-Z0-9_.-]/g, '-');
  return `${what}-${file}-${randomBytes(4).toString('hex')}`.slice(0, 255);
};
