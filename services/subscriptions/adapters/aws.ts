import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { monotonicFactory } from 'ulid';
import { dynamoEventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import { AwsRuntimeEnv } from '../../../infra/aws/runtime/deps.ts';
import type { SigningSecrets } from '../ports.ts';
import { subscriptionsService } from '../service.ts';
import { fetchWebhookSender } from './fetch.ts';

// TODO(when the AWS runtime has a secret store, e.g. SSM SecureString): use it here and serve
// the subscription routes on AWS. Until then no subscription can be created on AWS, so no
// delivery ever asks for a secret; if one does, it fails loudly and lands in the DLQ.
const noSecretStore: SigningSecrets = {
  put: () => Promise.reject(new Error('the AWS runtime has no signing-secret store yet')),
  get: () => Promise.reject(new Error('the AWS runtime has no signing-secret store yet')),
};

let service: ReturnType<typeof subscriptionsService> | undefined;

/**
 * The subscriptions service on AWS, made on first use (importing the Lambda module needs no
 * environment).
 *
 * @example
 * export const onEvent = (e: unknown) => awsSubscriptions().onEvent(e);
 */
export const awsSubscriptions = (): ReturnType<typeof subscriptionsService> => {
  if (service) return service;
  const env = process.env;
  const tableName = env[AwsRuntimeEnv.eventsTable];
  if (!tableName) throw new Error(`${AwsRuntimeEnv.eventsTable} is not set: this shiplog function needs it`);
  const client = new DynamoDBClient({});
  const idempotencyTable = env[AwsRuntimeEnv.idempotencyTable];
  const ids = monotonicFactory();
  service = subscriptionsService({
    store: dynamoEventStore({ client, tableName, types: eventTypes }),
    secrets: noSecretStore,
    sender: fetchWebhookSender(),
    ids: () => ids(),
    now: () => new Date().toISOString(),
    secretRefScheme: 'ssm',
    ...(idempotencyTable ? { idempotency: { client, tableName: idempotencyTable } } : {}),
  });
  return service;
};
