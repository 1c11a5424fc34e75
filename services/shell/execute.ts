import type { ShiplogEvent } from '../../events/catalog.ts';
import type { StoredEvent } from '../../events/envelope.ts';
import { toNewEvents, type EmitContext } from '../../events/new-events.ts';
import { VersionConflictError, type EventStore } from '../../events/store/index.ts';

/**
 * A decider as the shell runs it: fold the stream, decide, append.
 *
 * @example
 * const release: Decider<ReleaseState, DeployCommand> = { decide, evolve, initialState };
 */
export interface Decider<S, C> {
  decide: (cmd: C, state: S) => ShiplogEvent[];
  evolve: (state: S, event: { type: string; data: unknown }) => S;
  initialState: () => S;
}

/**
 * The shell's core, for every service: load the stream, fold it, decide, append with the
 * expected version. A concurrent writer makes the append conflict: reload and decide again
 * (the decider sees what the other wrote, so a duplicate decides nothing).
 *
 * @example
 * const { appended, state } = await execute(store, streams.build(id), build, () => cmd, ctx);
 */
export const execute = async <S, C>(
  store: EventStore,
  streamId: string,
  decider: Decider<S, C>,
  command: (state: S) => C | undefined,
  ctx: EmitContext,
  attempts = 5,
): Promise<{ appended: StoredEvent[]; state: S; version: number }> => {
  for (let attempt = 1; ; attempt++) {
    const history = await store.readStream(streamId);
    const state = history.reduce(decider.evolve, decider.initialState());
    const version = history.at(-1)?.metadata.version ?? 0;
    const cmd = command(state);
    const decided = cmd === undefined ? [] : decider.decide(cmd, state);
    if (decided.length === 0) return { appended: [], state, version };
    try {
      const res = await store.append(streamId, toNewEvents(decided, ctx), { expectedVersion: version });
      return { appended: res.events, state: res.events.reduce(decider.evolve, state), version: res.nextVersion };
    } catch (err) {
      if (!(err instanceof VersionConflictError) || attempt >= attempts) throw err;
    }
  }
};
