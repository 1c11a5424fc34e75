import { EventMetadata } from '../../../events/index.ts';

/**
 * One DynamoDB stream record as the outbox pipe hands it to its enrichment: only the parts of
 * the stored item the outbox reads (`source`, `type`, `detail` as written by `events/store`).
 *
 * @example
 * const r: OutboxStreamRecord = { eventName: 'INSERT', dynamodb: { NewImage: { type: { S: 'BuildStarted' } } } };
 */
export interface OutboxStreamRecord {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, { S?: string } | undefined> };
}

/**
 * What the enrichment returns per record; the pipe's target parameters read `$.source`,
 * `$.detailType` and `$.time` from it, and its input template makes `$.detail` the event's detail.
 *
 * @example
 * const e: OutboxEntry = { source: 'shiplog.build', detailType: 'BuildStarted', time, detail: { metadata, data } };
 */
export interface OutboxEntry {
  source: string;
  detailType: string;
  time: string;
  detail: { metadata: EventMetadata; data: unknown };
}

/**
 * A stored item the outbox cannot publish; the pipe retries, bisects, then dead-letters it.
 *
 * @example
 * throw new OutboxRecordError('BuildStarted: detail is not JSON');
 */
export class OutboxRecordError extends Error {
  override name = 'OutboxRecordError';
}

const attr = (record: OutboxStreamRecord, name: string): string => {
  const value = record.dynamodb?.NewImage?.[name]?.S;
  if (value === undefined) throw new OutboxRecordError(`stream record has no string attribute "${name}"`);
  return value;
};

/**
 * Turns one stored event (a stream record's new image) into the bus entry. EventBridge Pipes
 * cannot do this with an input template alone: `detail` is a DynamoDB string holding JSON, and
 * Pipes only parses JSON held in a string for SQS bodies, Kinesis/Kafka/MQ data, not for DynamoDB
 * attributes, so a template would publish it as an escaped string.
 *
 * @example
 * toOutboxEntry({ dynamodb: { NewImage: { source: { S: 'shiplog.build' }, type: { S: 'BuildStarted' }, detail: { S: json } } } });
 * // { source: 'shiplog.build', detailType: 'BuildStarted', time: metadata.occurredAt, detail: { metadata, data } }
 */
export const toOutboxEntry = (record: OutboxStreamRecord): OutboxEntry => {
  const source = attr(record, 'source');
  const detailType = attr(record, 'type');
  let parsed: unknown;
  try {
    parsed = JSON.parse(attr(record, 'detail'));
  } catch {
    throw new OutboxRecordError(`${detailType}: detail is not JSON`);
  }
  const detail = parsed as { metadata?: unknown; data?: unknown } | null;
  const metadata = EventMetadata.safeParse(detail?.metadata);
  if (!metadata.success || detail === null || !('data' in detail)) {
    throw new OutboxRecordError(`${detailType}: detail is not { metadata, data }`);
  }
  // Validated, then published as stored: the bus carries exactly the detail the store holds.
  return { source, detailType, time: metadata.data.occurredAt, detail: detail as OutboxEntry['detail'] };
};

/**
 * The outbox pipe's enrichment Lambda: a batch of stream records in, one entry per record out,
 * in the same order (the pipe sends entry i to the bus for record i).
 *
 * @example
 * await handler([record]); // [{ source, detailType, time, detail }]
 */
export const handler = async (records: OutboxStreamRecord[]): Promise<OutboxEntry[]> => records.map(toOutboxEntry);
