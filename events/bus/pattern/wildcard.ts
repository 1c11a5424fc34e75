/**
 * `wildcard` patterns: `*` matches any run of characters, `\*` and `\\` are literal. Parse errors
 * and their positions are event-ruler's, which counts UTF-8 bytes of the value wrapped in quotes.
 */

/**
 * A refused wildcard, with event-ruler's text.
 *
 * @example
 * new WildcardError('Consecutive wildcard characters at pos 4');
 */
export class WildcardError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WildcardError';
  }
}

/**
 * A compiled wildcard: the literal pieces between the `*`s. With one piece there is no `*` and
 * the value must equal it.
 */
export interface Glob {
  readonly pieces: readonly string[];
}

const utf8Length = (codePoint: number): number =>
  codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint >= 0xd800 && codePoint <= 0xdfff ? 1 : codePoint < 0x10000 ? 3 : 4;

/**
 * Parses a wildcard operand.
 *
 * @example
 * parseWildcard('*.png').pieces; // ['', '.png']
 * parseWildcard('a\\*b').pieces; // ['a*b']
 * parseWildcard('a**b'); // throws WildcardError('Consecutive wildcard characters at pos 2')
 */
export const parseWildcard = (value: string): Glob => {
  const quoted = `"${value}"`;
  const pieces: string[] = [];
  let piece = '';
  let bytePos = 0;
  const chars = Array.from(quoted);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') {
      if (chars[i + 1] === '*') throw new WildcardError(`Consecutive wildcard characters at pos ${bytePos}`);
      pieces.push(piece);
      piece = '';
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next !== '*' && next !== '\\') throw new WildcardError(`Invalid escape character at pos ${bytePos}`);
      piece += next;
      i++;
      bytePos++;
    } else {
      piece += ch;
    }
    bytePos += utf8Length(ch.codePointAt(0) as number);
  }
  pieces.push(piece);
  // The quotes were only there to get the positions right; the ends are anchored anyway.
  pieces[0] = (pieces[0] as string).slice(1);
  pieces[pieces.length - 1] = (pieces[pieces.length - 1] as string).slice(0, -1);
  return { pieces };
};

/**
 * Whether a string matches a wildcard.
 *
 * @example
 * globMatches(parseWildcard('*.png'), 'cat.png'); // true
 */
export const globMatches = (glob: Glob, value: string): boolean => {
  const { pieces } = glob;
  const first = pieces[0] as string;
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1] as string;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let pos = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] as string;
    const at = value.indexOf(piece, pos);
    if (at < 0 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
};

type Step = { star: true } | { star: false; ch: string };

const steps = (glob: Glob): Step[] => {
  const out: Step[] = [{ star: false, ch: '"' }];
  glob.pieces.forEach((piece, i) => {
    if (i > 0) out.push({ star: true });
    for (const ch of piece) out.push({ star: false, ch });
  });
  out.push({ star: false, ch: '"' });
  return out;
};

const closure = (nfa: Step[], states: Set<number>): Set<number> => {
  for (const s of states) {
    // Sets iterate over members added during iteration, which is exactly the closure we want.
    if (nfa[s]?.star === true) states.add(s + 1);
  }
  return states;
};

const advance = (nfa: Step[], states: Set<number>, ch: string): Set<number> => {
  const next = new Set<number>();
  for (const s of states) {
    const step = nfa[s];
    if (step === undefined) continue;
    if (step.star) next.add(s);
    else if (step.ch === ch) next.add(s + 1);
  }
  return closure(nfa, next);
};

const liveCount = (nfas: Step[][], states: Set<number>[]): number =>
  states.reduce((sum, set, i) => sum + [...set].filter((s) => s < (nfas[i] as Step[]).length).length, 0);

/**
 * How many partial wildcard matches one input could keep alive at once, over all the wildcards
 * tested against the same field: the quantity event-ruler's `MachineComplexityEvaluator` bounds.
 * Stops counting at `cap`.
 *
 * @example
 * wildcardComplexity([parseWildcard('*:*:*:*:*:event-bus/*')], 100); // 13
 */
export const wildcardComplexity = (globs: readonly Glob[], cap: number): number => {
  const nfas = globs.map(steps);
  const alphabet = [...new Set(nfas.flatMap((n) => n.flatMap((s) => (s.star ? [] : [s.ch])))), '\u0000'];
  const key = (states: Set<number>[]): string => states.map((s) => [...s].sort((a, b) => a - b).join(',')).join('|');
  const start = nfas.map((n) => closure(n, new Set([0])));
  const seen = new Set([key(start)]);
  const todo = [start];
  let best = 0;
  // Bounded so a pathological operand cannot make validation itself expensive.
  while (todo.length > 0 && seen.size < 20_000) {
    const states = todo.pop() as Set<number>[];
    best = Math.max(best, liveCount(nfas, states));
    if (best >= cap) return cap;
    for (const ch of alphabet) {
      const next = states.map((s, i) => advance(nfas[i] as Step[], s, ch));
      const k = key(next);
      if (!seen.has(k) && next.some((s) => s.size > 0)) {
        seen.add(k);
        todo.push(next);
      }
    }
  }
  return best;
};
