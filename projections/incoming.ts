import {
  EventMetadata, InvalidEventDataError, isKnownEventType, parseEventData, upcast, UpcastError,
  type EventBridgeEvent, type StoredEvent,
} from '../events/index.ts';
import type { Incoming, ProjectionEvent } from './types.ts';

/**
 * An event no projection can ever read: not a shiplog envelope, or data that fails its schema.
 * Not retryable: the bus sends it to the dead-letter queue at once.
 *
 * @example
 * catch (err) { if (err instanceof InvalidProjectionEventError) err.retryable; // false }
 */
export class InvalidProjectionEventError extends Error {
  override readonly name = 'InvalidProjectionEventError';
  readonly retryable = false;
}

const decode = (type: string, data: unknown, metadata: EventMetadata): ProjectionEvent | undefined => {
  // A newer producer may emit types this code does not know: they only move the stream's version.
  if (!isKnownEventType(type)) return undefined;
  try {
    const current = upcast({ type, data, metadata, position: '', recordedAt: '' });
    return { type, data: parseEventData(type, current.data), metadata: current.metadata } as ProjectionEvent;
  } catch (err) {
    if (err instanceof InvalidEventDataError || err instanceof UpcastError) {
      throw new InvalidProjectionEventError(`${type} ${metadata.eventId} (${metadata.streamId} v${metadata.version}): ${err.message.split('\n')[0]}`);
    }
    throw err;
  }
};

/**
 * Reads an event from the store for the runner (the store already checked the envelope).
 *
 * @example
 * const incoming = fromStored(await store.getEvent(id));
 */
export const fromStored = (e: StoredEvent): Incoming => ({
  streamId: e.metadata.streamId,
  version: e.metadata.version,
  event: decode(e.type, e.data, e.metadata),
});

/**
 * Reads an event delivered by the bus: checks the envelope, upcasts and parses known types.
 * Throws `InvalidProjectionEventError` for anything that is not a shiplog event.
 *
 * @example
 * const incoming = fromBus(ebEvent); // incoming.event is undefined for an unknown type
 */
export const fromBus = (raw: unknown): Incoming => {
  const r = raw as Partial<EventBridgeEvent> | null;
  const type = r?.['detail-type'];
  const parsed = EventMetadata.safeParse(r?.detail?.metadata);
  if (typeof type !== 'string' || !parsed.success) {
    throw new InvalidProjectionEventError(`not a shiplog EventBridge event (detail-type ${String(type)}): ${parsed.error?.issues[0]?.message ?? 'no detail-type'}`);
  }
  const metadata = parsed.data;
  return { streamId: metadata.streamId, version: metadata.version, event: decode(type, r?.detail?.data, metadata) };
};
