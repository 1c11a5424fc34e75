import { activityProjection } from './activity.ts';
import { deliveryProjection } from './delivery.ts';
import { deploymentsProjection } from './deployments.ts';
import { projectsProjection } from './projects.ts';
import type { AnyProjection } from './types.ts';

/**
 * Every read model of shiplog, in the order the runner applies them.
 *
 * @example
 * defaultProjections().map((p) => p.name); // ['projects', 'deployments', 'activity', 'delivery']
 */
export const defaultProjections = (): AnyProjection[] => [projectsProjection, deploymentsProjection, activityProjection, deliveryProjection];

/**
 * The projection of that name, or an error listing the names there are.
 *
 * @example
 * projectionNamed('deployments').version;
 */
export const projectionNamed = (name: string, projections = defaultProjections()): AnyProjection => {
  const found = projections.find((p) => p.name === name);
  if (!found) throw new Error(`no projection named "${name}" (there are: ${projections.map((p) => p.name).join(', ')})`);
  return found;
};
