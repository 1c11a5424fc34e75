import { streams, type EventData, type EventStore } from '../../../../events/index.ts';
import { decide, evolve, initialState, type IngestCommand, type IngestNewEvent, type ProjectState } from '../../../ingest/index.ts';
import { execute, type Decider } from '../../../shell/index.ts';
import type { RollbackRequester } from '../../ports.ts';

const ingest: Decider<ProjectState, IngestCommand, IngestNewEvent> = { decide, evolve, initialState };

/**
 * Requests rollbacks as the ingest service records them: its own decider decides the
 * `RollbackRequested` on the project stream (so a missing project or a deployment of another
 * project is refused as for a user), and the event carries the alarm as its cause.
 * TODO(when ingest's `requestRollback` takes a cause): call it instead of its decider.
 *
 * @example
 * const rollback = ingestRollbackRequester({ store, ids, now });
 * await rollback.request({ projectId: 'web', alias: 'production', toDeploymentId: 'd1', reason, actor, cause: raised.metadata });
 */
export const ingestRollbackRequester = (deps: { store: EventStore; ids: () => string; now: () => string }): RollbackRequester => ({
  async request({ projectId, alias, toDeploymentId, reason, actor, cause }) {
    const [first] = await deps.store.readStream(streams.deployment(toDeploymentId));
    const to = first?.type === 'DeploymentRequested' ? (first.data as EventData<'DeploymentRequested'>) : undefined;
    if (!to) throw new Error(`no deployment ${toDeploymentId} to roll back to`);
    const ids = { *[Symbol.iterator]() { for (;;) yield deps.ids(); } };
    const { appended } = await execute(
      deps.store, streams.project(projectId), ingest,
      (): IngestCommand => ({ type: 'RequestRollback', projectId, alias, to, reason: reason.slice(0, 1000), now: deps.now(), ids, actor }),
      (decided) => decided.map((e) => ({ ...e, metadata: { ...e.metadata, causationId: cause.eventId, correlationId: cause.correlationId } })),
    );
    return { eventId: appended[0]!.metadata.eventId };
  },
});
