import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { EventData, EventMetadata, EventType } from '../../events/index.ts';
import type { IdempotencyOptions } from './idempotency.ts';

/**
 * What a handler receives: one parsed event, discriminated by `type` over the types it accepts.
 * `id` is the shiplog event id (`metadata.eventId`), stable across retries and replays;
 * `busEventId` is the EventBridge event id, which on AWS is assigned by EventBridge on every
 * `PutEvents` and so differs between two publications of the same event.
 *
 * @example
 * const handle = async (e: HandlerEvent<'BuildStarted' | 'BuildFailed'>) => {
 *   if (e.type === 'BuildFailed') return e.data.reason;
 *   return e.data.runner;
 * };
 */
export type HandlerEvent<T extends EventType = EventType> = {
  [K in T]: {
    type: K;
    data: EventData<K>;
    metadata: EventMetadata;
    source: string;
    id: string;
    busEventId: string;
  };
}[T];

/**
 * The per-invocation context of a handler: a logger that already carries `correlationId`,
 * `deploymentId`, `eventId` and `eventType`, the handler's name, and the Lambda context on AWS.
 *
 * @example
 * const handle = async (e: HandlerEvent<'BuildStarted'>, ctx: HandlerContext) => {
 *   ctx.logger.info('build started', { runner: e.data.runner });
 * };
 */
export interface HandlerContext {
  logger: Logger;
  handler: string;
  lambdaContext?: Context;
}

/**
 * The definition of a handler; see `defineHandler`.
 *
 * @example
 * const options: HandlerOptions<'BuildSucceeded'> = {
 *   name: 'DeployOnBuildSucceeded', accepts: [EventType.BuildSucceeded], handle: async (e) => deploy(e.data),
 * };
 */
export interface HandlerOptions<T extends EventType> {
  /** The subscription name (`infra/topology.ts`): the logger's service name and the idempotency key prefix. */
  name: string;
  /** The `detail-type`s this handler is subscribed to; anything else is a poison event. */
  accepts: readonly T[];
  handle: (event: HandlerEvent<T>, ctx: HandlerContext) => Promise<void> | void;
  /** Handle events republished by `shiplog replay` (`metadata.replay`). Projections do; side-effecting services don't. */
  acceptsReplays?: boolean;
  /** Remember handled event ids in DynamoDB so a redelivery does not call `handle` again. */
  idempotency?: IdempotencyOptions;
  /**
   * Whether a delivery has any work, asked before the idempotency record is written: when it
   * answers false the delivery is done, with no record and no `handle`. For a handler subscribed
   * to many events that acts on few, decided by state it reads cheaply (a cached registry), so the
   * others cost no idempotency writes. A duplicate is asked again.
   */
  relevant?: (event: HandlerEvent<T>) => Promise<boolean> | boolean;
  /** The parent logger (default: a new Powertools `Logger`); the service name is always `name`. */
  logger?: Logger;
}

/**
 * A handler as the bus (or Lambda) calls it: the raw EventBridge event in, nothing out.
 * It rejects with `PoisonEventError` for events it can never handle, and with whatever `handle`
 * threw otherwise.
 *
 * @example
 * export const handler: ShiplogHandler = defineHandler({ name, accepts, handle });
 * await handler(ebEvent, lambdaContext);
 */
export type ShiplogHandler = (event: unknown, context?: Context) => Promise<void>;
