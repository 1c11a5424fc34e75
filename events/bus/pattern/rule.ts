import type { Branch } from './compile.ts';
import { InvalidEventPatternError } from './errors.ts';
import { terminal, type Terminal } from './flatten.ts';
import { isNumericMatcher, type Matcher, type Mode } from './matchers.ts';
import { parseWildcard, wildcardComplexity, type Glob } from './wildcard.ts';

/** One field test of a branch, in the order event-ruler walks them (sorted by path). */
export interface Step {
  readonly path: string;
  /** Index of the path in {@link CompiledRule.terminals}. */
  readonly terminal: number;
  /** The value alternatives; empty when the field only has `{"exists": false}`. */
  readonly matchers: readonly Matcher[];
  /** Whether `{"exists": false}` is one of the alternatives. */
  readonly absent: boolean;
  readonly mode: Mode;
}

/** One `$or` branch: its steps in path order, and the order in which to try them for a quick no. */
export interface RuleBranch {
  readonly steps: readonly Step[];
  /** Steps without `exists: false`, shallowest paths first: those usually decide fastest. */
  readonly checkOrder: readonly number[];
}

/** A pattern ready to match: its branches, and the distinct paths they test. */
export interface CompiledRule {
  readonly branches: readonly RuleBranch[];
  readonly terminals: readonly Terminal[];
}

/**
 * The wildcard complexity at which AWS answers "Rule is too complex". AWS's threshold is not
 * published; with our count (see {@link wildcardComplexity}) the patterns AWS accepted score at
 * most 10 and the one it refused scores 13, so the limit sits between them.
 */
export const WILDCARD_COMPLEXITY_LIMIT = 12;
const TOO_COMPLEX =
  'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character';

const signature = (m: Matcher): string => {
  switch (m.kind) {
    case 'exact': case 'prefix': case 'suffix': case 'wildcard':
      return `${m.kind}:${m.value}`;
    case 'literal':
      return `literal:${m.text}`;
    case 'ignoreCase':
      return `ignoreCase:${m.anchor}:${m.value}`;
    case 'ip':
      return `ip:${JSON.stringify(m.range)}`;
    case 'numeric':
      return `numeric:${m.bottom}:${m.openBottom}:${m.top}:${m.openTop}`;
    case 'exists': case 'absent':
      return m.kind;
    case 'anythingBut': case 'anythingButNumber':
      return `${m.kind}:${JSON.stringify([...m.values])}`;
    case 'anythingButText':
      return `${m.kind}:${m.op}:${JSON.stringify(m.values)}`;
  }
};

const modeOf = (matchers: readonly Matcher[]): Mode => {
  if (matchers.some(isNumericMatcher)) return 'numeric';
  return matchers.some((m) => m.kind === 'ip') ? 'ip' : 'plain';
};

/**
 * event-ruler decides how to read a field's values per state-machine node, which branches share
 * when they start with the same fields and alternatives. So the mode is computed over every
 * branch with the same (path, alternatives) prefix, not per branch.
 */
const modes = (sorted: [string, Matcher[]][][]): Mode[][] => {
  const groups = new Map<string, Matcher[]>();
  const keys = sorted.map((entries) => {
    let prefix = '';
    return entries.map(([path, matchers]) => {
      const key = `${prefix}\u0000${path}`;
      groups.set(key, [...(groups.get(key) ?? []), ...matchers]);
      prefix = `${key}\u0001${matchers.map(signature).sort().join('\u0002')}`;
      return key;
    });
  });
  return keys.map((ks) => ks.map((k) => modeOf(groups.get(k) ?? [])));
};

const globsOf = (m: Matcher): Glob[] => {
  if (m.kind === 'wildcard') return [m.glob];
  if (m.kind === 'anythingButText' && m.op === 'wildcard') return m.values.map(parseWildcard);
  return [];
};

const checkComplexity = (branches: readonly Branch[]): void => {
  const byPath = new Map<string, Glob[]>();
  for (const branch of branches) {
    for (const [path, matchers] of branch) {
      const globs = matchers.flatMap(globsOf);
      if (globs.length > 0) byPath.set(path, [...(byPath.get(path) ?? []), ...globs]);
    }
  }
  for (const globs of byPath.values()) {
    if (wildcardComplexity(globs, WILDCARD_COMPLEXITY_LIMIT) >= WILDCARD_COMPLEXITY_LIMIT) {
      throw new InvalidEventPatternError(TOO_COMPLEX);
    }
  }
};

const depth = (path: string): number => path.split('.').length;

/**
 * Turns compiled branches into a matchable rule: fields sorted as event-ruler walks them,
 * value modes decided, and AWS's wildcard complexity limit enforced.
 *
 * @example
 * buildRule(compileBranches(new JsonLexer('{"a": ["x"]}'))).branches[0]?.steps[0]?.path; // 'a'
 */
export const buildRule = (branches: readonly Branch[]): CompiledRule => {
  checkComplexity(branches);
  const sorted = branches.map((b) => [...b.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  const branchModes = modes(sorted);
  const terminals: Terminal[] = [];
  const indexOf = new Map<string, number>();
  const terminalOf = (path: string): number => {
    let i = indexOf.get(path);
    if (i === undefined) {
      i = terminals.push(terminal(path)) - 1;
      indexOf.set(path, i);
    }
    return i;
  };
  const ruleBranches = sorted.map((entries, i): RuleBranch => {
    const steps = entries.map(([path, matchers], j): Step => ({
      path,
      terminal: terminalOf(path),
      matchers: matchers.filter((m) => m.kind !== 'absent'),
      absent: matchers.some((m) => m.kind === 'absent'),
      mode: branchModes[i]?.[j] ?? 'plain',
    }));
    const checkOrder = steps.map((_, j) => j).filter((j) => !(steps[j] as Step).absent)
      .sort((a, b) => depth((steps[a] as Step).path) - depth((steps[b] as Step).path) || a - b);
    return { steps, checkOrder };
  });
  return { branches: ruleBranches, terminals };
};
