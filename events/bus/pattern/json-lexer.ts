/**
 * A pull tokenizer for JSON text that fails the way Jackson's streaming parser does: same
 * messages, and errors surface only when the offending token is pulled. event-ruler validates a
 * pattern while it streams it, so which of two problems AWS reports depends on that order.
 */

/** What `next()` can return; `eof` only ever at the root. */
export type TokenType =
  | 'startObject' | 'endObject' | 'startArray' | 'endArray' | 'fieldName'
  | 'string' | 'number' | 'true' | 'false' | 'null' | 'eof';

/**
 * Anything that yields JSON tokens in document order: the lexer over raw text, or a walk over
 * an already-parsed value.
 *
 * @example
 * const tokens: TokenSource = new JsonLexer('{"a": [1]}');
 * tokens.next(); // 'startObject'
 */
export interface TokenSource {
  next(): TokenType;
  /** The current token's text: a field name, a string's content, a number as written, `{`, `]`… */
  text(): string;
}

/**
 * Malformed JSON, with Jackson's wording (the first line of its message, without ` at [Source…]`).
 *
 * @example
 * new JsonSyntaxError("Unexpected character ('3' (code 51)): was expecting comma to separate Array entries");
 */
export class JsonSyntaxError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JsonSyntaxError';
  }
}

const VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
const MAX_ERROR_TOKEN_LENGTH = 256;
const MAX_SOURCE_IN_LOCATION = 500;
const MAX_DEPTH = 1000;

interface Context {
  readonly kind: 'array' | 'object';
  readonly start: number;
  entries: number;
}

const isIsoControl = (c: number): boolean => c <= 0x1f || (c >= 0x7f && c <= 0x9f);

/** Jackson's `_getCharDesc`. */
export const charDesc = (c: number): string => {
  if (isIsoControl(c)) return `(CTRL-CHAR, code ${c})`;
  const ch = String.fromCharCode(c);
  return c > 255 ? `'${ch}' (code ${c} / 0x${c.toString(16)})` : `'${ch}' (code ${c})`;
};

const IDENTIFIER_PART = /[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Sc}\p{Cf}]/u;
const IDENTIFIER_START = /[\p{L}\p{Nl}\p{Pc}\p{Sc}]/u;
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Streams tokens from JSON text. Strings are lazy like Jackson's: their body is only decoded
 * (and its errors only raised) when `text()` is asked for or the next token is pulled.
 *
 * @example
 * const lexer = new JsonLexer('{"a": "b"}');
 * lexer.next(); lexer.next(); lexer.text(); // 'a'
 */
export class JsonLexer implements TokenSource {
  private pos = 0;
  private readonly stack: Context[] = [];
  private current: TokenType = 'eof';
  private currentText = '';
  /** Offset just after the opening quote of a string token whose body is still unread. */
  private pendingString = -1;
  private lookahead: TokenType | null = null;
  private lookaheadText = '';
  private lookaheadStart = 0;
  private start = 0;

  constructor(private readonly src: string) {}

  /** Offset where the current token starts in the text. */
  get tokenStart(): number {
    return this.start;
  }

  /** Offset just past everything read so far (a pending string is read to its end first). */
  get offset(): number {
    if (this.pendingString >= 0) this.text();
    return this.pos;
  }

  next(): TokenType {
    if (this.pendingString >= 0) {
      this.pos = this.readString(this.pendingString, 'value')[1];
      this.pendingString = -1;
    }
    if (this.lookahead !== null) {
      this.start = this.lookaheadStart;
      return this.take(this.lookahead, this.lookaheadText);
    }
    const ctx = this.stack[this.stack.length - 1];
    if (ctx === undefined) return this.nextAtRoot();
    return ctx.kind === 'array' ? this.nextInArray(ctx) : this.nextInObject(ctx);
  }

  text(): string {
    if (this.pendingString >= 0) {
      const [value, end] = this.readString(this.pendingString, 'value');
      this.currentText = value;
      this.pos = end;
      this.pendingString = -1;
    }
    return this.currentText;
  }

  /** True if only whitespace remains after the root value. */
  atEnd(): boolean {
    if (this.pendingString >= 0) this.next();
    const c = this.skipWhitespace();
    return c < 0;
  }

  private take(type: TokenType, text: string): TokenType {
    this.lookahead = null;
    this.current = type;
    this.currentText = text;
    if (type === 'string') {
      this.pendingString = this.pos;
    }
    return type;
  }

  private nextAtRoot(): TokenType {
    const c = this.skipWhitespace();
    if (c < 0) return this.take('eof', '');
    if (c === 93 || c === 125) {
      throw new JsonSyntaxError(
        `Unexpected close marker '${String.fromCharCode(c)}': expected '${c === 93 ? '}' : ']'}' (for root starting at ${this.location(0, 0)})`,
      );
    }
    return this.lexValue(c, true);
  }

  private nextInArray(ctx: Context): TokenType {
    let c = this.skipWhitespace();
    if (c < 0) this.eofInContext(ctx);
    if (c === 93 || c === 125) return this.close(c, ctx);
    if (ctx.entries > 0) {
      if (c !== 44) this.unexpected(c, 'was expecting comma to separate Array entries');
      this.pos++;
      c = this.skipWhitespace();
      if (c < 0) this.eofInContext(ctx);
    }
    ctx.entries++;
    return this.lexValue(c, false);
  }

  private nextInObject(ctx: Context): TokenType {
    let c = this.skipWhitespace();
    if (c < 0) this.eofInContext(ctx);
    if (c === 93 || c === 125) return this.close(c, ctx);
    if (ctx.entries > 0) {
      if (c !== 44) this.unexpected(c, 'was expecting comma to separate Object entries');
      this.pos++;
      c = this.skipWhitespace();
      if (c < 0) this.eofInContext(ctx);
    }
    if (c !== 34) this.unexpected(c, 'was expecting double-quote to start field name');
    this.start = this.pos;
    const [name, end] = this.readString(this.pos + 1, 'name');
    this.pos = end;
    c = this.skipWhitespace();
    if (c < 0) throw new JsonSyntaxError('Unexpected end-of-input within/between Object entries');
    if (c !== 58) this.unexpected(c, 'was expecting a colon to separate field name and value');
    this.pos++;
    c = this.skipWhitespace();
    if (c < 0) this.eofInContext(ctx);
    ctx.entries++;
    // Jackson reads the value's first token together with the field name, so its errors come first.
    const nameStart = this.start;
    const valueType = this.lexValue(c, false);
    this.lookahead = valueType;
    this.lookaheadText = this.currentText;
    this.lookaheadStart = this.start;
    if (valueType === 'string') this.pendingString = -1;
    this.start = nameStart;
    this.current = 'fieldName';
    this.currentText = name;
    return 'fieldName';
  }

  private close(c: number, ctx: Context): TokenType {
    const kind = ctx.kind === 'array' ? 93 : 125;
    if (c !== kind) {
      throw new JsonSyntaxError(
        `Unexpected close marker '${String.fromCharCode(c)}': expected '${String.fromCharCode(kind)}' (for ${ctx.kind === 'array' ? 'Array' : 'Object'} starting at ${this.location(ctx.start)})`,
      );
    }
    this.stack.pop();
    this.start = this.pos;
    this.pos++;
    return this.take(c === 93 ? 'endArray' : 'endObject', String.fromCharCode(c));
  }

  private open(kind: 'array' | 'object'): void {
    if (this.stack.length >= MAX_DEPTH) {
      throw new JsonSyntaxError(
        `Document nesting depth (${MAX_DEPTH + 1}) exceeds the maximum allowed (${MAX_DEPTH}, from \`StreamReadConstraints.getMaxNestingDepth()\`)`,
      );
    }
    this.stack.push({ kind, start: this.pos, entries: 0 });
    this.pos++;
  }

  private lexValue(c: number, atRoot: boolean): TokenType {
    this.start = this.pos;
    switch (c) {
      case 34:
        this.pos++;
        this.lookahead = null;
        return this.take('string', '');
      case 123:
        this.open('object');
        return this.take('startObject', '{');
      case 91:
        this.open('array');
        return this.take('startArray', '[');
      case 116:
        return this.take('true', this.matchLiteral('true'));
      case 102:
        return this.take('false', this.matchLiteral('false'));
      case 110:
        return this.take('null', this.matchLiteral('null'));
      case 125:
        return this.unexpected(c, 'expected a value');
      default:
        if (c === 45 || isDigit(c)) return this.take('number', this.readNumber(atRoot));
        if (IDENTIFIER_START.test(String.fromCharCode(c))) this.invalidToken(this.pos, '');
        return this.unexpected(c, `expected a valid value ${VALUE_LIST}`);
    }
  }

  private matchLiteral(word: string): string {
    const start = this.pos;
    for (let i = 1; i < word.length; i++) {
      if (this.src.charCodeAt(start + i) !== word.charCodeAt(i)) this.invalidToken(start + i, word.slice(0, i));
    }
    const end = start + word.length;
    const after = this.src.charAt(end);
    if (after !== '' && after >= '0' && after !== ']' && after !== '}' && IDENTIFIER_PART.test(after)) {
      this.invalidToken(end, word);
    }
    this.pos = end;
    return word;
  }

  private invalidToken(from: number, matched: string): never {
    let token = matched;
    let i = from;
    while (i < this.src.length && IDENTIFIER_PART.test(this.src.charAt(i))) {
      token += this.src.charAt(i++);
      if (token.length >= MAX_ERROR_TOKEN_LENGTH) {
        token += '...';
        break;
      }
    }
    throw new JsonSyntaxError(`Unrecognized token '${token}': was expecting ${VALUE_LIST}`);
  }

  private readNumber(atRoot: boolean): string {
    const src = this.src;
    const start = this.pos;
    let i = start;
    if (src.charCodeAt(i) === 45) {
      i++;
      if (!isDigit(src.charCodeAt(i))) {
        this.numberChar(i, 'expected digit (0-9) to follow minus sign, for valid numeric value');
      }
    }
    if (src.charCodeAt(i) === 48 && isDigit(src.charCodeAt(i + 1))) {
      throw new JsonSyntaxError('Invalid numeric value: Leading zeroes not allowed');
    }
    while (isDigit(src.charCodeAt(i))) i++;
    if (src.charCodeAt(i) === 46) {
      i++;
      if (!isDigit(src.charCodeAt(i))) this.numberChar(i, 'Decimal point not followed by a digit');
      while (isDigit(src.charCodeAt(i))) i++;
    }
    const e = src.charCodeAt(i);
    if (e === 101 || e === 69) {
      i++;
      const sign = src.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      if (!isDigit(src.charCodeAt(i))) this.numberChar(i, 'Exponent indicator not followed by a digit');
      while (isDigit(src.charCodeAt(i))) i++;
    }
    if (atRoot && i < src.length && !' \t\r\n'.includes(src.charAt(i))) {
      this.pos = i;
      this.unexpected(src.charCodeAt(i), 'Expected space separating root-level values');
    }
    this.pos = i;
    return src.slice(start, i);
  }

  private numberChar(i: number, why: string): never {
    if (i >= this.src.length) throw new JsonSyntaxError('Unexpected end-of-input in a Number value');
    throw new JsonSyntaxError(`Unexpected character (${charDesc(this.src.charCodeAt(i))}) in numeric value: ${why}`);
  }

  /** Decodes the string body starting at `from`; returns the value and the offset after the closing quote. */
  private readString(from: number, what: 'name' | 'value'): [string, number] {
    const src = this.src;
    let out = '';
    let chunk = from;
    let i = from;
    for (;;) {
      if (i >= src.length) {
        throw new JsonSyntaxError(
          what === 'name'
            ? 'Unexpected end-of-input in field name'
            : 'Unexpected end-of-input: was expecting closing quote for a string value',
        );
      }
      const c = src.charCodeAt(i);
      if (c === 34) return [out + src.slice(chunk, i), i + 1];
      if (c === 92) {
        out += src.slice(chunk, i);
        const [decoded, next] = this.escape(i + 1);
        out += decoded;
        i = next;
        chunk = i;
        continue;
      }
      if (c < 0x20) {
        throw new JsonSyntaxError(
          `Illegal unquoted character (${charDesc(c)}): has to be escaped using backslash to be included in ${what === 'name' ? 'name' : 'string value'}`,
        );
      }
      i++;
    }
  }

  private escape(i: number): [string, number] {
    if (i >= this.src.length) {
      throw new JsonSyntaxError('Unexpected end-of-input in character escape sequence');
    }
    const c = this.src.charCodeAt(i);
    switch (c) {
      case 34: return ['"', i + 1];
      case 92: return ['\\', i + 1];
      case 47: return ['/', i + 1];
      case 98: return ['\b', i + 1];
      case 102: return ['\f', i + 1];
      case 110: return ['\n', i + 1];
      case 114: return ['\r', i + 1];
      case 116: return ['\t', i + 1];
      case 117: {
        for (let k = 1; k <= 4; k++) {
          if (i + k >= this.src.length) throw new JsonSyntaxError('Unexpected end-of-input in character escape sequence');
          const h = this.src.charCodeAt(i + k);
          if (!isHex(h)) {
            throw new JsonSyntaxError(`Unexpected character (${charDesc(h)}): expected a hex-digit for character escape sequence`);
          }
        }
        return [String.fromCharCode(parseInt(this.src.slice(i + 1, i + 5), 16)), i + 5];
      }
      default:
        throw new JsonSyntaxError(`Unrecognized character escape ${charDesc(c)}`);
    }
  }

  /** Returns the next significant character code (without consuming it), or -1 at the end. */
  private skipWhitespace(): number {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) {
        this.pos++;
        continue;
      }
      if (c === 47) {
        this.unexpected(c, "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)");
      }
      if (c < 32) {
        throw new JsonSyntaxError(
          `Illegal character (${charDesc(c)}): only regular white space (\\r, \\n, \\t) is allowed between tokens`,
        );
      }
      return c;
    }
    return -1;
  }

  private unexpected(c: number, why: string): never {
    throw new JsonSyntaxError(`Unexpected character (${charDesc(c)}): ${why}`);
  }

  private eofInContext(ctx: Context): never {
    const kind = ctx.kind === 'array' ? 'Array' : 'Object';
    throw new JsonSyntaxError(
      `Unexpected end-of-input: expected close marker for ${kind} (start marker at ${this.location(ctx.start)})`,
    );
  }

  /** Jackson's `[Source: (String)"…"; line: L, column: C]` for an offset of this text. */
  location(offset: number, column?: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < this.src.length; i++) {
      const c = this.src.charCodeAt(i);
      if (c === 10 || (c === 13 && this.src.charCodeAt(i + 1) !== 10)) {
        line++;
        lineStart = i + 1;
      }
    }
    const shown = this.src.length > MAX_SOURCE_IN_LOCATION
      ? `"${this.src.slice(0, MAX_SOURCE_IN_LOCATION)}"[truncated ${this.src.length - MAX_SOURCE_IN_LOCATION} chars]`
      : `"${this.src}"`;
    return `[Source: (String)${shown}; line: ${line}, column: ${column ?? offset - lineStart + 1}]`;
  }

}
