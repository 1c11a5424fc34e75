/**
 * `equals-ignore-case` the way event-ruler builds it: each UTF-16 unit of the pattern becomes the
 * choice between its own lower- and upper-case forms (which may differ in length: `ß` / `SS`).
 * This is not Unicode case folding; e.g. the Kelvin sign does not match `k`.
 */

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/-]/g;
const escape = (s: string): string => s.replace(REGEX_SPECIAL, '\\$&');

const isSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdfff;

/** The regular-expression source matching `value` regardless of case. */
const ignoreCaseSource = (value: string): string => {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    // Java encodes a lone UTF-16 unit of a surrogate pair as '?' before building its machine.
    if (isSurrogate(unit)) {
      out += '\\?';
      continue;
    }
    const ch = value.charAt(i);
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    out += lower === upper ? escape(lower) : `(?:${escape(lower)}|${escape(upper)})`;
  }
  return out;
};

/** Where an ignore-case match has to sit in the value. */
export type Anchor = 'whole' | 'prefix' | 'suffix';

/**
 * A matcher for `equals-ignore-case`, `prefix`/`suffix` with `equals-ignore-case`, and their
 * `anything-but` forms.
 *
 * @example
 * ignoreCaseMatcher('EventB', 'prefix')('eventbridge'); // true
 */
export const ignoreCaseMatcher = (value: string, anchor: Anchor): ((s: string) => boolean) => {
  const source = ignoreCaseSource(value);
  const re = new RegExp(anchor === 'whole' ? `^${source}$` : anchor === 'prefix' ? `^${source}` : `${source}$`);
  return (s) => re.test(s);
};
