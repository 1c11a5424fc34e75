/**
 * Why an event was refused before it reached a handler.
 *
 * | reason            | the input                                                           |
 * | ----------------- | ------------------------------------------------------------------- |
 * | `not-eventbridge` | is not an EventBridge event (missing `id`, `detail-type`, `time`…)  |
 * | `unknown-type`    | has a `detail-type` the catalog does not know                       |
 * | `not-accepted`    | has a known type this handler is not subscribed to                  |
 * | `upcast-failed`   | has a `schemaVersion` that cannot be brought to the current one     |
 * | `invalid-detail`  | has a `detail` that fails the type's schema                         |
 *
 * @example
 * const reason: PoisonReason = 'invalid-detail';
 */
export type PoisonReason = 'not-eventbridge' | 'unknown-type' | 'not-accepted' | 'upcast-failed' | 'invalid-detail';

/**
 * An event that will never be handled, however often it is delivered. The bus must not retry
 * it: it goes straight to the subscription's dead-letter queue, with this message as the reason.
 *
 * @example
 * try { await handler(raw); } catch (err) {
 *   if (err instanceof PoisonEventError) deadLetter(raw, err.message); // err.retryable === false
 * }
 */
export class PoisonEventError extends Error {
  override readonly name = 'PoisonEventError';
  readonly retryable = false;
  constructor(
    /** The handler that refused the event. */
    readonly handler: string,
    readonly reason: PoisonReason,
    why: string,
    /** What is known of the event, for the dead-letter record and the logs. */
    readonly event: { detailType?: string; eventId?: string } = {},
  ) {
    super(`${handler} refused ${event.detailType ?? 'an event'}${event.eventId ? ` ${event.eventId}` : ''} (${reason}): ${why}`);
  }
}

/**
 * A dependency cannot take the request now (throttled, busy, failing on its side). Retryable:
 * the bus delivers the event again later. Adapters subclass it with their own name.
 *
 * @example
 * export class BuildRunnerUnavailableError extends RetryableError { override readonly name = 'BuildRunnerUnavailableError'; }
 */
export class RetryableError extends Error {
  override readonly name: string = 'RetryableError';
  readonly retryable = true;
}

/**
 * A dependency is set up wrongly (no access, no such resource, a refused input). Not retryable
 * until someone fixes it: the event goes to the dead-letter queue, to be redriven then.
 *
 * @example
 * export class BuildRunnerConfigError extends ConfigError { override readonly name = 'BuildRunnerConfigError'; }
 */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  readonly retryable = false;
}

/**
 * Whether the bus should deliver an event again after this error. Errors say so themselves
 * with a boolean `retryable` (`PoisonEventError` says no); anything else is retried, including
 * Powertools' `IdempotencyAlreadyInProgressError` (a duplicate arrived while the first delivery
 * was still running: later, it will find the finished record).
 *
 * @example
 * catch (err) { if (!isRetryable(err) || attempt === policy.maxAttempts) return deadLetter(entry, err); }
 */
export const isRetryable = (err: unknown): boolean => {
  if (err instanceof PoisonEventError) return false;
  if (typeof err === 'object' && err !== null && 'retryable' in err && typeof err.retryable === 'boolean') {
    return err.retryable;
  }
  return true;
};

/**
 * One line per zod (or Standard Schema) issue, `path: message`, at most `max` of them.
 *
 * @example
 * summarizeIssues(zodError.issues); // 'data.buildId: Invalid input: expected string, received undefined'
 */
export const summarizeIssues = (issues: readonly { path?: readonly unknown[]; message: string }[], max = 5): string => {
  const lines = issues.slice(0, max).map((issue) => {
    const path = (issue.path ?? [])
      .map((p) => (typeof p === 'object' && p !== null && 'key' in p ? String(p.key) : String(p)))
      .join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  if (issues.length > max) lines.push(`(+${issues.length - max} more)`);
  return lines.join('; ');
};
