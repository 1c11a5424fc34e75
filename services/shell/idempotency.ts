import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  DescribeTimeToLiveCommand, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { createTableIfMissing } from '../../events/index.ts';

/**
 * Where and how long a handler remembers the events it handled.
 *
 * @example
 * const idempotency: IdempotencyOptions = { client, tableName: 'shiplog-idempotency', expiresAfterSeconds: 86_400 };
 */
export interface IdempotencyOptions {
  client: DynamoDBClient;
  tableName: string;
  /**
   * How long a handled event id is remembered (default 24 h, EventBridge's longest retry window).
   * A redelivery after that runs `handle` again.
   */
  expiresAfterSeconds?: number;
  /**
   * Outside Lambda (no remaining time to read), how long a started delivery holds its event id.
   * If the process dies mid-`handle`, a redelivery after this takes over (default 60 s).
   */
  inProgressTimeoutMs?: number;
  /** Key prefix of the records (default: the handler name), so two subscriptions of one event do not collide. */
  keyPrefix?: string;
}

/** Powertools' record layout: `id` (hash key), `expiration` (epoch seconds, the TTL attribute), `status`, `data`. */
const KEY_ATTRIBUTE = 'id';
const TTL_ATTRIBUTE = 'expiration';

/**
 * The idempotency table as Powertools' `DynamoDBPersistenceLayer` expects it, shared by the local
 * runtime, the tests and (mirrored) `infra/aws`. TTL on `expiration` is set separately.
 *
 * @example
 * idempotencyTableDefinition('shiplog-idempotency').KeySchema; // [{ AttributeName: 'id', KeyType: 'HASH' }]
 */
export const idempotencyTableDefinition = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: KEY_ATTRIBUTE, AttributeType: 'S' }],
  KeySchema: [{ AttributeName: KEY_ATTRIBUTE, KeyType: 'HASH' }],
});

/**
 * Creates the idempotency table unless it exists, waits until it is active and enables TTL on
 * `expiration` so expired records go away. Safe to call on every start.
 *
 * @example
 * await createIdempotencyTable(dynamoClient(endpoint), 'shiplog-idempotency');
 */
export const createIdempotencyTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  await createTableIfMissing(client, idempotencyTableDefinition(tableName));
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  // UpdateTimeToLive refuses to enable TTL twice, so look first.
  if (ttl?.AttributeName === TTL_ATTRIBUTE && (ttl.TimeToLiveStatus === 'ENABLED' || ttl.TimeToLiveStatus === 'ENABLING')) return;
  await client.send(new UpdateTimeToLiveCommand({
    TableName: tableName,
    TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
  }));
};

/** The part of a delivery that runs at most once per event id: it receives the event and a Lambda context. */
export type IdempotentRun<E extends { id: string }, X> = (event: E, lambdaContext: Context, extra: X) => Promise<void>;

const localContext = (timeoutMs: number): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'shiplog-local',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:shiplog-local',
  memoryLimitInMB: '0',
  awsRequestId: 'local',
  logGroupName: 'local',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => timeoutMs,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/**
 * Wraps `run` with Powertools' `makeIdempotent` and a `DynamoDBPersistenceLayer` of its own,
 * keyed by the shiplog event id (`event.id`) under `keyPrefix`. Without a Lambda context, a
 * synthetic one gives the in-progress record its expiry. Without options, `run` is returned as is.
 *
 * @example
 * const once = idempotentRun('DeployOnBuildSucceeded', { client, tableName }, run);
 * await once(event, undefined, extra); // a second call with the same event.id does not call run
 */
export const idempotentRun = <E extends { id: string }, X>(
  handler: string,
  options: IdempotencyOptions | undefined,
  run: IdempotentRun<E, X>,
): ((event: E, lambdaContext: Context | undefined, extra: X) => Promise<void>) => {
  if (!options) return (event, lambdaContext, extra) => run(event, lambdaContext ?? localContext(0), extra);
  // One persistence layer per handler: Powertools sets the key prefix on the layer at each call
  // and reads it again when saving the result, so a shared layer would mix handlers' keys.
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: options.tableName, awsSdkV3Client: options.client });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.expiresAfterSeconds ?? 86_400,
  });
  const once = makeIdempotent(run, { persistenceStore, config, keyPrefix: options.keyPrefix ?? handler });
  const fallback = localContext(options.inProgressTimeoutMs ?? 60_000);
  return (event, lambdaContext, extra) => once(event, lambdaContext ?? fallback, extra);
};
