import { describe, expect, it } from 'vitest';
import { compilePattern, matches, parseEvent, parsePattern, RawNumber } from './index.ts';

/** Does `pattern` (an object, or raw JSON text) match `event` (an object, or raw JSON text)? */
const m = (pattern: object | string, event: object | string): boolean =>
  compilePattern(pattern)(typeof event === 'string' ? parseEvent(event) : event);

describe('exact values', () => {
  it('matches strings exactly and case-sensitively, keys included', () => {
    expect(m({ source: ['shiplog.build'] }, { source: 'shiplog.build' })).toBe(true);
    expect(m({ source: ['shiplog.build'] }, { source: 'shiplog.Build' })).toBe(false);
    expect(m({ MY_KEY: ['v'] }, { my_key: 'v' })).toBe(false);
  });

  it('treats the pattern array as OR, and an event array as "any element"', () => {
    expect(m({ s: ['a', 'b'] }, { s: 'b' })).toBe(true);
    expect(m({ s: ['a', 'b'] }, { s: ['x', 'a'] })).toBe(true);
    expect(m({ s: ['a', 'b'] }, { s: ['x', 'y'] })).toBe(false);
  });

  it('compares numbers numerically, and keeps numbers and strings apart', () => {
    expect(m('{"n": [300]}', '{"n": 300.0}')).toBe(true);
    expect(m('{"n": [3.0e2]}', '{"n": 300}')).toBe(true);
    expect(m({ n: [300] }, { n: '300' })).toBe(false);
    expect(m({ n: ['300'] }, { n: 300 })).toBe(false);
  });

  it('matches true, false and null only as such', () => {
    expect(m({ b: [true] }, { b: true })).toBe(true);
    expect(m({ b: [true] }, { b: 'true' })).toBe(false);
    expect(m({ v: [null] }, { v: null })).toBe(true);
    expect(m({ v: [null] }, { v: 'null' })).toBe(false);
  });

  it('does not treat a missing field or an empty array as null', () => {
    expect(m({ v: [null] }, {})).toBe(false);
    expect(m({ v: [null] }, { v: [] })).toBe(false);
  });

  it('matches the empty string', () => {
    expect(m({ v: [''] }, { v: '' })).toBe(true);
    expect(m({ v: [''] }, { v: null })).toBe(false);
  });

  it('keeps the text of numbers beyond double precision', () => {
    expect(m('{"n": [1e400]}', '{"n": 1e400}')).toBe(true);
    expect(m('{"n": [1e400]}', '{"n": 2e400}')).toBe(false);
    expect(m({ n: [new RawNumber('1e400')] }, { n: new RawNumber('1e400') })).toBe(true);
  });
});

describe('nested objects and paths', () => {
  it('walks nested objects', () => {
    expect(m({ detail: { metadata: { projectId: ['web'] } } }, { detail: { metadata: { projectId: 'web' } } })).toBe(true);
    expect(m({ detail: { metadata: { projectId: ['web'] } } }, { detail: { projectId: 'web' } })).toBe(false);
  });

  it('joins keys with dots, as EventBridge does', () => {
    expect(m({ 'detail.state': ['ok'] }, { detail: { state: 'ok' } })).toBe(true);
    expect(m({ detail: { state: ['ok'] } }, { 'detail.state': 'ok' })).toBe(true);
  });

  it('requires every field (AND)', () => {
    expect(m({ a: ['1'], b: ['2'] }, { a: '1', b: '2' })).toBe(true);
    expect(m({ a: ['1'], b: ['2'] }, { a: '1' })).toBe(false);
  });
});

describe('arrays of objects', () => {
  const event = { hypotheses: [{ isBluePrint: true, creator: 'A123' }, { isBluePrint: false, creator: 'A234' }] };

  it('matches fields of the same element only', () => {
    expect(m({ hypotheses: { isBluePrint: [true], creator: ['A123'] } }, event)).toBe(true);
    expect(m({ hypotheses: { isBluePrint: [true], creator: ['A234'] } }, event)).toBe(false);
  });

  it('applies to nested arrays too', () => {
    const songs = { songs: [{ writers: [{ first: 'John', last: 'Lennon' }, { first: 'Paul', last: 'McCartney' }] }] };
    expect(m({ songs: { writers: { first: ['Paul'], last: ['McCartney'] } } }, songs)).toBe(true);
    expect(m({ songs: { writers: { first: ['John'], last: ['McCartney'] } } }, songs)).toBe(false);
  });

  it('lets scalars of one array match separately', () => {
    expect(m({ tags: ['a'], other: ['x'] }, { tags: ['b', 'a'], other: 'x' })).toBe(true);
  });

  it('checks exists:false against the element chosen so far', () => {
    const employees = { employees: [[{ firstName: 'John', ids: [1] }, { firstName: 'Anna' }]] };
    expect(m({ employees: { firstName: ['Anna'], ids: [{ exists: false }] } }, employees)).toBe(true);
    expect(m({ employees: { firstName: ['John'], ids: [{ exists: false }] } }, employees)).toBe(false);
  });
});

describe('prefix and suffix', () => {
  it('match the start or end of strings only', () => {
    expect(m({ t: [{ prefix: '2017-10' }] }, { t: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(m({ f: [{ suffix: '.png' }] }, { f: 'cat.png' })).toBe(true);
    expect(m({ f: [{ suffix: '.png' }] }, { f: 'cat.PNG' })).toBe(false);
    expect(m({ n: [{ prefix: '1' }] }, { n: 12 })).toBe(false);
  });

  it('ignore case when asked', () => {
    expect(m({ s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, { s: 'eventbridge' })).toBe(true);
    expect(m({ f: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { f: 'CAT.PNG' })).toBe(true);
    expect(m({ f: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { f: 'cat.jpg' })).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches any casing, per character as Java does', () => {
    expect(m({ s: [{ 'equals-ignore-case': 'alice' }] }, { s: 'ALiCe' })).toBe(true);
    expect(m({ s: [{ 'equals-ignore-case': 'straße' }] }, { s: 'STRASSE' })).toBe(true);
    expect(m({ s: [{ 'equals-ignore-case': 'alice' }] }, { s: 'alic' })).toBe(false);
    expect(m({ s: [{ 'equals-ignore-case': 'a.c' }] }, { s: 'abc' })).toBe(false);
  });
});

describe('anything-but', () => {
  it('excludes a value or a list of values, but needs the field', () => {
    expect(m({ s: [{ 'anything-but': 'init' }] }, { s: 'running' })).toBe(true);
    expect(m({ s: [{ 'anything-but': 'init' }] }, { s: 'init' })).toBe(false);
    expect(m({ s: [{ 'anything-but': ['a', 'b'] }] }, { s: 'b' })).toBe(false);
    expect(m({ s: [{ 'anything-but': 'init' }] }, {})).toBe(false);
    expect(m({ s: [{ 'anything-but': 'init' }] }, { s: null })).toBe(true);
  });

  it('compares numbers numerically and passes other types', () => {
    expect(m({ n: [{ 'anything-but': [100, 200] }] }, { n: 200.0 })).toBe(false);
    expect(m({ n: [{ 'anything-but': [100, 200] }] }, { n: '200' })).toBe(true);
    expect(m({ n: [{ 'anything-but': '5' }] }, { n: 5 })).toBe(true);
  });

  it('supports prefix, suffix, equals-ignore-case and wildcard forms', () => {
    expect(m({ r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'eu-west-1' })).toBe(true);
    expect(m({ r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'us-east-1' })).toBe(false);
    expect(m({ f: [{ 'anything-but': { suffix: ['.png', '.jpg'] } }] }, { f: 'a.jpg' })).toBe(false);
    expect(m({ s: [{ 'anything-but': { 'equals-ignore-case': 'INIT' } }] }, { s: 'init' })).toBe(false);
    expect(m({ p: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { p: '/usr/lib/x' })).toBe(false);
    expect(m({ p: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { p: '/usr/bin/x' })).toBe(true);
  });

  it('is an OR with the other alternatives', () => {
    expect(m({ bar: [{ 'anything-but': 'a' }, { 'anything-but': 'b' }] }, { bar: 'a' })).toBe(true);
  });
});

describe('numeric', () => {
  it('matches ranges with open and closed ends', () => {
    const p = { c: [{ numeric: ['>', 0, '<=', 5] }] };
    expect(m(p, { c: 5 })).toBe(true);
    expect(m(p, { c: 0 })).toBe(false);
    expect(m(p, { c: 5.000001 })).toBe(false);
    expect(m({ c: [{ numeric: ['=', 3.018e2] }] }, { c: 301.8 })).toBe(true);
    expect(m({ c: [{ numeric: ['<', 10] }] }, { c: -1e12 })).toBe(true);
  });

  it('does not match numeric strings or null', () => {
    expect(m({ c: [{ numeric: ['>', 0] }] }, { c: '5' })).toBe(false);
    expect(m({ c: [{ numeric: ['>', 0] }] }, { c: null })).toBe(false);
  });

  it('works beyond the documented ±5e9 range, as the engine does', () => {
    expect(m({ t: [{ numeric: ['>', 5e9] }] }, { t: 6e9 })).toBe(true);
  });
});

describe('exists', () => {
  it('tests presence of a leaf value', () => {
    expect(m({ a: [{ exists: true }] }, { a: null })).toBe(true);
    expect(m({ a: [{ exists: true }] }, { a: [] })).toBe(false);
    expect(m({ a: [{ exists: true }] }, { a: { b: 1 } })).toBe(false);
    expect(m({ a: [{ exists: false }] }, { b: 1 })).toBe(true);
    expect(m({ a: [{ exists: false }] }, { a: 'x' })).toBe(false);
    expect(m({ a: [{ exists: false }] }, { a: [] })).toBe(true);
  });
});

describe('cidr and IP addresses', () => {
  it('matches IPv4 and IPv6 blocks, masking the base address', () => {
    expect(m({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.255' })).toBe(true);
    expect(m({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.0' })).toBe(false);
    expect(m({ ip: [{ cidr: '10.0.0.9/24' }] }, { ip: '10.0.0.1' })).toBe(true);
    expect(m({ ip: [{ cidr: '2001:db8::/64' }] }, { ip: '2001:0db8:0000:0000:0000:0000:0000:0001' })).toBe(true);
  });

  it('compares plain IP strings as addresses', () => {
    expect(m({ ip: ['2001:db8::1'] }, { ip: '2001:DB8:0:0:0:0:0:1' })).toBe(true);
    expect(m({ ip: ['10.0.0.1'] }, { ip: '10.0.0.2' })).toBe(false);
  });

  it('does not match non-addresses', () => {
    expect(m({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 'bad' })).toBe(false);
    expect(m({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 10 })).toBe(false);
  });
});

describe('wildcard', () => {
  it('matches * anywhere, with escapes', () => {
    expect(m({ f: [{ wildcard: '*/dir/*' }] }, { f: 'a/dir/b.txt' })).toBe(true);
    expect(m({ f: [{ wildcard: '/Users/*/doc.txt' }] }, { f: '/Users/me/x/doc.txt' })).toBe(true);
    expect(m({ f: [{ wildcard: 'a\\*b' }] }, { f: 'a*b' })).toBe(true);
    expect(m({ f: [{ wildcard: 'a\\*b' }] }, { f: 'axb' })).toBe(false);
    expect(m({ f: [{ wildcard: '' }] }, { f: '' })).toBe(true);
    expect(m({ f: [{ wildcard: '*' }] }, { f: 5 })).toBe(false);
  });
});

describe('$or', () => {
  const p = { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] };

  it('matches if any branch does', () => {
    expect(m(p, { source: 'aws.cloudwatch', namespace: 'AWS/EC2' })).toBe(true);
    expect(m(p, { source: 'aws.cloudwatch', metricName: 'CPUUtilization' })).toBe(true);
    expect(m(p, { source: 'aws.cloudwatch', metricName: 'Other' })).toBe(false);
    expect(m(p, { source: 'other', namespace: 'AWS/EC2' })).toBe(false);
  });

  it('nests', () => {
    const nested = { detail: { $or: [{ a: ['1'] }, { $or: [{ b: ['2'] }, { c: ['3'] }] }] } };
    expect(m(nested, { detail: { c: '3' } })).toBe(true);
    expect(m(nested, { detail: { d: '3' } })).toBe(false);
  });
});

describe('matches and parsed patterns', () => {
  it('reuses a parsed pattern and ignores non-object events', () => {
    const p = parsePattern('{"source": ["a"]}');
    expect(matches(p, { source: 'a' })).toBe(true);
    expect(matches(p, ['a'])).toBe(false);
    expect(matches(p, 'a')).toBe(false);
    expect(compilePattern(p)({ source: 'a' })).toBe(true);
  });

  it('lets the last of duplicate pattern keys win', () => {
    expect(m('{"a": ["1"], "a": ["2"]}', { a: '2' })).toBe(true);
    expect(m('{"a": ["1"], "a": ["2"]}', { a: '1' })).toBe(false);
  });

  it('keeps every value of a repeated event key', () => {
    expect(m({ a: ['1'] }, '{"a": "1", "a": "2"}')).toBe(true);
  });
});
