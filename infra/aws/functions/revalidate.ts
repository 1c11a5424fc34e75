import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsRevalidation } from '../runtime/revalidation.ts';

/**
 * `IsrRevalidate`: the sites' ISR revalidation queue's consumer (an SQS event source mapping with
 * partial batch responses, `infra/aws/site-cache.ts`). Stage-wide: one function for every
 * project's stale pages (`infra/aws/runtime/revalidation.ts`).
 *
 * @example
 * new aws.lambda.EventSourceMapping('IsrRevalidateQueue', { eventSourceArn: queue.arn, functionName: fn.name, functionResponseTypes: ['ReportBatchItemFailures'] });
 */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> => awsRevalidation()(event);
