import type { EventBridgeEvent } from '../envelope.ts';

/**
 * What a producer puts on the bus: an EventBridge entry with the shiplog detail.
 *
 * @example
 * const entry: BusEntry = { source: Source.build, detailType: 'BuildStarted', detail: { metadata, data } };
 */
export interface BusEntry {
  source: string;
  detailType: string;
  detail: EventBridgeEvent['detail'];
  /** Defaults to `detail.metadata.occurredAt`. */
  time?: string;
  resources?: string[];
}

/**
 * The bus port. On AWS: EventBridge `PutEvents` to the shiplog bus. Locally: the in-process bus.
 * Only the outbox publishes (events reach the bus after they are committed), and `replay`.
 *
 * @example
 * await bus.publish([entry]);
 */
export interface EventBus {
  publish(entries: BusEntry[]): Promise<void>;
}

/**
 * Some entries could not be published after all retries.
 *
 * @example
 * err.failed[0]; // { entry, errorCode: 'ThrottlingException', errorMessage: '...' }
 */
export class PublishFailedError extends Error {
  override name = 'PublishFailedError';
  constructor(readonly failed: { entry: BusEntry; errorCode: string; errorMessage: string }[]) {
    super(
      `${failed.length} event(s) were not published: ` +
        [...new Set(failed.map((f) => `${f.errorCode}: ${f.errorMessage}`))].slice(0, 3).join('; '),
    );
  }
}

/** An entry is larger than EventBridge accepts (256 KB per entry). */
export class EntryTooLargeError extends Error {
  override name = 'EntryTooLargeError';
  constructor(readonly detailType: string, readonly sizeBytes: number) {
    super(`${detailType} is ${sizeBytes} bytes as an EventBridge entry; PutEvents accepts at most 262144`);
  }
}
