import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { awsBuild } from '../runtime/root.ts';

const logger = new Logger({ serviceName: 'build' });

/**
 * `BuildOnDeploymentRequested` (topology): queues the build and starts it on CodeBuild.
 *
 * @example
 * // infra/topology.ts: subscribe('BuildOnDeploymentRequested', 'infra/aws/functions/build.onDeploymentRequested', …)
 */
export const onDeploymentRequested = (event: unknown, context?: Context): Promise<void> =>
  awsBuild().build.onDeploymentRequested(event, context);

/**
 * CodeBuild's "Build State Change" events, from a rule on the account's default bus (CodeBuild
 * does not publish to ours): a finished build becomes `BuildSucceeded` / `BuildFailed` /
 * `BuildTimedOut` / `BuildCanceled`. Throws only for what a retry can fix.
 *
 * @example
 * // rule on the default bus: { source: ['aws.codebuild'], 'detail-type': ['CodeBuild Build State Change'],
 * //   detail: { 'project-name': ['shiplog-build'], 'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'] } }
 */
export const onCodeBuildStateChange = async (event: unknown): Promise<void> => {
  const detail = (event as { detail?: Record<string, unknown> } | null)?.detail ?? {};
  const result = await awsBuild().completions.onStateChange(event);
  logger.info('codebuild state change', { buildId: detail['build-id'], status: detail['build-status'], result });
};

/**
 * The scheduled reconciliation (every few minutes): finished builds whose state-change event
 * was lost are reported now, so no deployment stays "building".
 *
 * @example
 * // rule: schedule 'rate(5 minutes)' → infra/aws/functions/build.reconcile
 */
export const reconcile = async (): Promise<{ checked: number; reported: string[] }> => {
  const result = await awsBuild().completions.reconcile();
  if (result.reported.length > 0) logger.warn('reconciled builds whose completion was lost', result);
  return result;
};
