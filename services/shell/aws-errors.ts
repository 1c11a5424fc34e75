import type { ConfigError, RetryableError } from './errors.ts';

/**
 * The name of an SDK error (`ResourceConflictException`, `NoSuchKey`, …), or '' for anything else.
 *
 * @example
 * awsErrorName(new Error('x')); // 'Error'
 */
export const awsErrorName = (err: unknown): string => (err instanceof Error ? err.name : '');

/** Throttling, by any of the names AWS services give it: busy for every service. */
const THROTTLED = ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded'];
/** No access: misconfigured for every service. */
const DENIED = ['AccessDeniedException'];

/**
 * How one adapter reads its service's errors: which names mean busy or misconfigured (besides
 * throttling, HTTP 429 and server faults, always busy, and `AccessDeniedException`, always
 * misconfigured), the errors it throws for each, and the start of their messages.
 *
 * @example
 * const codeBuild: AwsErrorKinds = { prefix: 'CodeBuild: ', busy: [], misconfigured: ['ResourceNotFoundException'], Busy: BuildRunnerUnavailableError, Config: BuildRunnerConfigError };
 */
export interface AwsErrorKinds {
  /** Put before `<name>: <message>`; '' for none. */
  prefix: string;
  busy: readonly string[];
  misconfigured: readonly string[];
  Busy: new (message: string, options?: ErrorOptions) => RetryableError;
  Config: new (message: string, options?: ErrorOptions) => ConfigError;
}

/**
 * Rethrows an AWS SDK error as the adapter's busy (retryable) or misconfigured (dead-lettered)
 * error, with the SDK error as `cause`; anything unrecognised is rethrown unchanged (and so
 * retried by the bus).
 *
 * @example
 * await client.send(cmd).catch((err: unknown) => translateAwsError(err, kinds));
 */
export const translateAwsError = (err: unknown, kinds: AwsErrorKinds): never => {
  const e = err as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string };
  const what = `${kinds.prefix}${e.name}: ${e.message}`;
  if (THROTTLED.includes(e.name) || kinds.busy.includes(e.name) || e.$metadata?.httpStatusCode === 429 || e.$fault === 'server') {
    throw new kinds.Busy(what, { cause: err });
  }
  if (DENIED.includes(e.name) || kinds.misconfigured.includes(e.name)) throw new kinds.Config(what, { cause: err });
  throw err;
};

/**
 * {@link translateAwsError} bound to one adapter's kinds, for `.catch(…)`.
 *
 * @example
 * export const translateCodeBuildError = awsErrorTranslator(codeBuildKinds);
 * await client.send(new StartBuildCommand(input)).catch(translateCodeBuildError);
 */
export const awsErrorTranslator = (kinds: AwsErrorKinds) => (err: unknown): never => translateAwsError(err, kinds);
