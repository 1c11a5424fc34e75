import { sandboxUnavailable, SandboxError } from '../../services/build/adapters/runner/sandbox.ts';

/**
 * What `shiplog dev` says about the sandbox of builds and apps before it starts anything:
 * a warning line when the operator turned it off, or a {@link SandboxError} naming what
 * this host lacks.
 *
 * @example
 * const warning = checkSandbox(process.env); // undefined: builds and apps run in bubblewrap
 */
export const checkSandbox = (env: NodeJS.ProcessEnv = process.env): string | undefined => {
  if (env.SHIPLOG_UNSAFE_NO_SANDBOX === '1') {
    return 'shiplog: WARNING: --unsafe-no-sandbox: builds and deployed apps run as shiplog\'s own user and can read its data dir (keys, tokens, database) and reach its ports';
  }
  const why = sandboxUnavailable();
  if (why) throw new SandboxError(`cannot sandbox builds and apps: ${why}; install it, or start with --unsafe-no-sandbox (user code then runs unsandboxed)`);
  return undefined;
};
