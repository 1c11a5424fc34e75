import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../infra/aws-box/moto.ts';
import { sqsDeadLetters } from '../../events/bus/sqs-dead-letters.ts';

// The subscriptions' dead letters on AWS (sqs-dead-letters.ts) against moto's SQS: both senders'
// formats are read, a listing leaves every message in the queue, a redrive invokes the function
// each letter failed to reach and deletes only the letters it redrove. Lambda's async invoke is
// mocked: moto cannot run a function (the AWS box's e2e redrives through its Lambda stand-in).

const fnArn = 'arn:aws:lambda:eu-west-1:123456789012:function:shiplog-Projections';
const event = (id: string) => ({
  version: '0', id, source: 'shiplog.ingest', account: '123456789012', time: '2026-12-04T10:00:00Z', region: 'eu-west-1', resources: [],
  'detail-type': 'ProjectCreated',
  detail: { metadata: { eventId: id, streamId: 'project#web', version: 1 }, data: { projectId: 'web' } },
});
// What Lambda sends to an on-failure destination (AWS docs: "Invocation record").
const lambdaRecord = (id: string) => ({
  version: '1.0', timestamp: '2026-12-04T10:05:00.000Z',
  requestContext: { requestId: 'r-1', functionArn: `${fnArn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
  requestPayload: event(id),
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  responsePayload: { errorType: 'Error', errorMessage: 'boom' },
});

let moto: Moto;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'shiplog-Projections-dlq' }))).QueueUrl!;
}, 60_000);
afterAll(async () => moto?.stop());

const visible = async () =>
  Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages);

describe('sqsDeadLetters', () => {
  it('lists both formats without taking them, and redrives only the chosen ones to their functions', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(lambdaRecord('e-lambda')) }));
    await sqs.send(new SendMessageCommand({
      QueueUrl: queueUrl, MessageBody: JSON.stringify(event('e-rule')),
      // What EventBridge attaches to a target's dead letter.
      MessageAttributes: {
        RULE_ARN: { DataType: 'String', StringValue: 'arn:aws:events:eu-west-1:123456789012:rule/shiplog/shiplog-Projections' },
        TARGET_ARN: { DataType: 'String', StringValue: fnArn },
        ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' },
        ERROR_MESSAGE: { DataType: 'String', StringValue: 'Unable to invoke Lambda function' },
        EXHAUSTED_RETRY_CONDITION: { DataType: 'String', StringValue: 'MaximumRetryAttempts' },
        RETRY_ATTEMPTS: { DataType: 'String', StringValue: '7' },
      },
    }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'not json' }));
    const lambda = new LambdaClient({ region: BOX_REGION, credentials: BOX_CREDENTIALS });
    const invoked = mockClient(lambda);
    invoked.on(InvokeCommand).resolves({ StatusCode: 202 });
    const dlq = sqsDeadLetters({ sqs, lambda, queueName: (s) => `shiplog-${s}-dlq` });

    const letters = await dlq.list('Projections');
    expect(letters.map((l) => l.event.detail.metadata.eventId).sort()).toEqual(['e-lambda', 'e-rule']);
    expect(letters.find((l) => l.event.id === 'e-lambda')).toMatchObject({
      subscription: 'Projections', errorCode: 'RetryAttemptsExhausted', errorMessage: 'Error: boom', attempts: 3, deadLetteredAt: '2026-12-04T10:05:00.000Z',
    });
    expect(letters.find((l) => l.event.id === 'e-rule')).toMatchObject({
      errorCode: 'RetryAttemptsExhausted', errorMessage: 'SDK_CLIENT_ERROR: Unable to invoke Lambda function', attempts: 8,
    });
    expect(Date.parse(letters.find((l) => l.event.id === 'e-rule')!.deadLetteredAt)).toBeGreaterThan(Date.parse('2026-01-01'));
    // Listed, not taken: all three are visible again (the one that is not ours too).
    expect(await visible()).toBe(3);

    const lambdaLetter = letters.find((l) => l.event.id === 'e-lambda')!;
    expect(await dlq.redrive('Projections', [lambdaLetter.id])).toBe(1);
    const calls = invoked.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([{ FunctionName: fnArn, InvocationType: 'Event', Payload: JSON.stringify(event('e-lambda')) }]);
    expect((await dlq.list('Projections')).map((l) => l.event.id)).toEqual(['e-rule']);

    expect(await dlq.redrive('Projections')).toBe(1);
    expect(invoked.commandCalls(InvokeCommand).map((c) => c.args[0].input.FunctionName)).toEqual([fnArn, fnArn]);
    expect(await dlq.list('Projections')).toEqual([]);
    // What no sender of ours wrote stays for a person to look at.
    expect(await visible()).toBe(1);
  });
});
