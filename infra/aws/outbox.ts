import type * as AwsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { Cloud, DeclaredFunction } from './cloud.ts';
import { assumeRolePolicy, busPut, policyDocument, queueSend } from './permissions.ts';

/**
 * The pipe's filter: only new items are events (the store never updates or deletes one).
 *
 * @example
 * JSON.stringify(OUTBOX_FILTER); // '{"eventName":["INSERT"]}'
 */
export const OUTBOX_FILTER = { eventName: ['INSERT'] } as const;

/**
 * Where the pipe reads the bus entry from: the enrichment's output for each record
 * (see `outbox-enrich.ts`). `<$.detail>` is unquoted because it is a JSON object.
 *
 * @example
 * OUTBOX_TARGET_PARAMETERS.eventbridgeEventBusParameters.detailType; // '$.detailType'
 */
export const OUTBOX_TARGET_PARAMETERS = {
  eventbridgeEventBusParameters: { source: '$.source', detailType: '$.detailType', time: '$.time' },
  inputTemplate: '<$.detail>',
} as const;

/**
 * How the pipe reads the stream. TRIM_HORIZON: events committed before the pipe existed (up to the
 * stream's 24 h) are still published. A batch that fails is split until the failing record is
 * alone; that record is retried, then its position goes to the outbox dead-letter queue (the
 * event itself stays in the store, from where `shiplog replay` republishes it).
 *
 * @example
 * OUTBOX_STREAM_PARAMETERS.startingPosition; // 'TRIM_HORIZON'
 */
export const OUTBOX_STREAM_PARAMETERS = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 10, // PutEvents takes at most 10 entries
  maximumRetryAttempts: 10,
  onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
} as const;

/**
 * SQS keeps a message at most 14 days; dead letters should wait as long as possible.
 *
 * @example
 * new aws.sqs.Queue('Dlq', { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS });
 */
export const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

/**
 * The outbox: the event store table's stream → an EventBridge Pipe (INSERT records only,
 * enriched by `infra/aws/functions/outbox-enrich.ts`) → the shiplog bus. No handler writes to the bus
 * itself: an event reaches the bus only after it is committed.
 *
 * @example
 * const outbox = declareOutbox(cloud, { prefix: 'shiplog', table, bus, enrich, accountId });
 * outbox.pipe.target; // bus.arn
 */
export const declareOutbox = (
  cloud: Cloud,
  input: {
    prefix: string;
    table: AwsModule.dynamodb.Table;
    bus: AwsModule.cloudwatch.EventBus;
    enrich: DeclaredFunction;
    accountId: Input<string>;
  },
) => {
  const { aws } = cloud;
  const { prefix, table, bus, enrich } = input;
  const deadLetter = new aws.sqs.Queue('OutboxDeadLetter', {
    name: `${prefix}-outbox-dlq`,
    messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
  });
  const role = new aws.iam.Role('OutboxPipeRole', {
    assumeRolePolicy: assumeRolePolicy(cloud, 'pipes.amazonaws.com', input.accountId),
  });
  const policy = new aws.iam.RolePolicy('OutboxPipePolicy', {
    role: role.id,
    policy: policyDocument(cloud, [
      {
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resources: [table.streamArn],
      },
      { actions: ['lambda:InvokeFunction'], resources: [enrich.arn] },
      ...busPut(bus.arn),
      ...queueSend(deadLetter.arn),
    ]),
  });
  const pipe = new aws.pipes.Pipe(
    'Outbox',
    {
      name: `${prefix}-outbox`,
      description: 'shiplog outbox: committed events from the event store stream to the shiplog bus',
      roleArn: role.arn,
      source: table.streamArn,
      sourceParameters: {
        dynamodbStreamParameters: { ...OUTBOX_STREAM_PARAMETERS, deadLetterConfig: { arn: deadLetter.arn } },
        filterCriteria: { filters: [{ pattern: JSON.stringify(OUTBOX_FILTER) }] },
      },
      enrichment: enrich.arn,
      target: bus.arn,
      targetParameters: {
        eventbridgeEventBusParameters: { ...OUTBOX_TARGET_PARAMETERS.eventbridgeEventBusParameters },
        inputTemplate: OUTBOX_TARGET_PARAMETERS.inputTemplate,
      },
    },
    // Pipes checks the role's permissions when the pipe is created.
    { dependsOn: [policy] },
  );
  return { pipe, role, policy, deadLetter };
};
