import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { EventMetadata, NewEvent, StoredEvent } from '../envelope.ts';
import { CorruptEventError } from './errors.ts';
import { GLOBAL_SHARDS } from './table.ts';

/** DynamoDB's item size limit (400 KB, names and values in UTF-8). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's transaction limits. */
export const MAX_TRANSACTION_ACTIONS = 100;
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

export type Item = Record<string, AttributeValue>;

/**
 * What the store needs to know about event types: which source publishes them, which schema
 * version is current, and how to bring an old stored event up to date.
 *
 * @example
 * const types: EventTypeRegistry = { sourceOf: () => 'shiplog.test', schemaVersionOf: () => 1, upcast: (e) => e };
 */
export interface EventTypeRegistry {
  sourceOf(type: string): string;
  schemaVersionOf(type: string): number;
  upcast(event: StoredEvent): StoredEvent;
}

export const streamKey = (streamId: string): string => `s#${streamId}`;

// FNV-1a: a stable spread of streams over the global index shards.
export const shardOf = (streamId: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < streamId.length; i++) {
    h ^= streamId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % GLOBAL_SHARDS;
};

export const globalKey = (shard: number): string => `all#${shard.toString().padStart(2, '0')}`;

export const positionOf = (recordedAt: string, index: number, eventId: string): string =>
  `${recordedAt}#${index.toString().padStart(2, '0')}#${eventId}`;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Stored size of an item as DynamoDB counts it: attribute names plus values. */
export const itemSize = (item: Item): number => {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += utf8(name);
    if (value.S !== undefined) size += utf8(value.S);
    else if (value.N !== undefined) size += Math.ceil(value.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
    else if (value.BOOL !== undefined || value.NULL !== undefined) size += 1;
    else size += utf8(JSON.stringify(value)); // not used by our items; an upper bound
  }
  return size;
};

/** Turns a new event into the table item of its stream version. */
export const toItem = (
  streamId: string,
  version: number,
  event: NewEvent,
  schemaVersion: number,
  source: string,
  recordedAt: string,
  index: number,
): Item => {
  const metadata: EventMetadata = { ...event.metadata, streamId, version, schemaVersion };
  const pos = positionOf(recordedAt, index, metadata.eventId);
  const item: Item = {
    pk: { S: streamKey(streamId) },
    sk: { N: String(version) },
    eventId: { S: metadata.eventId },
    type: { S: event.type },
    source: { S: source },
    pos: { S: pos },
    recordedAt: { S: recordedAt },
    gpk: { S: globalKey(shardOf(streamId)) },
    ppk: { S: metadata.projectId },
    // The outbox publishes `detail` as it is: the EventBridge detail of the event.
    detail: { S: JSON.stringify({ metadata, data: event.data }) },
  };
  if (metadata.deploymentId) item.dpk = { S: metadata.deploymentId };
  return item;
};

/** Reads a stored item back as an event. */
export const fromItem = (item: Item): StoredEvent => {
  const type = item.type?.S;
  const detail = item.detail?.S;
  const pos = item.pos?.S;
  const recordedAt = item.recordedAt?.S;
  if (!type || !detail || !pos || !recordedAt) {
    throw new CorruptEventError(`item ${item.pk?.S}/${item.sk?.N} is not an event`);
  }
  let parsed: { metadata: EventMetadata; data: unknown };
  try {
    parsed = JSON.parse(detail) as { metadata: EventMetadata; data: unknown };
  } catch {
    throw new CorruptEventError(`item ${item.pk?.S}/${item.sk?.N} holds invalid JSON`);
  }
  return { type, data: parsed.data, metadata: parsed.metadata, position: pos, recordedAt };
};
