import type { TokenSource, TokenType } from './json-lexer.ts';
import { RawNumber } from './json.ts';

interface Token {
  type: TokenType;
  text: string;
}

const numberText = (n: number): string | null => (Number.isFinite(n) ? JSON.stringify(n) : null);

const isSkipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * The tokens `JSON.stringify(value)` would produce, but with {@link RawNumber} and bigint text
 * kept as written; so a parsed value validates exactly like its JSON text would.
 */
const emit = (value: unknown, out: Token[], seen: Set<object>): void => {
  if (value !== null && typeof value === 'object' && 'toJSON' in value && !(value instanceof RawNumber)
      && typeof value.toJSON === 'function') {
    value = (value.toJSON as () => unknown)();
  }
  if (value === null) return void out.push({ type: 'null', text: 'null' });
  switch (typeof value) {
    case 'string':
      return void out.push({ type: 'string', text: value });
    case 'boolean':
      return void out.push(value ? { type: 'true', text: 'true' } : { type: 'false', text: 'false' });
    case 'bigint':
      return void out.push({ type: 'number', text: value.toString() });
    case 'number': {
      const text = numberText(value);
      return void out.push(text === null ? { type: 'null', text: 'null' } : { type: 'number', text });
    }
    case 'object':
      break;
    default:
      return void out.push({ type: 'null', text: 'null' });
  }
  if (value instanceof RawNumber) return void out.push({ type: 'number', text: value.text });
  if (seen.has(value)) throw new TypeError('Converting circular structure to JSON');
  seen.add(value);
  if (Array.isArray(value)) {
    out.push({ type: 'startArray', text: '[' });
    for (const item of value) emit(isSkipped(item) ? null : item, out, seen);
    out.push({ type: 'endArray', text: ']' });
  } else {
    out.push({ type: 'startObject', text: '{' });
    for (const [key, item] of Object.entries(value)) {
      if (isSkipped(item)) continue;
      out.push({ type: 'fieldName', text: key });
      emit(item, out, seen);
    }
    out.push({ type: 'endObject', text: '}' });
  }
  seen.delete(value);
};

/**
 * Tokens of an already-parsed value, following `JSON.stringify` (undefined members dropped,
 * `toJSON` honoured, non-finite numbers as null) but keeping {@link RawNumber} text.
 *
 * @example
 * const tokens = new ValueTokens({ a: [1] });
 * tokens.next(); // 'startObject'
 */
export class ValueTokens implements TokenSource {
  private readonly tokens: Token[] = [];
  private index = -1;

  constructor(value: unknown) {
    emit(value, this.tokens, new Set());
  }

  next(): TokenType {
    this.index = Math.min(this.index + 1, this.tokens.length);
    return this.tokens[this.index]?.type ?? 'eof';
  }

  text(): string {
    return this.tokens[this.index]?.text ?? '';
  }
}
