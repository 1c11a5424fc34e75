import type { StoredEvent } from '../events/index.ts';
import { fromStored } from './incoming.ts';
import { evolveProjectInto, initialProject } from './views/project.ts';

/**
 * Which aliases each deployment serves now, from a project's stored events: the alias states of
 * the `projects` read model (each from its release stream: deploys, rollbacks, promotions), so a
 * deployment that was live once and has been replaced is not current. Events of other projects,
 * unknown types and repeats are ignored.
 *
 * @example
 * const current = currentAliases('web', await store.readProject('web'));
 * current.get('01J…'); // ['production']
 */
export const currentAliases = (projectId: string, events: readonly StoredEvent[]): Map<string, string[]> => {
  let view = initialProject(projectId);
  const seen = new Map<string, number>();
  for (const e of events) {
    if (e.metadata.projectId !== projectId || e.metadata.version <= (seen.get(e.metadata.streamId) ?? 0)) continue;
    seen.set(e.metadata.streamId, e.metadata.version);
    const { event } = fromStored(e);
    if (event) view = evolveProjectInto(view, event);
  }
  const current = new Map<string, string[]>();
  for (const [alias, state] of Object.entries(view.aliases).sort(([a], [b]) => (a < b ? -1 : 1))) {
    current.set(state.deploymentId, [...(current.get(state.deploymentId) ?? []), alias]);
  }
  return current;
};
