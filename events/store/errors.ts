/**
 * Base class of every error the event store raises on purpose.
 *
 * @example
 * try { await store.append(...) } catch (e) { if (e instanceof EventStoreError) ... }
 */
export class EventStoreError extends Error {
  override name = 'EventStoreError';
}

/**
 * The stream was not at the expected version: someone else appended first (or the expected
 * version is ahead of the stream). Reload, decide again, append again.
 *
 * @example
 * await expect(store.append('s', [e], { expectedVersion: 0 })).rejects.toBeInstanceOf(VersionConflictError);
 */
export class VersionConflictError extends EventStoreError {
  override name = 'VersionConflictError';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, expected ${expectedVersion}`);
  }
}

/**
 * One event is larger than a DynamoDB item may be (400 KB).
 *
 * @example
 * err.limitBytes; // 409600
 */
export class EventTooLargeError extends EventStoreError {
  override name = 'EventTooLargeError';
  constructor(
    readonly eventId: string,
    readonly type: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `event ${type} ${eventId} is ${sizeBytes} bytes stored; DynamoDB items are limited to ${limitBytes} bytes: ` +
        'keep large payloads (logs, artifacts) elsewhere and reference them',
    );
  }
}

/**
 * One append holds more than a DynamoDB transaction can (100 actions, 4 MB).
 *
 * @example
 * err.maxEvents; // 99 when appending to an existing stream
 */
export class BatchTooLargeError extends EventStoreError {
  override name = 'BatchTooLargeError';
  constructor(message: string) {
    super(message);
  }
}

/** A stored item could not be read back as an event (corruption or an incompatible writer). */
export class CorruptEventError extends EventStoreError {
  override name = 'CorruptEventError';
}
