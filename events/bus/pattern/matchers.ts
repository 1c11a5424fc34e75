import type { Anchor } from './ignore-case.ts';
import { inIpRange, type IpRange } from './ip.ts';
import { globMatches, type Glob } from './wildcard.ts';

/**
 * One compiled alternative of a field's pattern list. `literal` is a number, `true`, `false` or
 * `null` written in the pattern: it compares numerically when both sides are comparable numbers,
 * and by exact text otherwise, as event-ruler does.
 */
export type Matcher =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'literal'; readonly text: string; readonly num: number | undefined }
  | { readonly kind: 'ip'; readonly range: IpRange }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'suffix'; readonly value: string }
  | { readonly kind: 'ignoreCase'; readonly value: string; readonly anchor: Anchor; readonly test: (s: string) => boolean }
  | { readonly kind: 'wildcard'; readonly value: string; readonly glob: Glob }
  | { readonly kind: 'numeric'; readonly bottom: number; readonly openBottom: boolean; readonly top: number; readonly openTop: boolean }
  | { readonly kind: 'exists' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'anythingBut'; readonly values: ReadonlySet<string> }
  | { readonly kind: 'anythingButNumber'; readonly values: ReadonlySet<number> }
  | { readonly kind: 'anythingButText'; readonly op: string; readonly values: readonly string[]; readonly test: (s: string) => boolean };

/**
 * How a field's value is presented to its matchers. event-ruler rewrites values before matching
 * when the field's matchers include numeric ones (numbers become comparable doubles) or else
 * address ones (IP literals become hex); string matchers then no longer see the original text.
 */
export type Mode = 'plain' | 'numeric' | 'ip';

/** The kinds that make event-ruler compare a field's values as numbers. */
export const isNumericMatcher = (m: Matcher): boolean =>
  m.kind === 'numeric' || m.kind === 'anythingButNumber' || (m.kind === 'literal' && m.num !== undefined);

/**
 * A leaf value of an event as seen by a matcher: `str` for strings, `num` for a number read as a
 * double (numeric mode), `ip` for an address (ip mode), `text` for anything else, carrying
 * the JSON text (`null`, `true`, `300.0`, or a number that is not a finite double).
 */
export type View =
  | { readonly t: 'str'; readonly s: string }
  | { readonly t: 'num'; readonly n: number }
  | { readonly t: 'ip'; readonly hex: string }
  | { readonly t: 'text'; readonly text: string };

/**
 * Whether one matcher accepts one value. `absent` never matches a value: it is handled by the
 * caller, which knows whether the field is there at all.
 *
 * @example
 * matchView({ kind: 'prefix', value: 'ab' }, { t: 'str', s: 'abc' }); // true
 */
export const matchView = (m: Matcher, v: View): boolean => {
  switch (m.kind) {
    case 'exact':
      return v.t === 'str' && v.s === m.value;
    case 'literal':
      return v.t === 'num' ? m.num !== undefined && v.n === m.num : v.t === 'text' && v.text === m.text;
    case 'ip':
      // The engine also reads raw number text against the hex range: a quirk we keep.
      return v.t === 'ip' ? inIpRange(m.range, v.hex) : v.t === 'text' && inIpRange(m.range, v.text);
    case 'prefix':
      return v.t === 'str' && v.s.startsWith(m.value);
    case 'suffix':
      return v.t === 'str' && v.s.endsWith(m.value);
    case 'ignoreCase':
      return v.t === 'str' && m.test(v.s);
    case 'wildcard':
      return v.t === 'str' && globMatches(m.glob, v.s);
    case 'numeric':
      return v.t === 'num'
        && (m.openBottom ? v.n > m.bottom : v.n >= m.bottom)
        && (m.openTop ? v.n < m.top : v.n <= m.top);
    case 'exists':
      return true;
    case 'absent':
      return false;
    case 'anythingBut':
      return !(v.t === 'str' && m.values.has(v.s));
    case 'anythingButNumber':
      return !(v.t === 'num' && m.values.has(v.n));
    case 'anythingButText':
      return !(v.t === 'str' && m.test(v.s));
  }
};
