/**
 * A logger for the AWS SDK clients of the event store and the read models that logs failures
 * only. The SDK's logger middleware builds a redacted copy of every request and response for
 * `logger.info` before the call, even for its default no-op logger (a schema walk of each item:
 * the largest cost of a store read in a profile); it calls `info` only when the logger has one.
 * Failures still reach `error` (with their redacted input), as with the default.
 *
 * @example
 * new DynamoDBClient({ endpoint, logger: sdkFailureLogger });
 */
export const sdkFailureLogger = {
  debug: () => {},
  warn: () => {},
  error: () => {},
} as unknown as { debug(...content: unknown[]): void; info(...content: unknown[]): void; warn(...content: unknown[]): void; error(...content: unknown[]): void };
