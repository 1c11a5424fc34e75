import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, parsePattern, RawNumber, validatePattern } from './index.ts';

/** The reason AWS would give for refusing `raw`, or null if it is valid. */
const reason = (raw: string): string | null => {
  try {
    parsePattern(raw);
    return null;
  } catch (e) {
    if (e instanceof InvalidEventPatternError) return e.reason;
    throw e;
  }
};

describe('pattern shape', () => {
  it.each([
    ['[1, 2]', 'Filter is not an object'],
    ['', 'Filter is not an object'],
    ['{}', 'Empty objects are not allowed'],
    ['{"a": {}}', 'Empty objects are not allowed'],
    ['{"a": []}', 'Empty arrays are not allowed'],
    ['{"a": "x"}', '"a" must be an object or an array'],
    ['{"a": 42}', '"a" must be an object or an array'],
    ['{"a": [["x"]]}', 'Match value must be String, number, true, false, or null'],
    ['{"a": [{}]}', 'Match expression name not found'],
    ['{"a": [{"foo": 1}]}', 'Unrecognized match type foo'],
    ['{"a": [{"EXISTS": true}]}', 'Unrecognized match type EXISTS'],
    ['{"a": [{"prefix": "x", "b": 1}]}', 'Only one key allowed in match expression'],
  ])('%s → %s', (raw, why) => {
    expect(reason(raw)).toBe(why);
  });

  it('accepts what it should, trailing content after the object included (the engine stops reading there)', () => {
    expect(reason('{"a": ["x", 1, 1.5, true, false, null, {"prefix": ""}]}')).toBeNull();
    expect(reason('{"a": ["x"]} and then some')).toBeNull();
  });

  it('prefixes the message like AWS', () => {
    expect(() => parsePattern('{"a": []}')).toThrow('Event pattern is not valid. Reason: Empty arrays are not allowed');
    const error = (() => { try { parsePattern('{}'); } catch (e) { return e; } })() as InvalidEventPatternError;
    expect(error.code).toBe('InvalidEventPatternException');
    expect(error.name).toBe('InvalidEventPatternError');
  });
});

describe('operators', () => {
  it.each([
    ['{"a": [{"exactly": 1}]}', 'exact match pattern must be a string'],
    ['{"a": [{"prefix": 1}]}', 'prefix match pattern must be a string'],
    ['{"a": [{"prefix": {"foo": "x"}}]}', 'Unsupported prefix pattern: foo'],
    ['{"a": [{"suffix": {"equals-ignore-case": 5}}]}', 'equals-ignore-case match pattern must be a string'],
    ['{"a": [{"equals-ignore-case": ["x"]}]}', 'equals-ignore-case match pattern must be a string'],
    ['{"a": [{"exists": "yes"}]}', 'exists match pattern must be either true or false.'],
    ['{"a": [{"wildcard": 5}]}', 'wildcard match pattern must be a string'],
    ['{"a": [{"wildcard": "a**b"}]}', 'Consecutive wildcard characters at pos 2'],
    ['{"a": [{"wildcard": "a\\\\b"}]}', 'Invalid escape character at pos 2'],
    ['{"a": [{"cidr": "10.0.0.0"}]}', "Malformed CIDR, one '/' required"],
    ['{"a": [{"cidr": "10.0.0.0/x"}]}', 'Malformed CIDR, mask bits must be an integer'],
    ['{"a": [{"cidr": "10.0.0.0/32"}]}', 'IPv4 mask bits must be < 32'],
    ['{"a": [{"cidr": "nope/8"}]}', 'Nonstandard IP address: nope'],
    ['{"a": [{"cidr": "300.0.0.0/8"}]}', 'Invalid IP address: 300.0.0.0'],
  ])('%s → %s', (raw, why) => {
    expect(reason(raw)).toBe(why);
  });
});

describe('numeric', () => {
  it.each([
    ['{"a": [{"numeric": 5}]}', 'Value of numeric must be an array.'],
    ['{"a": [{"numeric": [5]}]}', 'Invalid member in numeric match: 5'],
    ['{"a": [{"numeric": ["=", "5"]}]}', 'Value of equals must be numeric'],
    ['{"a": [{"numeric": ["=", 5, 6]}]}', 'Too many elements in numeric expression'],
    ['{"a": [{"numeric": ["!=", 5]}]}', 'Unrecognized numeric range operator: !='],
    ['{"a": [{"numeric": [">", 5, ">", 6]}]}', 'Bad numeric range operator: >'],
    ['{"a": [{"numeric": [">", 5, 6]}]}', 'Bad value in numeric range: 6'],
    ['{"a": [{"numeric": [">", 5, "<", 5]}]}', 'Bottom must be less than top'],
    ['{"a": [{"numeric": [">", 1, "<", 2, 3]}]}', 'Too many terms in numeric range expression'],
    ['{"a": [{"numeric": ["<", 1e309]}]}', 'Cannot compare number : 1e309'],
    ['{"a": [{"numeric": ["=", 1E-400]}]}', 'Cannot compare number : 1E-400'],
  ])('%s → %s', (raw, why) => {
    expect(reason(raw)).toBe(why);
  });

  it('accepts numbers the literal form cannot compare, as text', () => {
    expect(reason('{"a": [1e400]}')).toBeNull();
  });
});

describe('anything-but', () => {
  it.each([
    ['{"a": [{"anything-but": null}]}', 'Value of anything-but must be an array or single string/number value.'],
    ['{"a": [{"anything-but": ["x", null]}]}', 'Inside anything but list, start|null|boolean is not supported.'],
    ['{"a": [{"anything-but": ["x", 1]}]}', 'Inside anything but list, either all values are number or string, mixed type is not supported'],
    ['{"a": [{"anything-but": {}}]}', 'Anything-But expression name not found'],
    ['{"a": [{"anything-but": {"foo": "x"}}]}', 'Unsupported anything-but pattern: foo'],
    ['{"a": [{"anything-but": {"prefix": ""}}]}', 'Null prefix/suffix not allowed'],
    ['{"a": [{"anything-but": {"suffix": [1]}}]}', 'prefix/suffix match pattern must be a string'],
    ['{"a": [{"anything-but": {"equals-ignore-case": 1}}]}',
      'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'],
    ['{"a": [{"anything-but": {"wildcard": ["x**"]}}]}', 'Consecutive wildcard characters at pos 2'],
    ['{"a": [{"anything-but": "x", "b": 1}]}', 'Too many elements in numeric expression'],
  ])('%s → %s', (raw, why) => {
    expect(reason(raw)).toBe(why);
  });
});

describe('$or', () => {
  it.each([
    ['{"$or": [{"a": ["1"]}]}', 'There must have at least 2 Objects in $or relationship.'],
    ['{"$or": {"a": ["1"]}}', 'It must be an Array followed with $or.'],
    ['{"$or": [{"a": ["1"]}, ["b"]]}', 'Only JSON object is allowed in array of $or relationship.'],
    ['{"$or": [{"a": ["1"]}, {"prefix": ["b"]}]}', 'prefix is Ruler reserved fieldName which cannot be used inside $or.'],
  ])('%s → %s', (raw, why) => {
    expect(reason(raw)).toBe(why);
  });
});

describe('wildcard complexity', () => {
  it('refuses what AWS refuses and accepts what it accepts', () => {
    const tooComplex = 'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character';
    expect(reason('{"arn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}')).toBe(tooComplex);
    expect(reason('{"arn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}')).toBeNull();
    expect(reason('{"f": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}')).toBeNull();
    expect(reason('{"f": [{"wildcard": "*/init/*"}, {"wildcard": "*/dir/*"}]}')).toBeNull();
  });
});

describe('JSON syntax, in Jackson words and order', () => {
  it.each([
    ['this is not json', "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"],
    ["{'a': ['x']}", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"],
    ['{"a": ["x" "y"]}', 'Unexpected character (\'"\' (code 34)): was expecting comma to separate Array entries'],
    ['{"a": ["x"}', 'Unexpected close marker \'}\': expected \']\' (for Array starting at [Source: (String)"{"a": ["x"}"; line: 1, column: 7])'],
    ['{"a": ["x"]', 'Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)"{"a": ["x"]"; line: 1, column: 1])'],
    ['{"a": [tru]}', "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"],
    ['{"a": [01]}', 'Invalid numeric value: Leading zeroes not allowed'],
  ])('%s → %s', (raw, why) => {
    expect(reason(raw)).toBe(why);
  });

  it('reports a check that fires before the parser reaches the syntax error', () => {
    expect(reason('{"a": [{"prefix": [1, 2 3]}]}')).toBe('prefix match pattern must be a string');
    expect(reason('{"a": "unterminated}')).toBe('"a" must be an object or an array');
  });
});

describe('validatePattern (already-parsed values)', () => {
  it('validates like the JSON text would', () => {
    expect(() => validatePattern({ source: ['shiplog.build'] })).not.toThrow();
    expect(() => validatePattern({ source: 'shiplog.build' })).toThrow('"source" must be an object or an array');
    expect(() => validatePattern(['x'])).toThrow('Filter is not an object');
    expect(() => validatePattern({ a: [{ numeric: ['<', new RawNumber('1e309')] }] })).toThrow('Cannot compare number : 1e309');
  });

  it('drops undefined members as JSON.stringify does', () => {
    expect(() => validatePattern({ a: ['x'], b: undefined })).not.toThrow();
    expect(() => validatePattern({ b: undefined })).toThrow('Empty objects are not allowed');
  });
});
