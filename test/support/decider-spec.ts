import { expect } from 'vitest';
import { fold, type Decider } from '../../services/shell/decider.ts';

/**
 * Given a stream's events, when a command, then: the one Given/When/Then for decider tests.
 * `given` takes the stream as stored (folded as the shell folds it); `then` takes the expected
 * events, or a function that asserts on them (and may look at the state decided on);
 * `thenNothing` expects no events; `thenThrows` expects a refusal of a class, optionally
 * checked further. `then` returns the decided events.
 *
 * @example
 * const given = deciderSpec(buildDecider);
 * given([queued]).when(start).then([started]);
 * given([queued, started]).when(start).thenNothing();
 * given([]).when(bad).thenThrows(CommandRejectedError, (err) => expect(err.code).toBe('invalid'));
 */
export const deciderSpec =
  <S, C, E extends { type: string }>(decider: Decider<S, C, E>) =>
  (history: readonly { type: string; data: unknown }[] = []) => ({
    when: (command: C) => {
      const state = fold(decider, history);
      const decided = () => decider.decide(command, state);
      return {
        then: (expected: E[] | ((events: E[], state: S) => void)): E[] => {
          const events = decided();
          if (typeof expected === 'function') expected(events, state);
          else expect(events).toEqual(expected);
          return events;
        },
        thenTypes: (types: string[]): void => expect(decided().map((e) => e.type)).toEqual(types),
        thenNothing: (): void => expect(decided()).toEqual([]),
        thenThrows: <X extends Error>(type: new (...args: never[]) => X, check?: (err: X) => void): void => {
          let thrown: unknown;
          try {
            decided();
          } catch (err) {
            thrown = err;
          }
          expect(thrown).toBeInstanceOf(type);
          check?.(thrown as X);
        },
      };
    },
  });
