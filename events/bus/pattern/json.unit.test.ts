import { describe, expect, it } from 'vitest';
import {
  DuplicateKeyValues, InvalidEventError, JsonSyntaxError, parseEvent, parseJson, parseMembers, RawNumber, testEventPattern,
} from './index.ts';

const syntaxError = (text: string): string => {
  try {
    parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return e.reason;
    throw e;
  }
  return '(parsed)';
};

describe('parseJson', () => {
  it('parses like JSON.parse where nothing is lost', () => {
    const text = '{"a": [1, -2.5, "x\\n\\u00e9", true, false, null], "b": {"c": {}}}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it('keeps number text JSON.parse would change', () => {
    expect(parseJson('[300.0, 12345678901234567890, 1e400, -0, 1.5]')).toEqual([
      new RawNumber('300.0'), new RawNumber('12345678901234567890'), new RawNumber('1e400'), new RawNumber('-0'), 1.5,
    ]);
    expect(Number(new RawNumber('300.0'))).toBe(300);
    expect(JSON.stringify(new RawNumber('300.0'))).toBe('300');
  });

  it('keeps or drops repeated keys on request', () => {
    expect(parseJson('{"a": 1, "a": 2}')).toEqual({ a: 2 });
    expect(parseJson('{"a": 1, "a": 2, "a": 3}', { duplicates: 'keep' })).toEqual({ a: new DuplicateKeyValues([1, 2, 3]) });
  });

  it('stores "__proto__" as a member', () => {
    const value = parseJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a" 1}', "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"],
    ['{"a": 1,}', "Unexpected character ('}' (code 125)): was expecting double-quote to start field name"],
    ['[1,]', "Unexpected character (']' (code 93)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"],
    ['"abc', 'Unexpected end-of-input: was expecting closing quote for a string value'],
    ['"a\\x"', "Unrecognized character escape 'x' (code 120)"],
    ['"a\nb"', 'Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be included in string value'],
    ['-x', "Unexpected character ('x' (code 120)) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value"],
    ['1.e3', "Unexpected character ('e' (code 101)) in numeric value: Decimal point not followed by a digit"],
    ['[1] 2', 'Trailing content after the JSON value'],
    ['// hi\n{}', "Unexpected character ('/' (code 47)): maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)"],
    ['{"a": [1}', "Unexpected close marker '}': expected ']' (for Array starting at [Source: (String)\"{\"a\": [1}\"; line: 1, column: 7])"],
  ])('refuses %j: %s', (text, why) => {
    expect(syntaxError(text)).toBe(why);
  });

  it('reports line and column on later lines', () => {
    expect(syntaxError('{\n  "a": [1\n}')).toContain('line: 2, column: 8]');
  });
});

describe('parseMembers', () => {
  it('returns each member with its exact text', () => {
    const members = parseMembers('{"pattern": {"n": [300.0], "n": [1]}, "event" : "{\\"n\\": 1}" }');
    expect(members.get('pattern')?.raw).toBe('{"n": [300.0], "n": [1]}');
    expect(members.get('event')?.value).toBe('{"n": 1}');
    expect(members.get('event')?.raw).toBe('"{\\"n\\": 1}"');
  });

  it('refuses anything but one object', () => {
    expect(() => parseMembers('[1]')).toThrow(JsonSyntaxError);
    expect(() => parseMembers('{"a": 1} x')).toThrow(JsonSyntaxError);
  });
});

describe('events', () => {
  const envelope = '"id": "1", "account": "1", "source": "s", "time": "t", "region": "r", "detail-type": "d"';

  it('parses only JSON objects', () => {
    expect(() => parseEvent('"plain string"')).toThrow(InvalidEventError);
    expect(() => parseEvent('["x"]')).toThrow('Parameter Event is not valid.');
    expect(() => parseEvent('300.0')).toThrow(InvalidEventError);
    expect(() => parseEvent('{"a": ')).toThrow(InvalidEventError);
  });

  it('requires the envelope fields in testEventPattern unless told otherwise', () => {
    expect(testEventPattern('{"source": ["s"]}', `{${envelope}}`)).toBe(true);
    expect(() => testEventPattern('{"a": ["1"]}', '{"a": "1"}')).toThrow(InvalidEventError);
    expect(testEventPattern('{"a": ["1"]}', '{"a": "1"}', { envelopeCheck: false })).toBe(true);
  });

  it('checks the pattern before the event', () => {
    expect(() => testEventPattern('{"a": []}', 'nope')).toThrow('Empty arrays are not allowed');
  });
});
