import { JsonLexer, JsonSyntaxError, type TokenSource, type TokenType } from './json-lexer.ts';

/**
 * A JSON number kept as written, for numbers `JSON.parse` would change: `300.0`, 16+ digit
 * integers, `1e400`. The matcher compares its text where EventBridge compares text.
 *
 * @example
 * const n = new RawNumber('12345678901234567890');
 * Number(n); // 12345678901234567000
 */
export class RawNumber {
  constructor(readonly text: string) {}

  valueOf(): number {
    return Number(this.text);
  }

  toJSON(): number {
    return Number(this.text);
  }
}

/**
 * All the values one object gave the same key (`{"a": 1, "a": 2}`), in order. Events keep them
 * all, as EventBridge's streaming parser does; plain objects would keep only the last.
 *
 * @example
 * (parseJson('{"a": 1, "a": 2}', { duplicates: 'keep' }) as Record<string, unknown>).a; // DuplicateKeyValues [1, 2]
 */
export class DuplicateKeyValues {
  constructor(readonly values: JsonValue[]) {}
}

/** A parsed JSON value; numbers JSON.parse would alter stay {@link RawNumber}s. */
export type JsonValue = string | number | boolean | null | RawNumber | DuplicateKeyValues | JsonValue[] | JsonObject;

/** A parsed JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** How {@link parseJson} treats a key repeated in one object. */
export interface ParseJsonOptions {
  /** `last` (default) keeps the last value, like `JSON.parse`; `keep` keeps all of them. */
  duplicates?: 'last' | 'keep';
}

const numberValue = (text: string): number | RawNumber => {
  const n = Number(text);
  return String(n) === text ? n : new RawNumber(text);
};

const setMember = (obj: JsonObject, key: string, value: JsonValue, keep: boolean): void => {
  if (Object.prototype.hasOwnProperty.call(obj, key)) {
    const prior = obj[key] as JsonValue;
    if (keep) {
      value = prior instanceof DuplicateKeyValues ? new DuplicateKeyValues([...prior.values, value]) : new DuplicateKeyValues([prior, value]);
    }
  }
  // A plain assignment to "__proto__" would set the prototype instead of a member.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
};

const readValue = (tokens: TokenSource, type: TokenType, keep: boolean): JsonValue => {
  switch (type) {
    case 'string':
      return tokens.text();
    case 'number':
      return numberValue(tokens.text());
    case 'true':
      return true;
    case 'false':
      return false;
    case 'null':
      return null;
    case 'startArray': {
      const out: JsonValue[] = [];
      for (let t = tokens.next(); t !== 'endArray'; t = tokens.next()) out.push(readValue(tokens, t, keep));
      return out;
    }
    case 'startObject': {
      const out: JsonObject = {};
      for (let t = tokens.next(); t !== 'endObject'; t = tokens.next()) {
        const key = tokens.text();
        setMember(out, key, readValue(tokens, tokens.next(), keep), keep);
      }
      return out;
    }
    default:
      throw new JsonSyntaxError('No content to map due to end-of-input');
  }
}

const expectEnd = (lexer: JsonLexer): void => {
  if (!lexer.atEnd()) throw new JsonSyntaxError('Trailing content after the JSON value');
};

/**
 * Parses JSON text strictly (one value, nothing after it), keeping number text JSON.parse would
 * lose. Throws {@link JsonSyntaxError} with Jackson's wording.
 *
 * @example
 * parseJson('{"n": 300.0}'); // { n: RawNumber('300.0') }
 */
export const parseJson = (text: string, options: ParseJsonOptions = {}): JsonValue => {
  const lexer = new JsonLexer(text);
  const value = readValue(lexer, lexer.next(), options.duplicates === 'keep');
  expectEnd(lexer);
  return value;
};

/** One member of a top-level object: its parsed value and its exact text. */
export interface RawMember {
  value: JsonValue;
  raw: string;
}

/**
 * Parses a JSON object and returns each member's value together with its exact source text,
 * so a caller can hand that text on unchanged (number formatting, duplicate keys and all).
 *
 * @example
 * parseMembers('{"pattern": {"n": [300.0]}}').get('pattern')?.raw; // '{"n": [300.0]}'
 */
export const parseMembers = (text: string): Map<string, RawMember> => {
  const lexer = new JsonLexer(text);
  if (lexer.next() !== 'startObject') throw new JsonSyntaxError('not a JSON object');
  const members = new Map<string, RawMember>();
  for (let t = lexer.next(); t !== 'endObject'; t = lexer.next()) {
    const key = lexer.text();
    const type = lexer.next();
    const start = lexer.tokenStart;
    const value = readValue(lexer, type, false);
    members.set(key, { value, raw: text.slice(start, lexer.offset) });
  }
  expectEnd(lexer);
  return members;
};
