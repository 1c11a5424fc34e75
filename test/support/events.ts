import { monotonicFactory } from 'ulid';
import type { NewEvent } from '../../events/envelope.ts';

const nextId = monotonicFactory();

/** A fresh, strictly increasing ULID. */
export const newId = (): string => nextId();

/**
 * A new event for store tests: any type and data, with sensible metadata.
 *
 * @example
 * const e = newEvent('Tested', { n: 1 }, { projectId: 'web', deploymentId: 'd1' });
 */
export const newEvent = (
  type: string,
  data: unknown = {},
  meta: Partial<NewEvent['metadata']> = {},
): NewEvent => ({
  type,
  data,
  metadata: {
    eventId: newId(),
    occurredAt: new Date().toISOString(),
    correlationId: meta.deploymentId ?? 'corr-1',
    causationId: null,
    projectId: 'project-1',
    actor: { kind: 'system', id: 'test' },
    ...meta,
  },
});
