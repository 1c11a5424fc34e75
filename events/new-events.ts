import type { Actor, EventMetadata, NewEvent } from './envelope.ts';
import type { ShiplogEvent } from './catalog.ts';

/**
 * What a shell knows when it turns decided events into storable ones: fresh ids, the time, the
 * event that caused them (for correlation and causation) and who acts.
 *
 * @example
 * const ctx: EmitContext = { ids: ulid, now: () => clock(), cause: trigger.metadata, actor: { kind: 'service', id: 'deploy' } };
 */
export interface EmitContext {
  ids: () => string;
  now: () => string;
  cause: Pick<EventMetadata, 'eventId' | 'correlationId'> | null;
  actor: Actor;
  /** Overrides the correlation id (default: the cause's, else the deployment id, else the first event id). */
  correlationId?: string;
}

const deploymentIdOf = (data: Record<string, unknown>): string | undefined => {
  const id = data.deploymentId ?? data.toDeploymentId;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Adds the envelope metadata to decided events. `projectId` and `deploymentId` come from the
 * data (`deploymentId`, or `toDeploymentId` for alias moves), so no shell restates them.
 *
 * @example
 * await store.append(stream, toNewEvents(decide(cmd, state), ctx), { expectedVersion });
 */
export const toNewEvents = (events: ShiplogEvent[], ctx: EmitContext): NewEvent[] =>
  events.map((e) => {
    const data = e.data as Record<string, unknown>;
    const eventId = ctx.ids();
    const deploymentId = deploymentIdOf(data);
    return {
      type: e.type,
      data: e.data,
      metadata: {
        eventId,
        occurredAt: ctx.now(),
        correlationId: ctx.correlationId ?? ctx.cause?.correlationId ?? deploymentId ?? eventId,
        causationId: ctx.cause?.eventId ?? null,
        projectId: String(data.projectId),
        ...(deploymentId ? { deploymentId } : {}),
        actor: ctx.actor,
      },
    };
  });
