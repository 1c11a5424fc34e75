import { expect } from 'vitest';

/**
 * Given events, when a command, then these events: decider tests that assert on events only.
 *
 * @example
 * const given = deciderSpec({ decide, evolve, initialState });
 * given([queued]).when(start).then([started]);
 */
export const deciderSpec = <C, S, E extends { type: string; data: unknown }>(d: {
  decide: (cmd: C, state: S) => E[];
  evolve: (state: S, event: { type: string; data: unknown }) => S;
  initialState: () => S;
}) => (history: { type: string; data: unknown }[]) => ({
  when: (cmd: C) => {
    const produced = d.decide(cmd, history.reduce(d.evolve, d.initialState()));
    return {
      then: (expected: E[] | ((events: E[]) => void)) =>
        typeof expected === 'function' ? expected(produced) : expect(produced).toEqual(expected),
      thenTypes: (types: string[]) => expect(produced.map((e) => e.type)).toEqual(types),
    };
  },
});
