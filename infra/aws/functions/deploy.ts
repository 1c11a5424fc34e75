import type { Context } from 'aws-lambda';
import { awsDeploy } from '../runtime/root.ts';

/**
 * `DeployOnBuildSucceeded` (topology): publishes the build as a Lambda version and moves the alias.
 *
 * @example
 * // infra/topology.ts: subscribe('DeployOnBuildSucceeded', 'infra/aws/functions/deploy.onBuildSucceeded', …)
 */
export const onBuildSucceeded = (event: unknown, context?: Context): Promise<void> =>
  awsDeploy().deploy.onBuildSucceeded(event, context);

/**
 * `DeployOnBuildEnded` (topology): records the deployment of a failed or timed-out build as failed.
 *
 * @example
 * // infra/topology.ts: subscribe('DeployOnBuildEnded', 'infra/aws/functions/deploy.onBuildEnded', …)
 */
export const onBuildEnded = (event: unknown, context?: Context): Promise<void> =>
  awsDeploy().deploy.onBuildEnded(event, context);

/**
 * `DeployOnReleaseRequest` (topology): rollback and promote, with no rebuild.
 *
 * @example
 * // infra/topology.ts: subscribe('DeployOnReleaseRequest', 'infra/aws/functions/deploy.onReleaseRequest', …)
 */
export const onReleaseRequest = (event: unknown, context?: Context): Promise<void> =>
  awsDeploy().deploy.onReleaseRequest(event, context);

/**
 * `DeployOnMountsChanged` (topology): a project's path mounts into the sites' KeyValueStore.
 *
 * @example
 * // infra/topology.ts: subscribe('DeployOnMountsChanged', 'infra/aws/functions/deploy.onMountsChanged', …)
 */
export const onMountsChanged = (event: unknown, context?: Context): Promise<void> =>
  awsDeploy().deploy.onMountsChanged(event, context);
