import { streams, type EventStore, type StoredEvent } from '../../events/index.ts';
import { releaseDecider, type ReleaseEvent, type ReleaseState } from '../deploy/index.ts';
import { streamStates } from '../shell/index.ts';

/**
 * A release stream as observability reads it: the release state, and when what is live went
 * live (its latest alias shift: only a shift makes a deployment live).
 */
export interface WatchedRelease {
  release: ReleaseState;
  liveSince: string | null;
}

interface Folded {
  release: ReleaseState;
  shiftedAt: string | null;
}

const watched = {
  initialState: (): Folded => ({ release: releaseDecider.initialState(), shiftedAt: null }),
  evolve: (s: Folded, e: StoredEvent): Folded => ({
    release: releaseDecider.evolve(s.release, e as unknown as ReleaseEvent),
    shiftedAt: e.type === 'AliasShifted' ? e.metadata.occurredAt : s.shiftedAt,
  }),
};

/**
 * Release streams as observability watches them (the alarm evaluator every few seconds, the
 * auto-rollback, the metrics' "live" flag), kept in this process: each read takes only the events
 * after the kept version, so a project with thousands of deployments costs what a new one does.
 *
 * @example
 * const releases = releaseWatch(store);
 * const { release, liveSince } = await releases.production('web');
 */
export const releaseWatch = (store: Pick<EventStore, 'readStream'>) => {
  const states = streamStates(store, watched);
  const read = async (projectId: string, alias: string): Promise<WatchedRelease> => {
    const { state } = await states.load(streams.release(projectId, alias));
    return { release: state.release, liveSince: state.release.live ? state.shiftedAt : null };
  };
  return { read, production: (projectId: string) => read(projectId, 'production') };
};
export type ReleaseWatch = ReturnType<typeof releaseWatch>;
