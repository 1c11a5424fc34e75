/**
 * The shell every service handler runs in: parse (Powertools parser + the event catalog),
 * log (Powertools logger with the event's ids), skip replays, run at most once per event id
 * (Powertools idempotency on DynamoDB), and tell the bus what to retry.
 */
export { defineHandler } from './define-handler.ts';
export { awsErrorName, awsErrorTranslator, translateAwsError, type AwsErrorKinds } from './aws-errors.ts';
export { projectRoleArn, projectRoleName, projectRolePath, projectRoles, readParametersStatements, type PolicyStatement, type ProjectRolesOptions } from './aws-roles.ts';
export { ConfigError, isRetryable, PoisonEventError, RetryableError, type PoisonReason } from './errors.ts';
export { createIdempotencyTable, idempotencyTableDefinition, type IdempotencyOptions } from './idempotency.ts';
export type { InvocationKeys } from './logging.ts';
export { parseHandlerEvent } from './parse-event.ts';
export type { HandlerContext, HandlerEvent, HandlerOptions, ShiplogHandler } from './types.ts';
export { fold, type Decider } from './decider.ts';
export { keepRecent } from './recent.ts';
export { execute, load, streamStates, type Emit, type Execution, type ExecuteOptions, type Loaded, type StreamStates } from './execute.ts';
