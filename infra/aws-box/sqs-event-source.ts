import { ListEventSourceMappingsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import type { InvokeOutcome } from './lambda.ts';
import { BOX_REGION, sqsQueueUrl } from './moto.ts';

// moto keeps Lambda's event source mappings but never polls them. This stand-in is Lambda's SQS
// poller for the box: for each enabled SQS mapping in moto it receives up to the mapping's batch
// size, invokes the function synchronously with the SQS event Lambda builds, deletes what
// succeeded and hands the rest back to the queue. With `ReportBatchItemFailures` only the messages
// the function names come back; a function error brings the whole batch back. The queue's own
// redrive policy (moto applies it on receive) dead-letters a message received too often.

/** Options of {@link sqsEventSourceStandIn}. */
export interface SqsEventSourceOptions {
  /** moto's Lambda, for the mappings. */
  lambda: LambdaClient;
  /** SQS on the box's endpoint. */
  sqs: SQSClient;
  awsEndpoint: string;
  invoke: (functionArn: string, event: unknown) => Promise<InvokeOutcome>;
  /**
   * How long a message that failed stays invisible before it is received again. Lambda leaves it
   * for the queue's visibility timeout (minutes); the box keeps the order and shortens the wait.
   * Default 1 s.
   */
  retryVisibilitySeconds?: number;
  log?: (line: string) => void;
}

interface Mapping {
  uuid: string;
  queueArn: string;
  queueUrl: string;
  functionArn: string;
  batchSize: number;
  reportsItemFailures: boolean;
}

/** The SQS event Lambda hands a function, for received messages of one queue. */
const sqsEvent = (queueArn: string, messages: Message[]) => ({
  Records: messages.map((m) => ({
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: m.Attributes ?? {},
    messageAttributes: m.MessageAttributes ?? {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: BOX_REGION,
  })),
});

/**
 * Lambda's SQS event source mappings, run on the box.
 *
 * @example
 * const sources = sqsEventSourceStandIn({ lambda: motoLambda, sqs, awsEndpoint, invoke: (arn, e) => lambda.invoke(arn, undefined, e) });
 * await sources.start();
 * await sources.idle(); // nothing received and not yet settled
 */
export const sqsEventSourceStandIn = (opts: SqsEventSourceOptions) => {
  const log = opts.log ?? (() => {});
  const retryVisibility = opts.retryVisibilitySeconds ?? 1;
  let running = false;
  const loops: Promise<void>[] = [];
  let busy = 0;
  const settled: (() => void)[] = [];

  const handle = async (m: Mapping, messages: Message[]) => {
    const out = await opts.invoke(m.functionArn, sqsEvent(m.queueArn, messages)).catch((err: unknown): InvokeOutcome => ({
      executedVersion: '$LATEST', error: { errorType: 'ServiceException', errorMessage: (err as Error).message },
    }));
    let failed: Set<string>;
    if (out.error) {
      log(`sqs event source: ${m.functionArn} failed on a batch of ${messages.length}: ${out.error.errorMessage}`);
      failed = new Set(messages.map((x) => x.MessageId!));
    } else if (m.reportsItemFailures) {
      const reported = (out.payload as { batchItemFailures?: { itemIdentifier?: string }[] } | null)?.batchItemFailures ?? [];
      failed = new Set(reported.map((f) => f.itemIdentifier ?? ''));
    } else failed = new Set();
    const done = messages.filter((x) => !failed.has(x.MessageId!));
    const back = messages.filter((x) => failed.has(x.MessageId!));
    if (done.length > 0) {
      await opts.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: m.queueUrl, Entries: done.map((x, i) => ({ Id: String(i), ReceiptHandle: x.ReceiptHandle! })) }));
    }
    if (back.length > 0) {
      await opts.sqs.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: m.queueUrl, Entries: back.map((x, i) => ({ Id: String(i), ReceiptHandle: x.ReceiptHandle!, VisibilityTimeout: retryVisibility })),
      }));
    }
  };

  const poll = async (m: Mapping) => {
    while (running) {
      try {
        const res = await opts.sqs.send(new ReceiveMessageCommand({
          QueueUrl: m.queueUrl, MaxNumberOfMessages: Math.min(m.batchSize, 10), WaitTimeSeconds: 1, AttributeNames: ['All'], MessageAttributeNames: ['All'],
        }));
        const messages = res.Messages ?? [];
        if (messages.length === 0) continue;
        busy++;
        try {
          await handle(m, messages);
        } finally {
          busy--;
          if (busy === 0) for (const done of settled.splice(0)) done();
        }
      } catch (err) {
        if (!running) return;
        log(`sqs event source: ${m.queueArn}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };

  return {
    /** Reads the mappings from moto and starts polling each enabled SQS one. */
    async start(): Promise<Mapping[]> {
      const mappings: Mapping[] = [];
      let Marker: string | undefined;
      do {
        const page = await opts.lambda.send(new ListEventSourceMappingsCommand({ Marker }));
        for (const e of page.EventSourceMappings ?? []) {
          if (!e.EventSourceArn?.startsWith('arn:aws:sqs:') || !e.FunctionArn || e.State === 'Disabled') continue;
          mappings.push({
            uuid: e.UUID!, queueArn: e.EventSourceArn, queueUrl: sqsQueueUrl(e.EventSourceArn, opts.awsEndpoint)!, functionArn: e.FunctionArn,
            batchSize: e.BatchSize ?? 10, reportsItemFailures: (e.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
          });
        }
        Marker = page.NextMarker;
      } while (Marker);
      running = true;
      for (const m of mappings) loops.push(poll(m));
      return mappings;
    },
    /** Resolves once no received batch is being handled. */
    idle: (): Promise<void> => (busy === 0 ? Promise.resolve() : new Promise((r) => settled.push(r))),
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops.splice(0));
    },
  };
};
