import { InvalidEventPatternError } from './errors.ts';
import { ignoreCaseMatcher } from './ignore-case.ts';
import { cidrRange, CidrError } from './ip.ts';
import { JsonSyntaxError, type TokenSource, type TokenType } from './json-lexer.ts';
import type { Matcher } from './matchers.ts';
import { NumberRangeError, patternNumber } from './numbers.ts';
import {
  anythingButText, between, equalTo, fail, literal, MAX, MIN, ONE_KEY, OR, RESERVED_IN_OR, SET_OPS, setOpTypeError,
  stringValue, TOO_MANY, type SetOp,
} from './operators.ts';
import { parseWildcard, WildcardError } from './wildcard.ts';

/**
 * One branch of a pattern after `$or` expansion: flattened field path (`detail.state`) → the
 * alternatives for that field. A pattern matches if any branch does.
 */
export type Branch = Map<string, Matcher[]>;

/**
 * event-ruler's `JsonRuleCompiler`, re-expressed: it pulls tokens and validates as it goes, so
 * the first problem in document order (syntax or semantics) is the one reported, with the same
 * text.
 */
class Compiler {
  constructor(private readonly tokens: TokenSource) {}

  private next(): TokenType {
    return this.tokens.next();
  }

  private text(): string {
    return this.tokens.text();
  }

  compile(): Branch[] {
    const branches: Branch[] = [];
    if (this.next() !== 'startObject') fail('Filter is not an object');
    this.object(branches, '', false);
    return branches;
  }

  private object(branches: Branch[], path: string, insideOr: boolean): void {
    let empty = true;
    while (this.next() !== 'endObject') {
      empty = false;
      const step = this.text();
      if (step === OR) {
        this.or(branches, path);
        continue;
      }
      if (insideOr && RESERVED_IN_OR.has(step)) fail(`${step} is Ruler reserved fieldName which cannot be used inside ${OR}.`);
      const name = path === '' ? step : `${path}.${step}`;
      const type = this.next();
      if (type === 'startObject') this.object(branches, name, insideOr);
      else if (type === 'startArray') this.field(branches, name);
      else fail(`"${step}" must be an object or an array`);
    }
    if (empty) fail('Empty objects are not allowed');
  }

  private or(branches: Branch[], path: string): void {
    const before = branches.map((b) => new Map(b));
    branches.length = 0;
    if (this.next() !== 'startArray') fail(`It must be an Array followed with ${OR}.`);
    let count = 0;
    for (let t = this.next(); t !== 'endArray'; t = this.next()) {
      count++;
      if (t !== 'startObject') fail(`Only JSON object is allowed in array of ${OR} relationship.`);
      const forks = before.length === 0 ? [new Map()] : before.map((b) => new Map(b));
      this.object(forks, path, true);
      branches.push(...forks);
    }
    if (count < 2) fail(`There must have at least 2 Objects in ${OR} relationship.`);
  }

  private field(branches: Branch[], name: string): void {
    const values: Matcher[] = [];
    for (let t = this.next(); t !== 'endArray'; t = this.next()) {
      if (t === 'startObject') values.push(this.expression());
      else if (t === 'string') values.push(stringValue(this.text()));
      else if (t === 'number') values.push(literal(this.text(), true));
      else if (t === 'null' || t === 'true' || t === 'false') values.push(literal(t, false));
      else fail('Match value must be String, number, true, false, or null');
    }
    if (values.length === 0) fail('Empty arrays are not allowed');
    if (branches.length === 0) branches.push(new Map());
    // A repeated path overrides the earlier one, as event-ruler does by default.
    for (const branch of branches) branch.set(name, values);
  }

  private stringOperand(message: string): string {
    if (this.next() !== 'string') fail(message);
    return this.text();
  }

  private end(message: string): void {
    if (this.next() !== 'endObject') fail(message);
  }

  private expression(): Matcher {
    if (this.next() !== 'fieldName') fail('Match expression name not found');
    const op = this.text();
    switch (op) {
      case 'exactly': {
        const value = this.stringOperand('exact match pattern must be a string');
        this.end(ONE_KEY);
        return { kind: 'exact', value };
      }
      case 'prefix':
      case 'suffix':
        return this.affix(op);
      case 'numeric': {
        if (this.next() !== 'startArray') fail('Value of numeric must be an array.');
        const m = this.numeric();
        this.end(TOO_MANY);
        return m;
      }
      case 'anything-but':
        return this.anythingBut();
      case 'exists': {
        const t = this.next();
        if (t !== 'true' && t !== 'false') fail('exists match pattern must be either true or false.');
        this.end(ONE_KEY);
        return t === 'true' ? { kind: 'exists' } : { kind: 'absent' };
      }
      case 'cidr': {
        const range = cidrRange(this.stringOperand('prefix match pattern must be a string'));
        this.end(ONE_KEY);
        return { kind: 'ip', range };
      }
      case 'equals-ignore-case': {
        const value = this.stringOperand('equals-ignore-case match pattern must be a string');
        this.end(ONE_KEY);
        return { kind: 'ignoreCase', value, anchor: 'whole', test: ignoreCaseMatcher(value, 'whole') };
      }
      case 'wildcard': {
        const value = this.stringOperand('wildcard match pattern must be a string');
        const glob = parseWildcard(value);
        this.end(ONE_KEY);
        return { kind: 'wildcard', value, glob };
      }
      default:
        return fail(`Unrecognized match type ${op}`);
    }
  }

  private affix(op: 'prefix' | 'suffix'): Matcher {
    const t = this.next();
    if (t === 'startObject') {
      if (this.next() !== 'fieldName') fail(`${op === 'prefix' ? 'Prefix' : 'Suffix'} expression name not found`);
      const inner = this.text();
      if (inner !== 'equals-ignore-case') fail(`Unsupported ${op} pattern: ${inner}`);
      const value = this.stringOperand('equals-ignore-case match pattern must be a string');
      this.end(ONE_KEY);
      this.end(ONE_KEY);
      return { kind: 'ignoreCase', value, anchor: op, test: ignoreCaseMatcher(value, op) };
    }
    if (t !== 'string') fail(`${op} match pattern must be a string`);
    const value = this.text();
    this.end(ONE_KEY);
    return { kind: op, value };
  }

  private numeric(): Matcher {
    if (this.next() !== 'string') fail(`Invalid member in numeric match: ${this.text()}`);
    const op = this.text();
    const t = this.next();
    switch (op) {
      case '=': {
        if (t !== 'number') fail('Value of equals must be numeric');
        const value = this.text();
        if (this.next() !== 'endArray') fail(TOO_MANY);
        return equalTo(value);
      }
      case '>=':
      case '>': {
        if (t !== 'number') fail(`Value of ${op} must be numeric`);
        const bottom = this.text();
        const after = this.next();
        if (after === 'endArray') return between(bottom, op === '>', MAX, false);
        return this.rangeTop(after, bottom, op === '>');
      }
      case '<=':
      case '<': {
        if (t !== 'number') fail(`Value of ${op} must be numeric`);
        const top = this.text();
        if (this.next() !== 'endArray') fail(TOO_MANY);
        return between(MIN, false, top, op === '<');
      }
      default:
        return fail(`Unrecognized numeric range operator: ${op}`);
    }
  }

  private rangeTop(t: TokenType, bottom: string, openBottom: boolean): Matcher {
    if (t !== 'string') fail(`Bad value in numeric range: ${this.text()}`);
    const op = this.text();
    if (op !== '<' && op !== '<=') fail(`Bad numeric range operator: ${op}`);
    if (this.next() !== 'number') fail(`Value of ${op} must be numeric`);
    const top = this.text();
    if (this.next() !== 'endArray') fail('Too many terms in numeric range expression');
    return between(bottom, openBottom, top, op === '<');
  }

  private anythingBut(): Matcher {
    let op: SetOp | null = null;
    let t = this.next();
    if (t === 'startObject') {
      if (this.next() !== 'fieldName') fail('Anything-But expression name not found');
      const inner = this.text();
      if (!SET_OPS.includes(inner)) fail(`Unsupported anything-but pattern: ${inner}`);
      op = inner as SetOp;
      t = this.next();
    }
    if (t !== 'startArray' && t !== 'string' && t !== 'number') {
      fail('Value of anything-but must be an array or single string/number value.');
    }
    let m: Matcher;
    if (op === null) m = t === 'startArray' ? this.anythingButList() : this.anythingButValue(t);
    else m = anythingButText(op, t === 'startArray' ? this.setValues(op) : [this.setValue(t, op)]);
    this.end(TOO_MANY);
    if (op !== null) this.end(TOO_MANY);
    return m;
  }

  private anythingButValue(t: TokenType): Matcher {
    const text = this.text();
    return t === 'string'
      ? { kind: 'anythingBut', values: new Set([text]) }
      : { kind: 'anythingButNumber', values: new Set([patternNumber(text)]) };
  }

  private anythingButList(): Matcher {
    const strings = new Set<string>();
    const numbers = new Set<number>();
    let hasString = false;
    let hasNumber = false;
    for (let t = this.next(); t !== 'endArray'; t = this.next()) {
      if (t === 'string') {
        strings.add(this.text());
        hasString = true;
      } else if (t === 'number') {
        numbers.add(patternNumber(this.text()));
        hasNumber = true;
      } else fail('Inside anything but list, start|null|boolean is not supported.');
    }
    if (hasNumber === hasString) {
      fail('Inside anything but list, either all values are number or string, mixed type is not supported');
    }
    return hasNumber ? { kind: 'anythingButNumber', values: numbers } : { kind: 'anythingBut', values: strings };
  }

  private setValue(t: TokenType, op: SetOp): string {
    if (t !== 'string') fail(setOpTypeError(op));
    const text = this.text();
    if ((op === 'prefix' || op === 'suffix') && text === '') fail('Null prefix/suffix not allowed');
    return text;
  }

  private setValues(op: SetOp): string[] {
    const values: string[] = [];
    for (let t = this.next(); t !== 'endArray'; t = this.next()) values.push(this.setValue(t, op));
    return values;
  }
}

const REASON_ERRORS = [JsonSyntaxError, CidrError, NumberRangeError, WildcardError] as const;

/**
 * Validates and compiles a pattern from its tokens into branches; throws
 * {@link InvalidEventPatternError} with event-ruler's reason for the first problem found.
 *
 * @example
 * compileBranches(new JsonLexer('{"source": ["shiplog.build"]}')); // [Map { 'source' => [exact] }]
 */
export const compileBranches = (tokens: TokenSource): Branch[] => {
  try {
    return new Compiler(tokens).compile();
  } catch (e) {
    if (REASON_ERRORS.some((E) => e instanceof E)) throw new InvalidEventPatternError((e as { reason: string }).reason);
    throw e;
  }
};
