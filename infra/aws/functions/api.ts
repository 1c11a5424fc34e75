import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { platformApi } from '../../http/app.ts';
import { awsApi } from '../runtime/root.ts';

let lambda: ReturnType<typeof handle> | undefined;

/**
 * The platform API as a Lambda behind API Gateway: the same Hono app as `shiplog dev` serves,
 * built on first use from the AWS root's ports (so importing this module needs no environment).
 * Declared by `infra/aws/api.ts`: the `$default` route of an HTTP API, payload format 2.0.
 *
 * @example
 * declareFunction({ name: 'Api', handler: 'infra/aws/functions/api.handler', … }); // infra/aws/api.ts
 */
export const handler = (event: Parameters<ReturnType<typeof handle>>[0], context?: Context) =>
  (lambda ??= handle(platformApi(awsApi())))(event, context);
