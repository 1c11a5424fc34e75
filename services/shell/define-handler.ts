import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import type { EventType } from '../../events/index.ts';
import { isRetryable, PoisonEventError } from './errors.ts';
import { idempotentRun } from './idempotency.ts';
import { handlerLogger, invocationKeys, invocationLogger, peekKeys } from './logging.ts';
import { parseHandlerEvent } from './parse-event.ts';
import type { HandlerContext, HandlerEvent, HandlerOptions, ShiplogHandler } from './types.ts';

interface Invocation {
  ctx: HandlerContext;
  ran: boolean;
}

/**
 * Defines a service handler: the shell every handler runs in, on Lambda and on the local bus.
 * For each delivery it
 * 1. parses the EventBridge event with Powertools' parser and the catalog schema of its
 *    `detail-type`, refusing anything else with `PoisonEventError` (not retried);
 * 2. logs with a Powertools logger carrying `correlationId`, `deploymentId`, `eventId`, `eventType`;
 * 3. skips replayed events (`metadata.replay`) unless `acceptsReplays`;
 * 4. unless `relevant` says there is nothing to do, calls `handle`; with `idempotency`, at most
 *    once per event id (Powertools idempotency on DynamoDB), and a duplicate arriving while the
 *    first is running rejects with the retryable `IdempotencyAlreadyInProgressError`;
 * 5. lets errors from `handle` propagate unchanged, so the bus retries them.
 *
 * @example
 * export const handler = defineHandler({
 *   name: 'DeployOnBuildSucceeded',
 *   accepts: [EventType.BuildSucceeded],
 *   idempotency: { client, tableName: 'shiplog-idempotency' },
 *   handle: async (event, ctx) => {
 *     ctx.logger.info('deploying', { artifact: event.data.artifact.uri });
 *     await deploy(event.data);
 *   },
 * });
 */
export const defineHandler = <const T extends EventType>(options: HandlerOptions<T>): ShiplogHandler => {
  const { name, handle, acceptsReplays = false } = options;
  const accepts: ReadonlySet<string> = new Set(options.accepts);
  const base = handlerLogger(name, options.logger);
  const run = idempotentRun<HandlerEvent<T>, Invocation>(name, options.idempotency, async (event, _lambdaContext, invocation) => {
    invocation.ran = true;
    await handle(event, invocation.ctx);
  });

  return async (raw, lambdaContext) => {
    // 1. parse
    let event: HandlerEvent<T>;
    try {
      event = parseHandlerEvent<T>(raw, name, accepts);
    } catch (err) {
      if (err instanceof PoisonEventError) base.error('refused event, not retried', { ...peekKeys(raw), reason: err.reason, error: err.message });
      throw err;
    }
    // 2. log
    const logger = invocationLogger(base, invocationKeys(event), lambdaContext);
    // 3. replays
    if (event.metadata.replay === true && !acceptsReplays) {
      logger.info('skipped replayed event: this handler does not accept replays');
      return;
    }
    // 4. handle, at most once per event id (if there is anything to do)
    if (options.relevant && !(await options.relevant(event))) {
      logger.debug('nothing to do for this event');
      return;
    }
    const invocation: Invocation = { ctx: { logger, handler: name, ...(lambdaContext ? { lambdaContext } : {}) }, ran: false };
    try {
      await run(event, lambdaContext, invocation);
    } catch (err) {
      if (err instanceof IdempotencyAlreadyInProgressError) logger.warn('duplicate delivery while the first one is running, will be retried');
      else logger.error(isRetryable(err) ? 'handling failed, will be retried' : 'handling failed, not retried', err as Error);
      // 5. unchanged, for the bus's retry policy
      throw err;
    }
    if (!invocation.ran) logger.info('skipped duplicate delivery: this event was already handled');
  };
};
