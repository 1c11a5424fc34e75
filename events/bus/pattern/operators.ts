import { InvalidEventPatternError } from './errors.ts';
import { ignoreCaseMatcher } from './ignore-case.ts';
import { ipLiteralRange } from './ip.ts';
import type { Matcher } from './matchers.ts';
import { comparablePatternNumber, patternNumber } from './numbers.ts';
import { globMatches, parseWildcard } from './wildcard.ts';

/**
 * The building blocks the pattern compiler turns operands into, and the reason texts it shares
 * between operators (event-ruler reuses some in surprising places, e.g. a `cidr` that is not a
 * string is reported as a `prefix` problem; we keep its words).
 */

/** The keyword that introduces alternatives. */
export const OR = '$or';

/** Names event-ruler refuses as field names inside `$or`, to keep them free for operators. */
export const RESERVED_IN_OR: ReadonlySet<string> = new Set([
  'exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists', 'wildcard', 'numeric', 'cidr', 'html',
  '=', '<', '<=', '>', '>=', 'regex', 'not-wildcard', 'not-equals-ignore-case', 'date-after', 'date-on-or-after',
  'date-before', 'date-on-or-before', 'in-date-range', 'ip-address-in-range', 'ip-address-not-in-range',
]);

export const ONE_KEY = 'Only one key allowed in match expression';
/** event-ruler says this for any surplus member after an operand, not just numeric ones. */
export const TOO_MANY = 'Too many elements in numeric expression';

/**
 * Refuses the pattern.
 *
 * @example
 * fail('Empty arrays are not allowed');
 */
export const fail = (reason: string): never => {
  throw new InvalidEventPatternError(reason);
};

/** The operators `anything-but` accepts inside an object. */
export type SetOp = 'equals-ignore-case' | 'prefix' | 'suffix' | 'wildcard';
export const SET_OPS: readonly string[] = ['equals-ignore-case', 'prefix', 'suffix', 'wildcard'];

/** The reason for a non-string operand of `anything-but: { <op>: … }`. */
export const setOpTypeError = (op: SetOp): string =>
  op === 'equals-ignore-case' ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
    : op === 'wildcard' ? 'wildcard match pattern must be a string' : 'prefix/suffix match pattern must be a string';

/** Stand-ins for "unbounded" in one-sided ranges; event-ruler's bounds are the double range too. */
export const MAX = String(Number.MAX_VALUE);
export const MIN = String(-Number.MAX_VALUE);

/**
 * A numeric range from operand texts.
 *
 * @example
 * between('0', true, '5', false); // 0 < n <= 5
 */
export const between = (bottom: string, openBottom: boolean, top: string, openTop: boolean): Matcher => {
  const b = patternNumber(bottom);
  const t = patternNumber(top);
  if (b >= t) fail('Bottom must be less than top');
  return { kind: 'numeric', bottom: b, openBottom, top: t, openTop };
};

/**
 * `numeric: ["=", n]`.
 *
 * @example
 * equalTo('3.018e2'); // n === 301.8
 */
export const equalTo = (text: string): Matcher => {
  const n = patternNumber(text);
  return { kind: 'numeric', bottom: n, openBottom: false, top: n, openTop: false };
};

/**
 * A plain string alternative; one that is an IP literal compares as an address, as in the engine.
 *
 * @example
 * stringValue('10.0.0.1').kind; // 'ip'
 */
export const stringValue = (s: string): Matcher => {
  const range = ipLiteralRange(s);
  return range === null ? { kind: 'exact', value: s } : { kind: 'ip', range };
};

/**
 * A number, `true`, `false` or `null` alternative.
 *
 * @example
 * literal('300.0', true).num; // 300
 */
export const literal = (text: string, isNumber: boolean): Matcher =>
  ({ kind: 'literal', text, num: isNumber ? comparablePatternNumber(text) : undefined });

/**
 * `anything-but: { <op>: value | [values] }`.
 *
 * @example
 * anythingButText('prefix', ['us-']);
 */
export const anythingButText = (op: SetOp, values: string[]): Matcher => {
  let tests: ((s: string) => boolean)[];
  if (op === 'equals-ignore-case') tests = values.map((v) => ignoreCaseMatcher(v, 'whole'));
  else if (op === 'prefix') tests = values.map((v) => (s: string) => s.startsWith(v));
  else if (op === 'suffix') tests = values.map((v) => (s: string) => s.endsWith(v));
  else tests = values.map(parseWildcard).map((g) => (s: string) => globMatches(g, s));
  return { kind: 'anythingButText', op, values, test: (s) => tests.some((t) => t(s)) };
};
