/**
 * A decider as in Emmett: the pure rules of one stream. `decide` turns a command and the
 * current state into new events, `evolve` applies one of the stream's events to the state,
 * `initialState` is the state of an empty stream. Time and ids come in with the command.
 *
 * @example
 * const release: Decider<ReleaseState, DeployCommand, ReleaseEvent> = { decide, evolve, initialState };
 */
export interface Decider<State, Command, Event> {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
}

/**
 * Folds events read from a stream the decider owns, from `from` (default: the empty state).
 * This is the one place a stored event is read as the decider's own type: only the owner
 * writes its stream, and `evolve` leaves a type it does not know (a newer producer's) alone.
 *
 * @example
 * const state = fold(release, await store.readStream(streams.release('web', 'production')));
 */
export const fold = <S, E>(
  decider: Pick<Decider<S, never, E>, 'evolve' | 'initialState'>,
  events: readonly { type: string; data: unknown }[],
  from: S = decider.initialState(),
): S => (events as readonly unknown[] as readonly E[]).reduce(decider.evolve, from);
