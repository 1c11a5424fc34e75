import type { ShiplogEvent, NewEvent, StoredEvent } from '../../events/index.ts';
import { toNewEvents, type EmitContext } from '../../events/index.ts';
import { VersionConflictError, type EventStore } from '../../events/store/index.ts';
import { fold, type Decider } from './decider.ts';

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
 * How `execute` runs: at most `attempts` decisions in all (5 by default), and `history`, the
 * stream as the caller has just read it, for the first one (saves that read; a conflict reloads).
 *
 * @example
 * await execute(store, stream, decider, (s) => cmd, ctx, { history: await store.readStream(stream) });
 */
export interface ExecuteOptions {
  attempts?: number;
  history?: StoredEvent[];
}

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
  options: number | ExecuteOptions = 5,
): Promise<Execution<S, C, E>> => {
  const { attempts = 5, history: known } = typeof options === 'number' ? { attempts: options } : options;
  const toStore = typeof emit === 'function' ? emit : (decided: E[]) => toNewEvents(decided, emit);
  for (let attempt = 1; ; attempt++) {
    const history = attempt === 1 && known ? known : await store.readStream(streamId);
    const before = fold(decider, history);
    const version = history.at(-1)?.metadata.version ?? 0;
    const cmd = command(before);
    const decided = cmd === undefined ? [] : decider.decide(cmd, before);
    const events = toStore(decided);
    if (events.length === 0) return { command: cmd, decided, before, state: before, appended: [], version };
    try {
      const res = await store.append(streamId, events, { expectedVersion: version });
      return { command: cmd, decided, before, state: fold(decider, res.events, before), appended: res.events, version: res.nextVersion };
    } catch (err) {
      if (!(err instanceof VersionConflictError) || attempt >= attempts) throw err;
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
): Promise<S> => fold(decider, await store.readStream(streamId));
