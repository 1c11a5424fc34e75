import { z } from 'zod';
import { awsErrorTranslator, ConfigError, RetryableError } from '../../../shell/index.ts';
import type { ScheduledBuild } from '../../scheduler.ts';

/**
 * CodeBuild's build statuses (`buildStatus`, and `build-status` in state-change events).
 *
 * @example
 * const s: CodeBuildStatus = 'TIMED_OUT';
 */
export type CodeBuildStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'STOPPED' | 'TIMED_OUT';

/**
 * One phase of a CodeBuild build; `contexts` explain a failed phase
 * (`{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: npm ci. Reason: exit status 1' }`).
 *
 * @example
 * const p: CodeBuildPhase = { type: 'INSTALL', status: 'FAILED', durationSeconds: 12, contexts: [] };
 */
export interface CodeBuildPhase {
  type: string;
  status?: string | undefined;
  durationSeconds?: number | undefined;
  contexts: { statusCode?: string | undefined; message?: string | undefined }[];
}

/**
 * A CodeBuild build started by shiplog, whichever API or event described it. `scheduled` is the
 * `ScheduledBuild` it was started for (carried in its `SHIPLOG_BUILD` variable).
 *
 * @example
 * if (build.complete && build.status === 'SUCCEEDED') await readManifest(build.artifactUri);
 */
export interface ShiplogBuild {
  /** `<project>:<uuid>`, never the ARN. */
  id: string;
  status: CodeBuildStatus;
  complete: boolean;
  startedAt?: number | undefined;
  timeoutMinutes?: number | undefined;
  scheduled: ScheduledBuild;
  artifactUri?: string | undefined;
  phases: CodeBuildPhase[];
  logs: { group?: string | undefined; stream?: string | undefined; deepLink?: string | undefined };
}

const Scheduled = z.object({
  deploymentId: z.string().min(1),
  projectId: z.string().min(1),
  lane: z.string().min(1),
  requestedAt: z.string().min(1),
  target: z.enum(['production', 'preview']),
  causeEventId: z.string().min(1).optional(),
  job: z.object({
    deploymentId: z.string(), projectId: z.string(), repo: z.string(), sha: z.string(), rootDir: z.string(),
    installCommand: z.string(), buildCommand: z.string(), nodeVersion: z.string().optional(), timeoutMs: z.number(),
  }),
});

const statuses: readonly string[] = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'];

/**
 * Builds a {@link ShiplogBuild} from the parts every description of a build has; undefined when
 * the build carries no valid `SHIPLOG_BUILD` (someone else's build on the same project).
 *
 * @example
 * readShiplogBuild({ id: 'shiplog-build:1f2e', status: 'SUCCEEDED', complete: true, env, phases: [], logs: {} });
 */
export const readShiplogBuild = (raw: Omit<ShiplogBuild, 'id' | 'status' | 'scheduled' | 'artifactUri'> & {
  id: string;
  status: string;
  env: { name: string; value: string }[];
}): ShiplogBuild | undefined => {
  const value = (name: string) => raw.env.find((v) => v.name === name)?.value;
  let json: unknown;
  try {
    json = JSON.parse(value('SHIPLOG_BUILD') ?? 'null');
  } catch {
    return undefined;
  }
  const scheduled = Scheduled.safeParse(json);
  if (!scheduled.success || !statuses.includes(raw.status)) return undefined;
  const { env: _env, ...rest } = raw;
  return {
    ...rest,
    id: raw.id.includes(':build/') ? raw.id.slice(raw.id.indexOf(':build/') + ':build/'.length) : raw.id,
    status: raw.status as CodeBuildStatus,
    scheduled: scheduled.data,
    artifactUri: value('SHIPLOG_ARTIFACT_URI'),
  };
};

/**
 * CodeBuild cannot take the request now (throttled, at its concurrent-build limit, or failing
 * on its side). Retryable: the bus delivers the event again later.
 *
 * @example
 * catch (e) { if (e instanceof BuildRunnerUnavailableError) e.retryable; } // true
 */
export class BuildRunnerUnavailableError extends RetryableError {
  override readonly name = 'BuildRunnerUnavailableError';
}

/**
 * The build runner is set up wrongly (no such CodeBuild project, a refused input, no access).
 * Not retryable: the event goes to the dead-letter queue, to be redriven once fixed.
 *
 * @example
 * catch (e) { if (e instanceof BuildRunnerConfigError) alert(e.message); }
 */
export class BuildRunnerConfigError extends ConfigError {
  override readonly name = 'BuildRunnerConfigError';
}

/**
 * Rethrows a CodeBuild SDK error as one of ours; anything unrecognised is rethrown unchanged
 * (and retried by the bus).
 *
 * @example
 * await client.send(new StartBuildCommand(input)).catch(translateCodeBuildError);
 */
export const translateCodeBuildError = awsErrorTranslator({
  prefix: 'CodeBuild: ',
  busy: ['AccountLimitExceededException'],
  misconfigured: ['ResourceNotFoundException', 'InvalidInputException', 'OAuthProviderException', 'AccountSuspendedException'],
  Busy: BuildRunnerUnavailableError,
  Config: BuildRunnerConfigError,
});
