import type { NewEvent, StoredEvent } from '../envelope.ts';

/**
 * The result of an append: the stream's version after it and the events as stored.
 * `duplicate` is true when the same event ids were already stored (a retry) and nothing was written.
 *
 * @example
 * const { nextVersion } = await store.append('build#d1', events, { expectedVersion: 2 });
 */
export interface AppendResult {
  nextVersion: number;
  events: StoredEvent[];
  duplicate: boolean;
}

/**
 * A page of the global order, and the cursor to resume after it (`null` when nothing was read
 * and the caller should keep its own cursor).
 *
 * @example
 * let cursor; do { const page = await store.readAll({ cursor, limit: 500 }); cursor = page.cursor ?? cursor; } while (...)
 */
export interface GlobalPage {
  events: StoredEvent[];
  cursor: string | null;
}

/**
 * The event store port. One implementation (DynamoDB) serves both runtimes: DynamoDB Local
 * speaks the real API.
 *
 * @example
 * const store = dynamoEventStore({ client, tableName: 'shiplog-events' });
 * await store.append('project#web', [created], { expectedVersion: 0 });
 * const history = await store.readStream('project#web');
 */
export interface EventStore {
  /** Appends atomically when the stream is at `expectedVersion` (0 = new stream). */
  append(streamId: string, events: NewEvent[], opts: { expectedVersion: number }): Promise<AppendResult>;
  /** A stream in version order, from `fromVersion` (inclusive, default 1). Strongly consistent. */
  readStream(streamId: string, opts?: { fromVersion?: number }): Promise<StoredEvent[]>;
  /** The stream's current version (0 when it does not exist). */
  streamVersion(streamId: string): Promise<number>;
  /** Everything of one deployment, across all streams, in commit order. */
  readDeployment(deploymentId: string): Promise<StoredEvent[]>;
  /** Everything of one project, across all streams, in commit order, optionally after a position. */
  readProject(projectId: string, opts?: { after?: string; limit?: number }): Promise<StoredEvent[]>;
  /** The whole store in global commit order, resumable with the returned cursor. */
  readAll(opts?: { cursor?: string | null; limit?: number }): Promise<GlobalPage>;
  /** Iterates the whole store in global order from a cursor (for rebuilds). */
  iterateAll(opts?: { cursor?: string | null; pageSize?: number }): AsyncGenerator<StoredEvent>;
  /** One event by its id. */
  getEvent(eventId: string): Promise<StoredEvent | undefined>;
}
