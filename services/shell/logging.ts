import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { EventMetadata } from '../../events/index.ts';

/**
 * The keys every log line of one delivery carries, so a deployment's whole story is one query
 * (`correlationId` / `deploymentId`) and one event's handling is another (`eventId`).
 *
 * @example
 * const keys: InvocationKeys = { correlationId: 'd1', deploymentId: 'd1', eventId: '01J…', eventType: 'BuildStarted' };
 */
export interface InvocationKeys {
  correlationId: string;
  deploymentId?: string;
  eventId: string;
  eventType: string;
}

/**
 * The invocation keys of a parsed event.
 *
 * @example
 * invocationKeys({ type: 'BuildStarted', metadata }); // { correlationId, deploymentId, eventId, eventType }
 */
export const invocationKeys = (event: { type: string; metadata: EventMetadata }): InvocationKeys => ({
  correlationId: event.metadata.correlationId,
  ...(event.metadata.deploymentId === undefined ? {} : { deploymentId: event.metadata.deploymentId }),
  eventId: event.metadata.eventId,
  eventType: event.type,
});

/**
 * The long-lived logger of a handler: Powertools' `Logger` with the handler name as service
 * name, or a child of the given logger renamed so.
 *
 * @example
 * const base = handlerLogger('DeployOnBuildSucceeded');
 */
export const handlerLogger = (name: string, parent?: Logger): Logger =>
  parent ? parent.createChild({ serviceName: name }) : new Logger({ serviceName: name });

/**
 * The logger of one delivery: a child of the handler's logger with the invocation keys as
 * persistent keys. Being a fresh child, it cannot leak keys into the next delivery, nor mix
 * keys with a delivery running concurrently (the local bus runs handlers concurrently, and
 * Powertools keeps persistent keys per logger instance, not per invocation).
 *
 * @example
 * const log = invocationLogger(base, invocationKeys(event), lambdaContext);
 * log.info('handled'); // {"service":"DeployOnBuildSucceeded","correlationId":"d1",…}
 */
export const invocationLogger = (base: Logger, keys: InvocationKeys, lambdaContext?: Context): Logger => {
  const log = base.createChild({ persistentKeys: { ...keys } });
  if (lambdaContext) log.addContext(lambdaContext);
  return log;
};

/**
 * What can be said about an event that failed parsing, for the log line of its refusal.
 *
 * @example
 * base.error('refused', { ...peekKeys(raw) });
 */
export const peekKeys = (raw: unknown): Partial<InvocationKeys> => {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as { 'detail-type'?: unknown; detail?: { metadata?: Record<string, unknown> } };
  const m = r.detail?.metadata ?? {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const keys: Partial<InvocationKeys> = {
    correlationId: str(m.correlationId), deploymentId: str(m.deploymentId), eventId: str(m.eventId), eventType: str(r['detail-type']),
  };
  return Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
};
