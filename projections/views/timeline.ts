import { catalog, type Actor } from '../../events/index.ts';
import { describeEvent } from '../describe.ts';
import { flatString, type ProjectionEvent } from '../types.ts';

/**
 * One step in a deployment's life: what happened, which service said so, and which event caused it.
 *
 * @example
 * const entry: TimelineEntry = { eventId, type: 'BuildStarted', source: 'shiplog.build', occurredAt, … };
 */
export interface TimelineEntry {
  eventId: string;
  type: string;
  source: string;
  occurredAt: string;
  streamId: string;
  version: number;
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  summary: string;
}

/** A timeline entry with its causes resolved inside the timeline. */
export interface CausalEntry extends TimelineEntry {
  /** The type of the event that caused this one, when that event is in the timeline. */
  causedBy: { eventId: string; type: string } | null;
  /** The events of the timeline this one caused. */
  caused: string[];
  /** How many causes up to an event with no (known) cause. */
  depth: number;
}

export const timelineEntry = (e: ProjectionEvent): TimelineEntry => ({
  eventId: e.metadata.eventId,
  type: e.type,
  source: catalog[e.type].source,
  occurredAt: e.metadata.occurredAt,
  streamId: e.metadata.streamId,
  version: e.metadata.version,
  actor: e.metadata.actor,
  correlationId: e.metadata.correlationId,
  causationId: e.metadata.causationId,
  summary: flatString(describeEvent(e)),
});

/**
 * The causation chain of a timeline: for each entry, the event that caused it and those it caused.
 *
 * @example
 * withCausation(view.timeline).find((e) => e.type === 'BuildQueued')?.causedBy?.type; // 'DeploymentRequested'
 */
export const withCausation = (timeline: TimelineEntry[]): CausalEntry[] => {
  const byId = new Map(timeline.map((t) => [t.eventId, t]));
  const children = new Map<string, string[]>();
  for (const t of timeline) {
    if (t.causationId && byId.has(t.causationId)) children.set(t.causationId, [...(children.get(t.causationId) ?? []), t.eventId]);
  }
  const depthOf = (t: TimelineEntry, seen = new Set<string>()): number => {
    const parent = t.causationId ? byId.get(t.causationId) : undefined;
    if (!parent || seen.has(parent.eventId)) return 0;
    seen.add(t.eventId);
    return 1 + depthOf(parent, seen);
  };
  return timeline.map((t) => {
    const parent = t.causationId ? byId.get(t.causationId) : undefined;
    return {
      ...t,
      causedBy: parent ? { eventId: parent.eventId, type: parent.type } : null,
      caused: children.get(t.eventId) ?? [],
      depth: depthOf(t),
    };
  });
};
