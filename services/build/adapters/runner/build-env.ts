import type { BuildJob } from '../../ports.ts';

/**
 * Host variables a build may inherit: the shell basics, TLS trust and proxies (so git and npm
 * reach their registries), and npm's cache and registry settings. Nothing else of the host's
 * environment passes: no `AWS_*`, no `SHIPLOG_*`, no `npm_package_*` or `npm_config_local_prefix`
 * leaking in from an `npm run` that started shiplog.
 *
 * @example
 * inheritedNames.includes('PATH'); // true
 */
export const inheritedNames: readonly string[] = [
  'PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'GIT_SSL_CAINFO',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  'npm_config_cache', 'npm_config_registry', 'npm_config_cafile', 'npm_config_userconfig',
];

/**
 * The phase a command belongs to; it decides `NODE_ENV` (an install under
 * `NODE_ENV=production` would skip devDependencies that `next build` needs).
 *
 * @example
 * buildEnv(job, 'install', process.env, []).NODE_ENV; // undefined unless the project sets it
 */
export type BuildPhase = 'checkout' | 'install' | 'build' | 'package';

/**
 * The environment of one build phase: inherited basics, then the project's variables, then
 * what the platform sets (`CI`, telemetry off, and the build's own identity as `SHIPLOG_*`,
 * which describe the job and are safe to expose, like Vercel's `VERCEL_GIT_COMMIT_SHA`).
 *
 * @example
 * const env = buildEnv(job, 'build', process.env, []);
 * env.NODE_ENV; // 'production'
 * env.AWS_SECRET_ACCESS_KEY; // undefined, even when shiplog itself has it
 */
export const buildEnv = (
  job: BuildJob,
  phase: BuildPhase,
  host: NodeJS.ProcessEnv,
  extraInherited: readonly string[],
): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const name of [...inheritedNames, ...extraInherited]) {
    const v = host[name];
    if (v !== undefined) env[name] = v;
  }
  if (phase === 'checkout') return { ...env, GIT_TERMINAL_PROMPT: '0' };
  Object.assign(env, job.env);
  if (phase !== 'install') env.NODE_ENV ??= 'production';
  return {
    ...env,
    CI: '1',
    NEXT_TELEMETRY_DISABLED: '1',
    SHIPLOG: '1',
    SHIPLOG_PROJECT_ID: job.projectId,
    SHIPLOG_DEPLOYMENT_ID: job.deploymentId,
    SHIPLOG_GIT_COMMIT_SHA: job.sha,
  };
};
