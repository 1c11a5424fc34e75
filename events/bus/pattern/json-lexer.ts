import {
  charDesc, invalidToken, isDigit, isIdentifierStart, JsonSyntaxError, scanLiteral, scanNumber, scanString,
  sourceLocation, unexpectedChar, VALUE_LIST,
} from './json-scan.ts';

export { JsonSyntaxError } from './json-scan.ts';

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

const MAX_DEPTH = 1000;
const COMMENT = "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)";

interface Context {
  readonly kind: 'array' | 'object';
  readonly start: number;
  entries: number;
}

const kindName = (ctx: Context): string => (ctx.kind === 'array' ? 'Array' : 'Object');

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
  private start = 0;
  private readonly stack: Context[] = [];
  private currentText = '';
  /** Offset just after the opening quote of a string token whose body is still unread. */
  private pendingString = -1;
  private lookahead: TokenType | null = null;
  private lookaheadText = '';
  private lookaheadStart = 0;

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
      this.pos = scanString(this.src, this.pendingString, 'value')[1];
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
      const [value, end] = scanString(this.src, this.pendingString, 'value');
      this.currentText = value;
      this.pos = end;
      this.pendingString = -1;
    }
    return this.currentText;
  }

  /** True if only whitespace remains after the root value. */
  atEnd(): boolean {
    if (this.pendingString >= 0) this.text();
    return this.skipWhitespace() < 0;
  }

  private take(type: TokenType, text: string): TokenType {
    this.lookahead = null;
    this.currentText = text;
    if (type === 'string') this.pendingString = this.pos;
    return type;
  }

  private nextAtRoot(): TokenType {
    const c = this.skipWhitespace();
    if (c < 0) return this.take('eof', '');
    if (c === 93 || c === 125) {
      const expected = c === 93 ? '}' : ']';
      throw new JsonSyntaxError(
        `Unexpected close marker '${String.fromCharCode(c)}': expected '${expected}' (for root starting at ${sourceLocation(this.src, 0, 0)})`,
      );
    }
    return this.lexValue(c, true);
  }

  /** Skips a separating comma after the first entry; returns the next significant character. */
  private afterComma(ctx: Context, c: number): number {
    if (ctx.entries === 0) return c;
    if (c !== 44) unexpectedChar(c, `was expecting comma to separate ${kindName(ctx)} entries`);
    this.pos++;
    const next = this.skipWhitespace();
    if (next < 0) this.eofInContext(ctx);
    return next;
  }

  private nextInArray(ctx: Context): TokenType {
    let c = this.skipWhitespace();
    if (c < 0) this.eofInContext(ctx);
    if (c === 93 || c === 125) return this.close(c, ctx);
    c = this.afterComma(ctx, c);
    ctx.entries++;
    return this.lexValue(c, false);
  }

  private nextInObject(ctx: Context): TokenType {
    let c = this.skipWhitespace();
    if (c < 0) this.eofInContext(ctx);
    if (c === 93 || c === 125) return this.close(c, ctx);
    c = this.afterComma(ctx, c);
    if (c !== 34) unexpectedChar(c, 'was expecting double-quote to start field name');
    const nameStart = this.pos;
    const [name, end] = scanString(this.src, this.pos + 1, 'name');
    this.pos = end;
    c = this.skipWhitespace();
    if (c < 0) throw new JsonSyntaxError('Unexpected end-of-input within/between Object entries');
    if (c !== 58) unexpectedChar(c, 'was expecting a colon to separate field name and value');
    this.pos++;
    c = this.skipWhitespace();
    if (c < 0) this.eofInContext(ctx);
    ctx.entries++;
    // Jackson reads the value's first token together with the field name, so its errors come first.
    const valueType = this.lexValue(c, false);
    this.lookahead = valueType;
    this.lookaheadText = this.currentText;
    this.lookaheadStart = this.start;
    this.pendingString = -1;
    this.start = nameStart;
    this.currentText = name;
    return 'fieldName';
  }

  private close(c: number, ctx: Context): TokenType {
    const expected = ctx.kind === 'array' ? 93 : 125;
    if (c !== expected) {
      throw new JsonSyntaxError(
        `Unexpected close marker '${String.fromCharCode(c)}': expected '${String.fromCharCode(expected)}' (for ${kindName(ctx)} starting at ${sourceLocation(this.src, ctx.start)})`,
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
        return this.take('string', '');
      case 123:
        this.open('object');
        return this.take('startObject', '{');
      case 91:
        this.open('array');
        return this.take('startArray', '[');
      case 116:
        return this.literal('true');
      case 102:
        return this.literal('false');
      case 110:
        return this.literal('null');
      case 125:
        return unexpectedChar(c, 'expected a value');
      default:
        if (c === 45 || isDigit(c)) {
          this.pos = scanNumber(this.src, this.start, atRoot);
          return this.take('number', this.src.slice(this.start, this.pos));
        }
        if (isIdentifierStart(c)) invalidToken(this.src, this.pos, '');
        return unexpectedChar(c, `expected a valid value ${VALUE_LIST}`);
    }
  }

  private literal(word: 'true' | 'false' | 'null'): TokenType {
    this.pos = scanLiteral(this.src, this.pos, word);
    return this.take(word, word);
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
      if (c === 47) unexpectedChar(c, COMMENT);
      if (c < 32) {
        throw new JsonSyntaxError(`Illegal character (${charDesc(c)}): only regular white space (\\r, \\n, \\t) is allowed between tokens`);
      }
      return c;
    }
    return -1;
  }

  private eofInContext(ctx: Context): never {
    throw new JsonSyntaxError(
      `Unexpected end-of-input: expected close marker for ${kindName(ctx)} (start marker at ${sourceLocation(this.src, ctx.start)})`,
    );
  }
}
