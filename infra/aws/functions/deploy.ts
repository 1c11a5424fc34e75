import type { Context } from 'aws-lambda';
import { awsDeploy } from '../../infra/aws/runtime/deps.ts';

/**
 * `DeployOnBuildSucceeded` (topology): publishes the build as a Lambda version and moves the alias.
 *
 * @example
 * // infra/topology.ts: subscribe('DeployOnBuildSucceeded', 'services/deploy/lambda.onBuildSucceeded', …)
 */
export const onBuildSucceeded = (event: unknown, context?: Context): Promise<void> =>
  awsDeploy().deploy.onBuildSucceeded(event, context);

/**
 * `DeployOnBuildEnded` (topology): records the deployment of a failed or timed-out build as failed.
 *
 * @example
 * // infra/topology.ts: subscribe('DeployOnBuildEnded', 'services/deploy/lambda.onBuildEnded', …)
 */
export const onBuildEnded = (event: unknown, context?: Context): Promise<void> =>
  awsDeploy().deploy.onBuildEnded(event, context);

/**
 * `DeployOnReleaseRequest` (topology): rollback and promote, with no rebuild.
 *
 * @example
 * // infra/topology.ts: subscribe('DeployOnReleaseRequest', 'services/deploy/lambda.onReleaseRequest', …)
 */
export const onReleaseRequest = (event: unknown, context?: Context): Promise<void> =>
  awsDeploy().deploy.onReleaseRequest(event, context);
