/**
 * The access service: API tokens (random, shown once, stored hashed, named, revocable).
 */
export { createTokensTable, dynamoTokenStore } from './adapters/token-store/dynamo.ts';
export { ssmTokenHolder } from './adapters/token-holder/ssm.ts';
export { AccessRequestError } from './errors.ts';
export { rotateHeldToken } from './held-token.ts';
export * from './ports.ts';
export { accessCommands, generateToken, hashToken, TOKEN_PREFIX, type AccessCommands, type AccessDeps } from './tokens.ts';
