/**
 * Schema evolution. A breaking change to an event's data bumps its `schemaVersion` in the
 * catalog and adds a link here: `upcasters[type][fromVersion]` turns data of `fromVersion` into
 * data of `fromVersion + 1`. Reading applies the chain, so old stored events read as the current
 * type and nothing downstream knows old shapes.
 *
 * History:
 * - BuildFailed v1 → v2. v1 carried one free-text `error` (the runner's message with the log
 *   appended). The dashboard needed to group failures and show the log tail, and the deploy
 *   service to tell our faults from the app's, so v2 splits it into `reason`, `exitCode`,
 *   `message` and `logTail`. v1 events get `reason` and `exitCode` inferred from the text
 *   where it says so, otherwise `unknown` / null.
 */
import { z } from 'zod';
import type { BuildFailureReason } from './build.ts';
import { catalog, isKnownEventType, UnknownEventTypeError } from './catalog.ts';
import type { StoredEvent } from './envelope.ts';

/**
 * Turns the data of one schema version into the data of the next.
 *
 * @example
 * const link: Upcaster = (data) => ({ ...(data as object), region: 'eu-west-1' });
 */
export type Upcaster = (data: unknown) => unknown;

/**
 * Upcasters per event type and per version they read.
 *
 * @example
 * const chain: UpcasterChain = { BuildFailed: { 1: buildFailedV1ToV2 } };
 */
export type UpcasterChain = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

/**
 * The data of `BuildFailed` v1, kept to read old events.
 *
 * @example
 * BuildFailedV1.parse({ projectId: 'web', deploymentId: 'd1', buildId: 'b1', error: 'next build exited with code 1' });
 */
export const BuildFailedV1 = z.object({
  projectId: z.string(),
  deploymentId: z.string(),
  buildId: z.string(),
  error: z.string(),
  durationMs: z.number().int().min(0).optional(),
});

const inferReason = (text: string): BuildFailureReason => {
  if (/\b(?:npm (?:ci|install)|yarn install|pnpm install|ERESOLVE)\b/i.test(text)) return 'install-failed';
  if (/\bopen-?next\b/i.test(text)) return 'package-failed';
  if (/\bnext build\b|Failed to compile|Type error:/i.test(text)) return 'build-failed';
  return 'unknown';
};

/**
 * BuildFailed v1 `{ …, error }` → v2 `{ …, reason, exitCode, message, logTail }`.
 *
 * @example
 * buildFailedV1ToV2({ projectId: 'web', deploymentId: 'd1', buildId: 'b1', error: 'next build exited with code 1' });
 * // → { …, reason: 'build-failed', exitCode: 1, message: 'next build exited with code 1', logTail: [] }
 */
export const buildFailedV1ToV2: Upcaster = (data) => {
  const { error, ...rest } = BuildFailedV1.parse(data);
  const lines = error.split(/\r?\n/);
  const exitCode = /exit(?:ed with)? code:? (\d+)/i.exec(error)?.[1];
  return {
    ...rest,
    reason: inferReason(error),
    exitCode: exitCode === undefined ? null : Number(exitCode),
    message: (lines[0] ?? '').slice(0, 2000),
    logTail: lines.slice(1).filter((l) => l.trim() !== '').slice(-100).map((l) => l.slice(0, 1000)),
  };
};

/**
 * Every upcaster of the catalog.
 *
 * @example
 * upcasters.BuildFailed?.[1]?.(oldData);
 */
export const upcasters: UpcasterChain = {
  BuildFailed: { 1: buildFailedV1ToV2 },
};

/**
 * Thrown when a stored event cannot be brought to the current version.
 *
 * @example
 * try { upcast(stored); } catch (e) { if (e instanceof UpcastError) console.error(e.message); }
 */
export class UpcastError extends Error {
  override readonly name = 'UpcastError';
}

/**
 * Builds an upcast function from a chain and the current version of each type. Types without a
 * current version (unknown to this code) pass through unchanged, as projections ignore them.
 *
 * @example
 * const up = makeUpcast({ Renamed: { 1: (d) => d } }, (type) => (type === 'Renamed' ? 2 : undefined));
 */
export const makeUpcast = (chain: UpcasterChain, currentVersionOf: (type: string) => number | undefined) =>
  <E extends StoredEvent>(stored: E): E => {
    const current = currentVersionOf(stored.type);
    let version = stored.metadata.schemaVersion;
    if (current === undefined || version === current) return stored;
    const at = `${stored.type} v${version} (event ${stored.metadata.eventId})`;
    if (version > current) {
      throw new UpcastError(`Cannot read ${at}: newer than this code's v${current}; deploy the newer shiplog first`);
    }
    let data = stored.data;
    for (; version < current; version += 1) {
      const link = chain[stored.type]?.[version];
      if (!link) throw new UpcastError(`Cannot read ${at}: no upcaster ${stored.type} v${version} → v${version + 1} (add upcasters.${stored.type}[${version}] in events/upcasters.ts)`);
      try {
        data = link(data);
      } catch (cause) {
        throw new UpcastError(`Cannot read ${at}: upcaster v${version} → v${version + 1} failed: ${String(cause)}`, { cause });
      }
    }
    return { ...stored, data, metadata: { ...stored.metadata, schemaVersion: current } };
  };

/**
 * Brings a stored event to its type's current schema version (a no-op when it already is).
 * Pass it to the store as its `upcast` option so every read returns current events.
 *
 * @example
 * const store = dynamoEventStore({ client, table, upcast });
 * const event = upcast(old); // event.metadata.schemaVersion === catalog[event.type].schemaVersion
 */
export const upcast: <E extends StoredEvent>(stored: E) => E = makeUpcast(upcasters, (type) =>
  isKnownEventType(type) ? catalog[type].schemaVersion : undefined);

/**
 * The catalog as the event store needs it: source and current schema version per type, and
 * `upcast` for reads. Appending a type the catalog does not know throws.
 *
 * @example
 * const store = dynamoEventStore({ client, tableName: 'shiplog-events', types: eventTypes });
 */
export const eventTypes = {
  sourceOf: (type: string): string => {
    if (!isKnownEventType(type)) throw new UnknownEventTypeError(type);
    return catalog[type].source;
  },
  schemaVersionOf: (type: string): number => {
    if (!isKnownEventType(type)) throw new UnknownEventTypeError(type);
    return catalog[type].schemaVersion;
  },
  upcast: upcast as (event: StoredEvent) => StoredEvent,
};
