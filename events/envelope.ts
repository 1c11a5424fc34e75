import { z } from 'zod';

/**
 * A ULID: 26 Crockford base32 characters, lexicographically sortable by creation time.
 *
 * @example
 * Ulid.parse('01JD2Z8J6X3Q4R5S6T7V8W9XYZ');
 */
export const Ulid = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a ULID');

/**
 * Who or what caused an event: a signed-in user, a shiplog service, an outside system
 * (GitHub) or the platform itself (timers, reconciliation).
 *
 * @example
 * const actor: Actor = { kind: 'user', id: 'admin' };
 */
export const Actor = z.object({
  kind: z.enum(['user', 'service', 'github', 'git', 'system']),
  id: z.string().min(1),
});
export type Actor = z.infer<typeof Actor>;

/**
 * The metadata every stored event carries, in EventBridge `detail.metadata`.
 * `version` is the event's position in its own stream (1-based).
 *
 * @example
 * EventMetadata.parse({
 *   eventId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ', streamId: 'build#01JD…', version: 1,
 *   occurredAt: '2026-11-22T10:00:00.000Z', schemaVersion: 1,
 *   correlationId: '01JD…', causationId: null, projectId: 'web', actor: { kind: 'system', id: 'build' },
 * });
 */
export const EventMetadata = z.object({
  eventId: Ulid,
  streamId: z.string().min(1),
  version: z.number().int().min(1),
  occurredAt: z.iso.datetime(),
  schemaVersion: z.number().int().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  projectId: z.string().min(1),
  deploymentId: z.string().min(1).optional(),
  actor: Actor,
  /** Set on events republished by `shiplog replay events --to-bus`; side-effecting services skip them. */
  replay: z.boolean().optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/**
 * What a producer hands to the store: the type, its data, and the metadata it decides.
 * `streamId`, `version` and `schemaVersion` are filled in by the store on append.
 *
 * @example
 * const e: NewEvent = {
 *   type: 'BuildStarted', data: { buildId: 'b1' },
 *   metadata: { eventId: ulid(), occurredAt: now, correlationId: 'd1', causationId: 'e0',
 *               projectId: 'web', deploymentId: 'd1', actor: { kind: 'service', id: 'build' } },
 * };
 */
export interface NewEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
  metadata: Omit<EventMetadata, 'streamId' | 'version' | 'schemaVersion'>;
}

/**
 * An event as stored and delivered: type, data and full metadata, plus the store's
 * `position` (the global order key) when it came out of the store.
 *
 * @example
 * const [first] = await store.readStream('build#b1');
 * first.metadata.version; // 1
 */
export interface StoredEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
  metadata: EventMetadata;
  /** Global order key assigned at commit (`<recordedAt>#<batch index>#<eventId>`). */
  position: string;
  /** When the store committed the event (store clock), ISO 8601. */
  recordedAt: string;
}

/**
 * The EventBridge shape of an event: `source` / `detail-type` / `detail = { metadata, data }`.
 *
 * @example
 * const entry = toEventBridgeEvent(stored, 'shiplog.build');
 * entry['detail-type']; // 'BuildStarted'
 */
export interface EventBridgeEvent<T extends string = string, D = unknown> {
  version: '0';
  id: string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  'detail-type': T;
  detail: { metadata: EventMetadata; data: D };
}

/**
 * Builds the EventBridge event an event becomes on the bus. `account` and `region` are the
 * runtime's (placeholders locally), `id` is the shiplog event id so duplicates are recognizable.
 *
 * @example
 * toEventBridgeEvent(stored, 'shiplog.build', { account: '000000000000', region: 'local' });
 */
export const toEventBridgeEvent = <T extends string, D>(
  event: Pick<StoredEvent<T, D>, 'type' | 'data' | 'metadata'>,
  source: string,
  where: { account: string; region: string } = { account: '000000000000', region: 'local' },
): EventBridgeEvent<T, D> => ({
  version: '0',
  id: event.metadata.eventId,
  source,
  account: where.account,
  time: event.metadata.occurredAt.replace(/\.\d{3}Z$/, 'Z'),
  region: where.region,
  resources: [],
  'detail-type': event.type,
  detail: { metadata: event.metadata, data: event.data },
});
