import { ipHex, looksLikeIp } from './ip.ts';
import { DuplicateKeyValues, RawNumber } from './json.ts';
import type { Mode, View } from './matchers.ts';
import { eventNumber } from './numbers.ts';

/**
 * One leaf value of an event, with the views the matchers may ask for (computed on demand).
 * `membership` lists `[arrayId, index, …]` for every enclosing array the value sits inside an
 * element object (or nested array) of; scalars directly in an array are not members of it.
 */
export class Field {
  private numeric: View | undefined;
  private ip: View | undefined;

  constructor(
    readonly plain: View,
    readonly membership: readonly number[],
    private readonly num: number | undefined,
  ) {}

  view(mode: Mode): View {
    if (mode === 'plain') return this.plain;
    if (mode === 'numeric') {
      this.numeric ??= this.num === undefined ? this.plain : { t: 'num', n: this.num };
      return this.numeric;
    }
    if (this.ip === undefined) {
      const hex = this.plain.t === 'str' && looksLikeIp(this.plain.s) ? ipHex(this.plain.s) : null;
      this.ip = hex === null ? this.plain : { t: 'ip', hex };
    }
    return this.ip;
  }
}

/**
 * A field path a pattern tests, split on dots. `keys[i][j]` is the event key that covers
 * segments `i..j` at once (`a.b` for `["a", "b"]`): event keys may themselves contain dots, and
 * EventBridge joins keys with dots before comparing paths.
 */
export interface Terminal {
  readonly path: string;
  readonly keys: readonly (readonly string[])[];
}

/**
 * Splits a path into a {@link Terminal}.
 *
 * @example
 * terminal('detail.state').keys; // [['detail', 'detail.state'], ['state']]
 */
export const terminal = (path: string): Terminal => {
  const segments = path.split('.');
  const keys = segments.map((_, i) => segments.slice(i).map((__, j) => segments.slice(i, i + j + 1).join('.')));
  return { path, keys };
};

const NO_MEMBERSHIP: readonly number[] = Object.freeze([]);
const NULL_VIEW: View = { t: 'text', text: 'null' };
const TRUE_VIEW: View = { t: 'text', text: 'true' };
const FALSE_VIEW: View = { t: 'text', text: 'false' };

const isAbsent = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * An event as a pattern sees it: the values at each of the pattern's paths, found on demand (a
 * pattern that fails on `source` never walks `detail`). Arrays get ids by identity so values
 * reached along different paths agree on which element they came from.
 */
export class EventFields {
  private readonly cache: (Field[] | undefined)[];
  private arrayIds: Map<object, number> | undefined;
  private readonly membership: number[] = [];
  private out: Field[] = [];
  /** Whether any value found so far sits inside an array element (array consistency matters). */
  inArrays = false;

  constructor(
    private readonly event: Record<string, unknown>,
    private readonly terminals: readonly Terminal[],
  ) {
    this.cache = new Array<Field[] | undefined>(terminals.length);
  }

  /** How many distinct arrays have been met; array ids are below this. */
  get arrayCount(): number {
    return this.arrayIds?.size ?? 0;
  }

  /** The values at a terminal path, in document order. */
  fields(index: number): readonly Field[] {
    let found = this.cache[index];
    if (found === undefined) {
      this.out = [];
      const t = this.terminals[index] as Terminal;
      this.walk(this.event, t, 0);
      found = this.out;
      this.cache[index] = found;
    }
    return found;
  }

  private walk(value: unknown, t: Terminal, depth: number): void {
    if (depth === t.keys.length) return this.leaves(value);
    if (typeof value !== 'object' || value === null || value instanceof RawNumber) return;
    if (value instanceof DuplicateKeyValues) {
      for (const each of value.values) this.walk(each, t, depth);
      return;
    }
    if (Array.isArray(value)) {
      this.elements(value, (item) => this.walk(item, t, depth));
      return;
    }
    const obj = value as Record<string, unknown>;
    const keys = t.keys[depth] as readonly string[];
    for (let j = 0; j < keys.length; j++) {
      const key = keys[j] as string;
      if (hasOwn.call(obj, key)) {
        const v = obj[key];
        if (!isAbsent(v)) this.walk(v, t, depth + j + 1);
      }
    }
  }

  /** Iterates an array; only object and array elements make their values members of it. */
  private elements(items: readonly unknown[], visit: (item: unknown) => void): void {
    this.arrayIds ??= new Map();
    let id = this.arrayIds.get(items);
    if (id === undefined) {
      id = this.arrayIds.size;
      this.arrayIds.set(items, id);
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (typeof item === 'object' && item !== null && !(item instanceof RawNumber) && !(item instanceof DuplicateKeyValues)) {
        this.membership.push(id, i);
        visit(item);
        this.membership.length -= 2;
      } else {
        visit(isAbsent(item) ? null : item);
      }
    }
  }

  private leaves(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.add({ t: 'str', s: v }, undefined);
      case 'number':
        // JSON has no NaN or Infinity; JSON.stringify would send null.
        return Number.isFinite(v) ? this.add({ t: 'text', text: JSON.stringify(v) }, v) : this.add(NULL_VIEW, undefined);
      case 'boolean':
        return this.add(v ? TRUE_VIEW : FALSE_VIEW, undefined);
      case 'bigint':
        return this.add({ t: 'text', text: v.toString() }, eventNumber(v.toString()));
      case 'object':
        break;
      default:
        return;
    }
    if (v === null) return this.add(NULL_VIEW, undefined);
    if (v instanceof RawNumber) return this.add({ t: 'text', text: v.text }, eventNumber(v.text));
    if (v instanceof DuplicateKeyValues) {
      for (const each of v.values) this.leaves(each);
      return;
    }
    if (Array.isArray(v)) return this.elements(v, (item) => this.leaves(item));
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') this.leaves(json.call(v) as unknown);
    // A plain object has no value at this path, only below it.
  }

  private add(plain: View, num: number | undefined): void {
    const inArrays = this.membership.length > 0;
    if (inArrays) this.inArrays = true;
    this.out.push(new Field(plain, inArrays ? this.membership.slice() : NO_MEMBERSHIP, num));
  }
}
