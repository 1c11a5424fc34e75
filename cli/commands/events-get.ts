import { Command } from 'commander';
import { catalog, isKnownEventType, type StoredEvent } from '../../events/index.ts';
import { withLocal } from '../../infra/local/projections.ts';
import { api, ApiError, isNamedInstance, output } from '../client.ts';

/**
 * One stored event as `shiplog events get` prints it for people.
 *
 * @example
 * formatEvent(await store.getEvent(id));
 */
export const formatEvent = (e: StoredEvent): string => {
  const m = e.metadata;
  return [
    `${e.type} ${m.eventId}`,
    `  source       ${isKnownEventType(e.type) ? catalog[e.type].source : 'unknown'}`,
    `  stream       ${m.streamId} v${m.version} (schema v${m.schemaVersion})`,
    `  occurred     ${m.occurredAt}, recorded ${e.recordedAt}`,
    `  project      ${m.projectId}${m.deploymentId ? `, deployment ${m.deploymentId}` : ''}`,
    `  actor        ${m.actor.kind}:${m.actor.id}`,
    `  correlation  ${m.correlationId}, caused by ${m.causationId ?? '-'}`,
    `  position     ${e.position}`,
    'data',
    JSON.stringify(e.data, null, 2).replace(/^/gm, '  '),
  ].join('\n');
};

/**
 * `shiplog events get <eventId>`: one event from the store, with its metadata.
 *
 * @example
 * events.addCommand(getCommand());
 */
export const getCommand = (): Command =>
  new Command('get')
    .description('one stored event by id')
    .argument('<eventId>')
    .option('--json', 'print the stored event as JSON')
    .action(async (eventId: string, o: { json?: boolean }) => {
      const e = isNamedInstance()
        ? await api<StoredEvent>('GET', `/api/events/${encodeURIComponent(eventId)}`).catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return undefined;
          throw err;
        })
        : await withLocal(({ store }) => store.getEvent(eventId));
      if (!e) throw new Error(`no event ${eventId} in the store`);
      output(e, o.json, () => formatEvent(e));
    });
