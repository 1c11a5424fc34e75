import { EventFields, type Field } from './flatten.ts';
import { DuplicateKeyValues, RawNumber } from './json.ts';
import { matchView } from './matchers.ts';
import type { CompiledRule, RuleBranch, Step } from './rule.ts';

/**
 * Array consistency: the fields chosen for one match may not come from different elements of
 * the same array. `chosen[arrayId]` is the element index already committed to, or -1.
 */
const consistent = (chosen: Int32Array, membership: readonly number[]): boolean => {
  for (let i = 0; i < membership.length; i += 2) {
    const at = chosen[membership[i] as number] as number;
    if (at !== -1 && at !== membership[i + 1]) return false;
  }
  return true;
};

const commit = (chosen: Int32Array, membership: readonly number[], undo: number[]): void => {
  for (let i = 0; i < membership.length; i += 2) {
    const id = membership[i] as number;
    if (chosen[id] === -1) {
      chosen[id] = membership[i + 1] as number;
      undo.push(id);
    }
  }
};

const accepts = (step: Step, field: Field): boolean => {
  const view = field.view(step.mode);
  for (const m of step.matchers) if (matchView(m, view)) return true;
  return false;
};

/**
 * `{"exists": false}` holds when no value of the field is consistent with the array elements
 * chosen so far; only fields earlier in path order have been chosen at this point, which is
 * event-ruler's behaviour too.
 */
const absent = (fields: readonly Field[], chosen: Int32Array): boolean => {
  for (const f of fields) if (consistent(chosen, f.membership)) return false;
  return true;
};

const matchFrom = (steps: readonly Step[], i: number, event: EventFields, chosen: Int32Array): boolean => {
  const step = steps[i];
  if (step === undefined) return true;
  const fields = event.fields(step.terminal);
  if (step.absent && absent(fields, chosen) && matchFrom(steps, i + 1, event, chosen)) return true;
  for (const field of fields) {
    if (!consistent(chosen, field.membership) || !accepts(step, field)) continue;
    if (field.membership.length === 0) {
      if (matchFrom(steps, i + 1, event, chosen)) return true;
      continue;
    }
    const undo: number[] = [];
    commit(chosen, field.membership, undo);
    const matched = matchFrom(steps, i + 1, event, chosen);
    for (const id of undo) chosen[id] = -1;
    if (matched) return true;
  }
  return false;
};

/**
 * A branch matches if its steps can all be satisfied array-consistently. Before the full
 * search, each step is checked on its own (a necessary condition) so most non-matching events
 * are rejected after a property lookup or two.
 */
const matchBranch = (branch: RuleBranch, event: EventFields): boolean => {
  for (const j of branch.checkOrder) {
    const step = branch.steps[j] as Step;
    let any = false;
    for (const field of event.fields(step.terminal)) {
      if (accepts(step, field)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  // The search may read fields the check skipped; read them first so every array has its id.
  for (const step of branch.steps) event.fields(step.terminal);
  // Outside arrays every step stands alone, so the check above already decided.
  if (!event.inArrays && branch.checkOrder.length === branch.steps.length) return true;
  return matchFrom(branch.steps, 0, event, new Int32Array(event.arrayCount).fill(-1));
};

const isEventObject = (event: unknown): event is Record<string, unknown> =>
  typeof event === 'object' && event !== null && !Array.isArray(event)
  && !(event instanceof RawNumber) && !(event instanceof DuplicateKeyValues);

/**
 * Whether an event (a parsed JSON value) matches a compiled rule: any branch, array-consistently.
 * Non-objects never match.
 *
 * @example
 * matchEvent(rule, { source: 'shiplog.build' });
 */
export const matchEvent = (rule: CompiledRule, event: unknown): boolean => {
  if (!isEventObject(event)) return false;
  const fields = new EventFields(event, rule.terminals);
  for (const branch of rule.branches) if (matchBranch(branch, fields)) return true;
  return false;
};
