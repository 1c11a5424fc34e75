/**
 * Why the ingest service refused a command. Each maps to one HTTP status (`status`).
 *
 * @example
 * const code: RejectionCode = 'project-exists'; // 409
 */
export type RejectionCode =
  | 'invalid' | 'project-exists' | 'project-not-found' | 'env-var-not-found' | 'deployment-not-found' | 'not-promotable' | 'mount-conflict' | 'mount-not-found';

const statusOf: Record<RejectionCode, number> = {
  invalid: 400,
  'project-exists': 409,
  'project-not-found': 404,
  'env-var-not-found': 404,
  'deployment-not-found': 404,
  'not-promotable': 409,
  'mount-conflict': 409,
  'mount-not-found': 404,
};

/**
 * A command the ingest service refuses, with a message for the caller. Nobody else needs to
 * react to these refusals, so they are errors for the caller rather than events.
 *
 * @example
 * try { await ingest.createProject({ name: 'web' }); }
 * catch (e) { if (e instanceof CommandRejectedError && e.code === 'project-exists') ... }
 */
export class CommandRejectedError extends Error {
  override readonly name = 'CommandRejectedError';
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
  }

  /** The HTTP status this refusal answers with. */
  get status(): number {
    return statusOf[this.code];
  }
}

/**
 * Shorthand for throwing a refusal from the decider.
 *
 * @example
 * if (!state.project) reject('project-not-found', 'no project "web"');
 */
export const reject = (code: RejectionCode, message: string): never => {
  throw new CommandRejectedError(code, message);
};

/**
 * A secret the caller needs is not in the secret store (an event names a version whose value
 * was never stored, e.g. after a crash between the append and the write).
 *
 * @example
 * try { await secrets.resolveRefs('web', refs); } catch (e) { if (e instanceof SecretMissingError) e.missing; }
 */
export class SecretMissingError extends Error {
  override readonly name = 'SecretMissingError';
  constructor(
    readonly projectId: string,
    readonly missing: string[],
  ) {
    super(`project ${projectId}: no stored value for ${missing.join(', ')}; set these env vars again`);
  }
}
