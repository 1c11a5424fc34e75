import { StreamPrefix } from '../events/index.ts';
import { flatString, noKeys, recentlyMade, type DocKey, type Projection, type ProjectionEvent } from './types.ts';
import { evolveDeliveryFacts, evolveDeliveryFactsInto, initialDeliveryFacts, type DeliveryFacts } from './views/dora.ts';

/**
 * Where the `delivery` projection keeps the delivery facts of each deployment: under
 * `delivery#<project>`, listed by request time for windowed metrics.
 *
 * @example
 * deliveryKeys.facts('web', 'd1'); // { pk: 'delivery#web', sk: 'd1' }
 */
export const deliveryKeys = {
  facts: (projectId: string, deploymentId: string): DocKey => ({ pk: `delivery#${projectId}`, sk: deploymentId }),
  list: (projectId: string): string => `delivery#${projectId}`,
};

// The partitions of the projects folded lately, their strings joined once.
const factsPk = recentlyMade((projectId) => flatString(deliveryKeys.list(projectId)));
const facts = (projectId: string, deploymentId: string): DocKey => ({ pk: factsPk(projectId), sk: deploymentId });

const keysOf = (e: ProjectionEvent): DocKey[] => {
  const p = e.metadata.projectId;
  switch (e.type) {
    case 'DeploymentRequested':
    case 'DeploymentLive':
    case 'DeploymentFailed':
      return [facts(p, e.data.deploymentId)];
    case 'RolledBack':
      return [facts(p, e.data.fromDeploymentId)];
    case 'AlarmRaised':
    case 'AlarmCleared':
      return e.data.deploymentId ? [facts(p, e.data.deploymentId)] : noKeys;
    default:
      return noKeys;
  }
};

/**
 * Delivery facts per deployment, from which `readModels().deliveryMetrics` computes the DORA
 * four of a project over any window.
 *
 * @example
 * (await models.deliveryMetrics('web')).leadTime.medianMs;
 */
export const deliveryProjection: Projection<DeliveryFacts> = {
  name: 'delivery',
  version: 1,
  streams: [StreamPrefix.deployment, StreamPrefix.release, StreamPrefix.alarm],
  keysOf,
  initialState: (key) => initialDeliveryFacts(key.sk, key.pk.slice('delivery#'.length)),
  evolve: evolveDeliveryFacts,
  owned: { copy: (state) => ({ ...state }), evolve: evolveDeliveryFactsInto },
  listEntryOf: (state) =>
    state.requestedAt ? { lpk: deliveryKeys.list(state.projectId), lsk: `${state.requestedAt}#${state.deploymentId}`, item: state } : undefined,
};
