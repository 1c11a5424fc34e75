import { parse } from '@aws-lambda-powertools/parser';
import { EventBridgeEnvelope } from '@aws-lambda-powertools/parser/envelopes/eventbridge';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import {
  catalog, detailSchemaFor, isKnownEventType, upcast, UpcastError, type EventType, type StoredEvent,
} from '../../events/index.ts';
import { PoisonEventError, summarizeIssues } from './errors.ts';
import type { HandlerEvent } from './types.ts';

type Issues = readonly { path?: readonly unknown[]; message: string }[];

// Powertools wraps the validation failure in a ParseError whose cause is a ZodError (envelope)
// or the Standard Schema issue list (no envelope).
const issuesOf = (error: Error): string => {
  const cause: unknown = error.cause;
  if (Array.isArray(cause)) return summarizeIssues(cause as Issues);
  if (typeof cause === 'object' && cause !== null && 'issues' in cause && Array.isArray(cause.issues)) {
    return summarizeIssues(cause.issues as Issues);
  }
  return error.message;
};

// Old events (a replay of the store, a producer not yet redeployed) are brought to the current
// schema version before they are validated, so handlers only ever see current shapes.
const upcastDetail = (raw: Record<string, unknown>, type: EventType): unknown => {
  const detail = raw.detail as { metadata?: { schemaVersion?: unknown }; data?: unknown } | undefined;
  const version = detail?.metadata?.schemaVersion;
  if (typeof version !== 'number' || version === catalog[type].schemaVersion) return raw;
  const current = upcast({ type, data: detail?.data, metadata: detail?.metadata } as StoredEvent);
  return { ...raw, detail: { metadata: current.metadata, data: current.data } };
};

/**
 * Parses a raw EventBridge event into the typed event a handler receives, with Powertools'
 * parser: the envelope with `EventBridgeSchema`, then the `detail` with the catalog's schema of
 * its `detail-type` through `EventBridgeEnvelope`. Throws `PoisonEventError` for anything that
 * is not an accepted, valid shiplog event.
 *
 * @example
 * const event = parseHandlerEvent<'BuildStarted'>(raw, 'NotifyOnBuildStarted', new Set(['BuildStarted']));
 * event.data.runner; // 'codebuild'
 */
export const parseHandlerEvent = <T extends EventType>(
  raw: unknown,
  handler: string,
  accepts: ReadonlySet<string>,
): HandlerEvent<T> => {
  const envelope = parse(raw, undefined, EventBridgeSchema, true);
  if (!envelope.success) {
    throw new PoisonEventError(handler, 'not-eventbridge', `not an EventBridge event: ${issuesOf(envelope.error)}`);
  }
  const { 'detail-type': detailType, id: busEventId, source } = envelope.data;
  const known = { detailType, eventId: peekEventId(envelope.data.detail) ?? busEventId };
  if (!isKnownEventType(detailType)) {
    throw new PoisonEventError(handler, 'unknown-type', `"${detailType}" is not in the shiplog event catalog`, known);
  }
  if (!accepts.has(detailType)) {
    throw new PoisonEventError(handler, 'not-accepted', `it accepts only ${[...accepts].join(', ')}`, known);
  }
  let input: unknown;
  try {
    input = upcastDetail(raw as Record<string, unknown>, detailType);
  } catch (err) {
    if (!(err instanceof UpcastError)) throw err;
    throw new PoisonEventError(handler, 'upcast-failed', err.message, known);
  }
  const detail = parse(input, EventBridgeEnvelope, detailSchemaFor(detailType), true);
  if (!detail.success) {
    const why = `detail does not match ${detailType} v${catalog[detailType].schemaVersion}: ${issuesOf(detail.error)}`;
    throw new PoisonEventError(handler, 'invalid-detail', why, known);
  }
  const { metadata, data } = detail.data;
  return { type: detailType, data, metadata, source, id: metadata.eventId, busEventId } as HandlerEvent<T>;
};

const peekEventId = (detail: unknown): string | undefined => {
  const id = (detail as { metadata?: { eventId?: unknown } } | undefined)?.metadata?.eventId;
  return typeof id === 'string' ? id : undefined;
};
