/**
 * The character-level pieces of the JSON lexer: strings, numbers, literals, and Jackson's
 * wording for what can go wrong in them. Each scanner takes the text and an offset and returns
 * where it stopped (and what it read).
 */

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

/** Jackson's list of what may start a value. */
export const VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
const MAX_ERROR_TOKEN_LENGTH = 256;
const MAX_SOURCE_IN_LOCATION = 500;

const isIsoControl = (c: number): boolean => c <= 0x1f || (c >= 0x7f && c <= 0x9f);
const IDENTIFIER_PART = /[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Sc}\p{Cf}]/u;
const IDENTIFIER_START = /[\p{L}\p{Nl}\p{Pc}\p{Sc}]/u;
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** Whether a character code is an ASCII digit. */
export const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Whether Java would let `c` start an identifier (Jackson then reports an unrecognized token). */
export const isIdentifierStart = (c: number): boolean => IDENTIFIER_START.test(String.fromCharCode(c));

/**
 * Jackson's `_getCharDesc`.
 *
 * @example
 * charDesc(51); // "'3' (code 51)"
 */
export const charDesc = (c: number): string => {
  if (isIsoControl(c)) return `(CTRL-CHAR, code ${c})`;
  const ch = String.fromCharCode(c);
  return c > 255 ? `'${ch}' (code ${c} / 0x${c.toString(16)})` : `'${ch}' (code ${c})`;
};

/**
 * Throws Jackson's "Unexpected character" error.
 *
 * @example
 * unexpectedChar(51, 'was expecting comma to separate Array entries');
 */
export const unexpectedChar = (c: number, why: string): never => {
  throw new JsonSyntaxError(`Unexpected character (${charDesc(c)}): ${why}`);
};

/**
 * Jackson's `[Source: (String)"…"; line: L, column: C]` for an offset of `src`.
 *
 * @example
 * sourceLocation('{"a": [1}', 6); // '[Source: (String)"{"a": [1}"; line: 1, column: 7]'
 */
export const sourceLocation = (src: string, offset: number, column?: number): string => {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 10 || (c === 13 && src.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  const shown = src.length > MAX_SOURCE_IN_LOCATION
    ? `"${src.slice(0, MAX_SOURCE_IN_LOCATION)}"[truncated ${src.length - MAX_SOURCE_IN_LOCATION} chars]`
    : `"${src}"`;
  return `[Source: (String)${shown}; line: ${line}, column: ${column ?? offset - lineStart + 1}]`;
};

/**
 * Throws "Unrecognized token": the part matched so far plus the identifier characters after it.
 *
 * @example
 * invalidToken('this is', 1, 't'); // throws "Unrecognized token 'this': was expecting …"
 */
export const invalidToken = (src: string, from: number, matched: string): never => {
  let token = matched;
  let i = from;
  while (i < src.length && IDENTIFIER_PART.test(src.charAt(i))) {
    token += src.charAt(i++);
    if (token.length >= MAX_ERROR_TOKEN_LENGTH) {
      token += '...';
      break;
    }
  }
  throw new JsonSyntaxError(`Unrecognized token '${token}': was expecting ${VALUE_LIST}`);
};

/**
 * Reads `true`, `false` or `null` starting at `start`; returns the offset after it.
 *
 * @example
 * scanLiteral('[true]', 1, 'true'); // 5
 */
export const scanLiteral = (src: string, start: number, word: string): number => {
  for (let i = 1; i < word.length; i++) {
    if (src.charCodeAt(start + i) !== word.charCodeAt(i)) invalidToken(src, start + i, word.slice(0, i));
  }
  const end = start + word.length;
  const after = src.charAt(end);
  if (after !== '' && after >= '0' && after !== ']' && after !== '}' && IDENTIFIER_PART.test(after)) {
    invalidToken(src, end, word);
  }
  return end;
};

const numberChar = (src: string, i: number, why: string): never => {
  if (i >= src.length) throw new JsonSyntaxError('Unexpected end-of-input in a Number value');
  throw new JsonSyntaxError(`Unexpected character (${charDesc(src.charCodeAt(i))}) in numeric value: ${why}`);
};

const skipDigits = (src: string, i: number): number => {
  while (isDigit(src.charCodeAt(i))) i++;
  return i;
};

/**
 * Reads a JSON number starting at `start`; returns the offset after it. At the root, Jackson
 * also wants whitespace (or the end) right after.
 *
 * @example
 * scanNumber('[-1.5e3]', 1, false); // 7
 */
export const scanNumber = (src: string, start: number, atRoot: boolean): number => {
  let i = start;
  if (src.charCodeAt(i) === 45) {
    i++;
    if (!isDigit(src.charCodeAt(i))) numberChar(src, i, 'expected digit (0-9) to follow minus sign, for valid numeric value');
  }
  if (src.charCodeAt(i) === 48 && isDigit(src.charCodeAt(i + 1))) {
    throw new JsonSyntaxError('Invalid numeric value: Leading zeroes not allowed');
  }
  i = skipDigits(src, i);
  if (src.charCodeAt(i) === 46) {
    i++;
    if (!isDigit(src.charCodeAt(i))) numberChar(src, i, 'Decimal point not followed by a digit');
    i = skipDigits(src, i);
  }
  const e = src.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = src.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    if (!isDigit(src.charCodeAt(i))) numberChar(src, i, 'Exponent indicator not followed by a digit');
    i = skipDigits(src, i);
  }
  if (atRoot && i < src.length && !' \t\r\n'.includes(src.charAt(i))) {
    unexpectedChar(src.charCodeAt(i), 'Expected space separating root-level values');
  }
  return i;
};

const ESCAPES: Readonly<Record<number, string>> = {
  34: '"', 92: '\\', 47: '/', 98: '\b', 102: '\f', 110: '\n', 114: '\r', 116: '\t',
};

const scanEscape = (src: string, i: number): [string, number] => {
  if (i >= src.length) throw new JsonSyntaxError('Unexpected end-of-input in character escape sequence');
  const c = src.charCodeAt(i);
  const simple = ESCAPES[c];
  if (simple !== undefined) return [simple, i + 1];
  if (c !== 117) throw new JsonSyntaxError(`Unrecognized character escape ${charDesc(c)}`);
  for (let k = 1; k <= 4; k++) {
    if (i + k >= src.length) throw new JsonSyntaxError('Unexpected end-of-input in character escape sequence');
    const h = src.charCodeAt(i + k);
    if (!isHex(h)) throw new JsonSyntaxError(`Unexpected character (${charDesc(h)}): expected a hex-digit for character escape sequence`);
  }
  return [String.fromCharCode(parseInt(src.slice(i + 1, i + 5), 16)), i + 5];
};

/**
 * Decodes a string body starting just after its opening quote; returns the value and the
 * offset after the closing quote.
 *
 * @example
 * scanString('"ab"', 1, 'value'); // ['ab', 4]
 */
export const scanString = (src: string, from: number, what: 'name' | 'value'): [string, number] => {
  let out = '';
  let chunk = from;
  let i = from;
  for (;;) {
    if (i >= src.length) {
      throw new JsonSyntaxError(what === 'name'
        ? 'Unexpected end-of-input in field name'
        : 'Unexpected end-of-input: was expecting closing quote for a string value');
    }
    const c = src.charCodeAt(i);
    if (c === 34) return [out + src.slice(chunk, i), i + 1];
    if (c === 92) {
      out += src.slice(chunk, i);
      const [decoded, next] = scanEscape(src, i + 1);
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
};
