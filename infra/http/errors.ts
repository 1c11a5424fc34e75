import type { Context } from 'hono';
import { json } from './json.ts';
import { AccessRequestError } from '../../services/access/index.ts';
import { InvalidReplayRequestError } from '../../projections/index.ts';
import { DomainRequestError } from '../../services/domains/index.ts';
import { CommandRejectedError, WebhookRejectedError } from '../../services/ingest/index.ts';
import { SubscriptionRequestError } from '../../services/subscriptions/index.ts';

/**
 * An error with the HTTP status it should answer with, for what only HTTP refuses (a body too
 * large, not JSON, a path naming nothing).
 *
 * @example
 * throw new HttpError(404, `no deployment ${id}`);
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The services' refusals: each carries the HTTP status it means. Listed once, here, so every
 * route answers them the same way.
 */
const refusals: (abstract new (...args: never[]) => Error & { status: number })[] = [
  CommandRejectedError,
  WebhookRejectedError,
  DomainRequestError,
  SubscriptionRequestError,
  InvalidReplayRequestError,
  AccessRequestError,
];

/**
 * The status an error answers with: its own for an {@link HttpError} or a service's refusal,
 * 500 for anything else.
 *
 * @example
 * statusOf(new CommandRejectedError('project-exists', '…')); // 409
 */
export const statusOf = (err: unknown): number =>
  err instanceof HttpError || refusals.some((r) => err instanceof r) ? (err as { status: number }).status : 500;

/**
 * The API's error answer: `{ error: message }` with {@link statusOf}'s status.
 *
 * @example
 * app.onError(answerError);
 */
export const answerError = (err: unknown, c: Context): Response =>
  json(c, statusOf(err), { error: err instanceof Error ? err.message : String(err) });
