import { EventType, type EventStore } from '../../events/index.ts';
import { rollbackTarget } from '../deploy/index.ts';
import { defineHandler, type IdempotencyOptions } from '../shell/index.ts';
import type { RollbackRequester } from './ports.ts';
import { releaseWatch } from './release-watch.ts';

/**
 * What the observability service's subscription is built from.
 *
 * @example
 * observabilityService({ store, rollback: ingestRollbackRequester({ store, ids, now }), idempotency });
 */
export interface ObservabilityServiceDeps {
  store: EventStore;
  rollback: RollbackRequester;
  idempotency?: IdempotencyOptions;
}

const actor = { kind: 'service', id: 'observability' } as const;

/**
 * The observability service's subscription: an alarm raised with `rollback` asks the deploy
 * service to roll production back to the previous deployment, as a user's rollback does, with
 * the alarm as its cause, so the history reads AlarmRaised → RollbackRequested → RolledBack.
 * Nothing is asked when the alarmed deployment no longer serves (a newer one, or a rollback
 * already, went live) or there is nothing earlier.
 *
 * @example
 * const observability = observabilityService({ store, rollback: ingestRollbackRequester({ store, ids, now }) });
 * bus subscriber: observability.onAlarmRaised
 */
export const observabilityService = (deps: ObservabilityServiceDeps) => {
  const releases = releaseWatch(deps.store);
  const onAlarmRaised = defineHandler({
    name: 'ObservabilityOnAlarmRaised',
    accepts: [EventType.AlarmRaised],
    ...(deps.idempotency ? { idempotency: deps.idempotency } : {}),
    handle: async (e, { logger }) => {
      const a = e.data;
      if (!a.rollback || !a.deploymentId) return logger.info('alarm asks for no rollback');
      const alias = a.alias ?? 'production';
      const { release } = await releases.read(a.projectId, alias);
      if (release.live !== a.deploymentId) return logger.info('alarmed deployment no longer serves', { live: release.live });
      const to = rollbackTarget(release);
      if (!to) return logger.info('nothing earlier to roll back to');
      const reason = `alarm ${a.alarmId} (AlarmRaised ${e.id}): ${a.metric} ${a.observed} over ${a.threshold} on ${a.deploymentId}`;
      const { eventId } = await deps.rollback.request({ projectId: a.projectId, alias, toDeploymentId: to, reason, actor, cause: e.metadata });
      logger.info('rollback requested', { rollbackRequested: eventId, to });
    },
  });
  return { onAlarmRaised };
};

export type ObservabilityService = ReturnType<typeof observabilityService>;
