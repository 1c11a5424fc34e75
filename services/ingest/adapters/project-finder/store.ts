import type { EventData, EventStore } from '../../../../events/index.ts';
import type { ProjectFinder } from '../../ports.ts';
import { repositoryKeys } from '../../rules.ts';

/**
 * Finds projects by repository from the event store itself, until a projection serves this:
 * it folds `ProjectCreated` events from the global order into an in-memory index, reading only
 * what was committed since its last cursor, and rescans from the start before answering "none"
 * (an event committed late with an earlier position would otherwise stay unseen). The rescan
 * runs at most once per `rescanEveryMs`, so unknown repositories cannot make every request scan.
 *
 * @example
 * const finder = storeProjectFinder(store);
 * await finder.findByRepository(['github.com/acme/web']); // ['web']
 */
export const storeProjectFinder = (store: EventStore, { rescanEveryMs = 30_000 } = {}): ProjectFinder => {
  let lastRescan = -Infinity;
  let index = new Map<string, Set<string>>();
  let cursor: string | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  const catchUp = async (): Promise<void> => {
    for await (const e of store.iterateAll({ cursor })) {
      cursor = e.position;
      if (e.type !== 'ProjectCreated') continue;
      const { projectId, repository } = e.data as EventData<'ProjectCreated'>;
      for (const key of repositoryKeys(repository)) index.set(key, (index.get(key) ?? new Set()).add(projectId));
    }
  };
  const lookup = (keys: readonly string[]): string[] => [...new Set(keys.flatMap((k) => [...(index.get(k) ?? [])]))].sort();
  // One scan at a time: concurrent webhooks share the cursor.
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    findByRepository: (keys) =>
      serialized(async () => {
        await catchUp();
        const found = lookup(keys);
        if (found.length > 0 || Date.now() - lastRescan < rescanEveryMs) return found;
        lastRescan = Date.now();
        index = new Map();
        cursor = null;
        await catchUp();
        return lookup(keys);
      }),
  };
};
