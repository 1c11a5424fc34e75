import type { ShiplogEvent, NewEvent, StoredEvent } from '../../events/index.ts';
import { toNewEvents, type EmitContext } from '../../events/index.ts';
import { VersionConflictError, type EventStore } from '../../events/store/index.ts';
import { fold, type Decider } from './decider.ts';
import { keepRecent } from './recent.ts';

/**
 * What `execute` did, from its last attempt: the command it decided on (if any), the state
 * before and after, the decided events, the events appended to the stream, and its version.
 *
 * @example
 * const { decided, before, state, appended } = await execute(store, stream, decider, () => cmd, ctx);
 */
export interface Execution<S, C, E> {
  command: C | undefined;
  decided: E[];
  before: S;
  state: S;
  appended: StoredEvent[];
  version: number;
}

/**
 * How decided events become storable ones: an `EmitContext` for `toNewEvents` (ids, time,
 * cause, actor), or a function for deciders whose events already carry their metadata; the
 * function also chooses which decided events belong to this stream.
 *
 * @example
 * const emit: Emit<IngestNewEvent> = (decided) => decided.filter((e) => e.type !== 'DeploymentRequested');
 */
export type Emit<E> = EmitContext | ((decided: E[]) => NewEvent[]);

/**
 * How `execute` runs: at most `attempts` decisions in all (5 by default), and, with `states`, from
 * the kept state of the stream and what came after it.
 *
 * @example
 * await execute(store, stream, decider, (s) => cmd, ctx, { states, loaded: await states.load(stream) });
 */
export interface ExecuteOptions<S = unknown> {
  attempts?: number;
  /**
   * The stream's folded states kept between commands: each decision reads only the events after
   * the kept version, and the state after the append is kept. `loaded`: the state the caller has
   * just loaded from them, for the first decision.
   */
  states?: StreamStates<S>;
  loaded?: Loaded<S>;
  /**
   * Decide first on the kept state as it is, without reading the stream's tail (with `states`,
   * without `loaded`): for a process that is the only writer of the stream, where the kept state is
   * almost always current. The append's expected version still catches a writer it did not know
   * of (then the stream is read and the command decided again), and a decision on the kept state
   * that appends nothing, or is refused, is taken again on a fresh read before it is answered.
   */
  trustKept?: boolean;
}

/** A stream's state and the version it was folded to. */
export interface Loaded<S> {
  state: S;
  version: number;
}

// The whole stream, read and folded.
const loadWhole = async <S, E>(store: Pick<EventStore, 'readStream'>, streamId: string, decider: Pick<Decider<S, never, E>, 'evolve' | 'initialState'>): Promise<Loaded<S>> => {
  const history = await store.readStream(streamId);
  return { state: fold(decider, history), version: history.at(-1)?.metadata.version ?? 0 };
};

/**
 * Folded states of the streams one decider owns, kept in this process (the last `max`, 1,000 by
 * default), so loading a stream reads only the events after the kept version: a rollback on a
 * release stream of thousands of events reads what came since the last command, not the history.
 * The read is strongly consistent, as a whole-stream read is, so a writer in another process is
 * seen. `evolve` must be pure (every decider's is): a kept state is shared by concurrent loads.
 *
 * @example
 * const states = streamStates(store, releaseDecider);
 * const { state, version } = await states.load(streams.release('web', 'production'));
 * await execute(store, stream, releaseDecider, () => cmd, ctx, { states, loaded: { state, version } });
 */
export const streamStates = <S, E>(
  store: Pick<EventStore, 'readStream'>,
  decider: Pick<Decider<S, never, E>, 'evolve' | 'initialState'>,
  opts: { max?: number } = {},
) => {
  const max = opts.max ?? 1000;
  const kept = new Map<string, Loaded<S>>();
  const keep = (streamId: string, loaded: Loaded<S>): void => {
    const had = kept.get(streamId);
    // Concurrent loads may finish out of order: the furthest state is kept.
    if (had && had.version > loaded.version) return;
    keepRecent(kept, streamId, loaded, max);
  };
  return {
    /** The stream's state now: the kept state and the events after it (the whole stream the first time). */
    load: async (streamId: string): Promise<Loaded<S>> => {
      const had = kept.get(streamId);
      if (had) {
        const tail = await store.readStream(streamId, { fromVersion: had.version + 1 });
        // Versions have no gaps; a tail that does not follow on (never expected) reloads the stream.
        if (tail.length === 0) return had;
        if (tail[0]!.metadata.version === had.version + 1) {
          const loaded = { state: fold(decider, tail, had.state), version: tail.at(-1)!.metadata.version };
          keep(streamId, loaded);
          return loaded;
        }
      }
      const loaded = await loadWhole(store, streamId, decider);
      keep(streamId, loaded);
      return loaded;
    },
    /** The kept state of a stream, as it is (no read); undefined when none is kept. */
    peek: (streamId: string): Loaded<S> | undefined => kept.get(streamId),
    /** Records the state a command left the stream in (the fold after its append). */
    keep,
    /** Forgets a stream: its next load reads it whole (after a conflict that the kept state cannot explain). */
    forget: (streamId: string): void => void kept.delete(streamId),
  };
};
export type StreamStates<S> = ReturnType<typeof streamStates<S, never>>;

/**
 * The shell's core, for every service: load the stream, fold it, decide, append with the
 * expected version. A concurrent writer makes the append conflict: reload and decide again
 * (the decider sees what the other wrote, so a duplicate decides nothing), at most `attempts`
 * times in all.
 *
 * @example
 * const { appended, state } = await execute(store, streams.build(id), build, () => cmd, ctx);
 */
export const execute = async <S, C, E extends ShiplogEvent>(
  store: EventStore,
  streamId: string,
  decider: Decider<S, C, E>,
  command: (state: S) => C | undefined,
  emit: Emit<E>,
  options: number | ExecuteOptions<S> = 5,
): Promise<Execution<S, C, E>> => {
  const { attempts = 5, states, loaded, trustKept = false } = typeof options === 'number' ? ({ attempts: options } as ExecuteOptions<S>) : options;
  const toStore = typeof emit === 'function' ? emit : (decided: E[]) => toNewEvents(decided, emit);
  // The kept state, unread, for the first decision only; what it decides stands only once appended.
  let unread = trustKept && !loaded && states ? states.peek(streamId) : undefined;
  for (let attempt = 1; ; attempt++) {
    const kept = unread;
    unread = undefined;
    const { state: before, version } = kept ?? (attempt === 1 && loaded ? loaded : states ? await states.load(streamId) : await loadWhole(store, streamId, decider));
    let cmd: C | undefined;
    let decided: E[];
    try {
      cmd = command(before);
      decided = cmd === undefined ? [] : decider.decide(cmd, before);
    } catch (err) {
      // Refused on a state that was not read: read it and decide again (this attempt is free).
      if (kept) { attempt--; continue; }
      throw err;
    }
    const events = toStore(decided);
    if (events.length === 0) {
      if (kept) { attempt--; continue; }
      return { command: cmd, decided, before, state: before, appended: [], version };
    }
    try {
      const res = await store.append(streamId, events, { expectedVersion: version });
      const state = fold(decider, res.events, before);
      states?.keep(streamId, { state, version: res.nextVersion });
      return { command: cmd, decided, before, state, appended: res.events, version: res.nextVersion };
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
      // Another writer went first: the next load reads what it wrote after the kept version. A
      // stream behind the version decided on is not the one kept: it is forgotten and read whole.
      if (err.actualVersion < version) states?.forget(streamId);
      // A decision on the unread kept state costs none of the attempts.
      if (kept) { attempt--; continue; }
      if (attempt >= attempts) throw err;
    }
  }
};

/**
 * The state of a stream, folded by its decider.
 *
 * @example
 * const { live } = await load(store, streams.release('web', 'production'), release);
 */
export const load = async <S, E>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<S, never, E>, 'evolve' | 'initialState'>,
): Promise<S> => (await loadWhole(store, streamId, decider)).state;
