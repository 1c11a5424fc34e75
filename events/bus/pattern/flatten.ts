import { DuplicateKeyValues, RawNumber } from './json.ts';
import type { Mode, View } from './matchers.ts';
import { ipHex, looksLikeIp } from './ip.ts';
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

/** An event reduced to what a pattern can see: path → values, and how many arrays it has. */
export interface FlatEvent {
  readonly fields: ReadonlyMap<string, readonly Field[]>;
  readonly arrayCount: number;
}

const NO_MEMBERSHIP: readonly number[] = Object.freeze([]);
const NULL_VIEW: View = { t: 'text', text: 'null' };
const TRUE_VIEW: View = { t: 'text', text: 'true' };
const FALSE_VIEW: View = { t: 'text', text: 'false' };

const isContainer = (v: unknown): v is object =>
  typeof v === 'object' && v !== null && !(v instanceof RawNumber) && !(v instanceof DuplicateKeyValues);

const isAbsent = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

class Flattener {
  readonly fields = new Map<string, Field[]>();
  arrayCount = 0;
  private readonly membership: number[] = [];

  constructor(private readonly wanted: ReadonlySet<string> | null) {}

  private add(path: string, plain: View, num: number | undefined): void {
    const field = new Field(plain, this.membership.length === 0 ? NO_MEMBERSHIP : this.membership.slice(), num);
    const list = this.fields.get(path);
    if (list === undefined) this.fields.set(path, [field]);
    else list.push(field);
  }

  value(path: string, v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.add(path, { t: 'str', s: v }, undefined);
      case 'number':
        // JSON has no NaN or Infinity; JSON.stringify would send null.
        return Number.isFinite(v) ? this.add(path, { t: 'text', text: JSON.stringify(v) }, v) : this.add(path, NULL_VIEW, undefined);
      case 'boolean':
        return this.add(path, v ? TRUE_VIEW : FALSE_VIEW, undefined);
      case 'bigint':
        return this.add(path, { t: 'text', text: v.toString() }, eventNumber(v.toString()));
      case 'object':
        break;
      default:
        return;
    }
    if (v === null) return this.add(path, NULL_VIEW, undefined);
    if (v instanceof RawNumber) return this.add(path, { t: 'text', text: v.text }, eventNumber(v.text));
    if (v instanceof DuplicateKeyValues) {
      for (const each of v.values) this.value(path, each);
      return;
    }
    if (Array.isArray(v)) return this.array(path, v);
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return this.value(path, json.call(v) as unknown);
    this.object(path, v as Record<string, unknown>);
  }

  object(base: string | null, obj: Record<string, unknown>): void {
    for (const key of Object.keys(obj)) {
      const path = base === null ? key : `${base}.${key}`;
      if (this.wanted !== null && !this.wanted.has(path)) continue;
      const v = obj[key];
      if (!isAbsent(v)) this.value(path, v);
    }
  }

  private array(path: string, items: readonly unknown[]): void {
    const id = this.arrayCount++;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (isContainer(item)) {
        this.membership.push(id, i);
        this.value(path, item);
        this.membership.length -= 2;
      } else {
        this.value(path, isAbsent(item) ? null : item);
      }
    }
  }
}

/**
 * Flattens an event into leaf values keyed by dotted path (`detail.state`), keeping only paths
 * in `wanted` and their ancestors (pass every prefix of every path a pattern uses), or
 * everything when `wanted` is null. Returns null if the event is not a JSON object.
 *
 * @example
 * flattenEvent({ detail: { state: ['a', 'b'] } }, null)?.fields.get('detail.state')?.length; // 2
 */
export const flattenEvent = (event: unknown, wanted: ReadonlySet<string> | null): FlatEvent | null => {
  if (!isContainer(event) || Array.isArray(event)) return null;
  const flattener = new Flattener(wanted);
  flattener.object(null, event as Record<string, unknown>);
  return { fields: flattener.fields, arrayCount: flattener.arrayCount };
};
