import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand, type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from '../envelope.ts';
import type { DeadLetter } from './local/journal.ts';

/**
 * Options of {@link sqsDeadLetters}.
 *
 * @example
 * sqsDeadLetters({ sqs, lambda, queueName: (s) => `shiplog-${s}-dlq` });
 */
export interface SqsDeadLettersOptions {
  sqs: SQSClient;
  lambda: LambdaClient;
  /** The dead-letter queue of a subscription, by name. */
  queueName: (subscription: string) => string;
  /** How long messages stay hidden from other readers while a listing or redrive runs; default 30 s. */
  hideSeconds?: number;
  /** At most this many letters are read per queue; default 1000. */
  maxMessages?: number;
}

type Attrs = Message['MessageAttributes'];
const attr = (attrs: Attrs, name: string): string | undefined => attrs?.[name]?.StringValue;

/** What the Lambda service sends to an on-failure destination (Lambda's "invocation record"). */
interface InvocationRecord {
  timestamp?: string;
  requestContext: { functionArn?: string; condition?: string; approximateInvokeCount?: number };
  requestPayload: unknown;
  responseContext?: { functionError?: string };
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

const isInvocationRecord = (body: unknown): body is InvocationRecord =>
  typeof body === 'object' && body !== null && 'requestContext' in body && 'requestPayload' in body;

const isEvent = (e: unknown): e is EventBridgeEvent =>
  typeof e === 'object' && e !== null && typeof (e as { 'detail-type'?: unknown })['detail-type'] === 'string' && typeof (e as { detail?: unknown }).detail === 'object';

// A qualified function ARN (`…:function:name:$LATEST`) as the function's own ARN.
const unqualified = (arn: string): string => arn.split(':').slice(0, 7).join(':');

/**
 * One SQS message of a subscription's dead-letter queue as a {@link DeadLetter}, and the function
 * it failed to reach. Both senders of these queues are read: EventBridge's target DLQ (the event
 * as the body, the failure in message attributes) and Lambda's on-failure destination (an
 * invocation record around the event). Anything else is not a dead letter of ours: undefined.
 *
 * @example
 * const parsed = readDeadLetter('DeployOnBuildSucceeded', message); // { letter, target: 'arn:aws:lambda:…:function:…' }
 */
export const readDeadLetter = (subscription: string, m: Message): { letter: DeadLetter; target: string | undefined } | undefined => {
  let body: unknown;
  try {
    body = JSON.parse(m.Body ?? '');
  } catch {
    return undefined;
  }
  const sent = Number(m.Attributes?.SentTimestamp);
  const deadLetteredAt = Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : new Date(0).toISOString();
  const id = m.MessageId ?? '';
  if (isInvocationRecord(body)) {
    if (!isEvent(body.requestPayload)) return undefined;
    const { requestContext: ctx, responsePayload: res } = body;
    return {
      letter: {
        id, subscription, event: body.requestPayload,
        errorCode: ctx.condition === 'EventAgeExceeded' ? 'MaximumEventAgeExceeded' : 'RetryAttemptsExhausted',
        errorMessage: res?.errorMessage ? `${res.errorType ?? 'Error'}: ${res.errorMessage}` : (body.responseContext?.functionError ?? ctx.condition ?? 'failed'),
        attempts: ctx.approximateInvokeCount ?? 0,
        receivedAt: body.requestPayload.time, deadLetteredAt: body.timestamp ?? deadLetteredAt,
      },
      target: ctx.functionArn ? unqualified(ctx.functionArn) : undefined,
    };
  }
  if (!isEvent(body)) return undefined;
  const attrs = m.MessageAttributes;
  const code = attr(attrs, 'ERROR_CODE');
  return {
    letter: {
      id, subscription, event: body,
      errorCode: attr(attrs, 'EXHAUSTED_RETRY_CONDITION') === 'MaximumEventAgeInSeconds' ? 'MaximumEventAgeExceeded' : 'RetryAttemptsExhausted',
      errorMessage: [code, attr(attrs, 'ERROR_MESSAGE')].filter(Boolean).join(': ') || 'not delivered',
      attempts: Number(attr(attrs, 'RETRY_ATTEMPTS') ?? 0) + 1,
      receivedAt: body.time, deadLetteredAt,
    },
    target: attr(attrs, 'TARGET_ARN'),
  };
};

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * The subscriptions' dead letters on AWS: each subscription's SQS queue, which both its
 * EventBridge target and its function's failed asynchronous invocations send to
 * (`infra/aws/subscription.ts`). SQS has no way to look without taking, so `list` receives every
 * message (hidden for `hideSeconds`) and makes them visible again at once; `redrive` invokes the
 * function each letter failed to reach asynchronously with the original event (so Lambda's
 * retries and the on-failure destination apply again, as to a first delivery) and deletes the
 * letter, and makes the others visible again. A listing that runs while another one does may
 * miss letters the other holds hidden.
 *
 * @example
 * const dlq = sqsDeadLetters({ sqs: new SQSClient({}), lambda: new LambdaClient({}), queueName: (s) => `shiplog-${s}-dlq` });
 * await dlq.list('DeployOnBuildSucceeded');
 * await dlq.redrive('DeployOnBuildSucceeded'); // 2
 */
export const sqsDeadLetters = ({ sqs, lambda, queueName, hideSeconds = 30, maxMessages = 1000 }: SqsDeadLettersOptions) => {
  const urls = new Map<string, string>();
  const urlOf = async (subscription: string): Promise<string> => {
    const known = urls.get(subscription);
    if (known) return known;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName(subscription) }));
    if (!QueueUrl) throw new Error(`no dead-letter queue for ${subscription}`);
    urls.set(subscription, QueueUrl);
    return QueueUrl;
  };
  const receiveAll = async (QueueUrl: string): Promise<Message[]> => {
    const out: Message[] = [];
    const seen = new Set<string>();
    while (out.length < maxMessages) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
        QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: hideSeconds, WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['SentTimestamp'],
      }));
      const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId) && seen.add(m.MessageId));
      if (fresh.length === 0) break;
      out.push(...fresh);
    }
    return out;
  };
  const release = async (QueueUrl: string, messages: Message[]): Promise<void> => {
    for (const batch of chunks(messages, 10)) {
      await sqs.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl, Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }));
    }
  };
  return {
    list: async (subscription: string): Promise<DeadLetter[]> => {
      const url = await urlOf(subscription);
      const messages = await receiveAll(url);
      await release(url, messages);
      return messages.map((m) => readDeadLetter(subscription, m)?.letter).filter((l): l is DeadLetter => l !== undefined);
    },
    redrive: async (subscription: string, ids?: string[]): Promise<number> => {
      const url = await urlOf(subscription);
      const messages = await receiveAll(url);
      const done: Message[] = [];
      try {
        for (const m of messages) {
          const parsed = readDeadLetter(subscription, m);
          if (!parsed?.target || (ids && !ids.includes(parsed.letter.id))) continue;
          await lambda.send(new InvokeCommand({ FunctionName: parsed.target, InvocationType: 'Event', Payload: JSON.stringify(parsed.letter.event) }));
          done.push(m);
        }
      } finally {
        for (const batch of chunks(done, 10)) {
          await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
        }
        await release(url, messages.filter((m) => !done.includes(m)));
      }
      return done.length;
    },
  };
};
