import type { Context } from 'aws-lambda';
import { awsProjections } from '../runtime/root.ts';

/**
 * The Lambda entry of the `Projections` subscription: folds every event into the read models
 * (the runner and its wiring are in `infra/aws/runtime/root.ts`).
 *
 * @example
 * // infra/topology.ts: subscribe('Projections', 'infra/aws/functions/projections.handler', …)
 */
export const handler = (event: unknown, context?: Context): Promise<void> => awsProjections().handle(event, context);
