import { describe, expect, it } from 'vitest';
import { ignoreCaseMatcher } from './ignore-case.ts';
import { cidrRange, inIpRange, ipHex, ipLiteralRange } from './ip.ts';
import { comparablePatternNumber, eventNumber, patternNumber } from './numbers.ts';
import { globMatches, parseWildcard, wildcardComplexity } from './wildcard.ts';

describe('IP addresses', () => {
  it.each([
    ['10.0.0.1', '0A000001'],
    ['255.255.255.255', 'FFFFFFFF'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::ff00:42:8329', '20010DB8000000000000FF0000428329'],
    ['::ffff:a00:1', '0A000001'],
    ['0000000001::', '00010000000000000000000000000000'],
  ])('%s → %s', (ip, hex) => {
    expect(ipHex(ip)).toBe(hex);
  });

  it.each(['10.0.0', '256.0.0.1', '010.0.0.1', '1:2', ':1', '1:2:3:4:5:6:7:8:9', 'a.b.c.d', '08:23'])('%s is no address', (s) => {
    expect(ipHex(s)).toBeNull();
  });

  it('builds CIDR ranges from the masked base address', () => {
    expect(cidrRange('54.240.196.171/24')).toEqual({ bottom: '36F0C400', top: '36F0C4FF', openBottom: false, openTop: false });
    expect(cidrRange('2600:1F14::/35').top).toBe('26001F141FFFFFFFFFFFFFFFFFFFFFFF');
    expect(() => cidrRange('10.0.0.0/')).toThrow("Malformed CIDR, one '/' required");
    expect(() => cidrRange('10.0.0.0/-1')).toThrow('Malformed CIDR, mask bits must not be negative');
    expect(() => cidrRange('::/128')).toThrow('IPv6 mask bits must be < 128');
  });

  it('turns an address literal into a one-address range', () => {
    const range = ipLiteralRange('10.0.0.15');
    expect(range).toEqual({ bottom: '0A00000E', top: '0A00000F', openBottom: true, openTop: false });
    expect(inIpRange(range!, '0A00000F')).toBe(true);
    expect(inIpRange(range!, '0A00000E')).toBe(false);
    expect(ipLiteralRange('not-an-ip')).toBeNull();
  });
});

describe('numbers', () => {
  it('compares as doubles and refuses what a double cannot hold', () => {
    expect(comparablePatternNumber('3.018e2')).toBe(301.8);
    expect(comparablePatternNumber('0.0')).toBe(0);
    expect(comparablePatternNumber('1e400')).toBeUndefined();
    expect(comparablePatternNumber('1e-400')).toBeUndefined();
    expect(() => patternNumber('2.0e422')).toThrow('Cannot compare number : 2.0e422');
    expect(eventNumber('1e-400')).toBe(0);
    expect(eventNumber('1e400')).toBeUndefined();
  });
});

describe('wildcards', () => {
  it('parses pieces and escapes', () => {
    expect(parseWildcard('*.png').pieces).toEqual(['', '.png']);
    expect(parseWildcard('a\\*b\\\\c').pieces).toEqual(['a*b\\c']);
    expect(() => parseWildcard('é**')).toThrow('Consecutive wildcard characters at pos 3');
    expect(() => parseWildcard('a\\b')).toThrow('Invalid escape character at pos 2');
  });

  it('matches greedily-correct', () => {
    const glob = parseWildcard('a*b*c');
    expect(globMatches(glob, 'abc')).toBe(true);
    expect(globMatches(glob, 'aXbYbZc')).toBe(true);
    expect(globMatches(glob, 'ac')).toBe(false);
    expect(globMatches(parseWildcard('ab*ba'), 'aba')).toBe(false);
  });

  it('scores complexity', () => {
    expect(wildcardComplexity([parseWildcard('plain')], 100)).toBe(1);
    expect(wildcardComplexity([parseWildcard('*:*:*:*:*:event-bus/*')], 100)).toBe(13);
    expect(wildcardComplexity([parseWildcard('*:*:*:*:*:event-bus/*')], 5)).toBe(5);
  });
});

describe('ignore case', () => {
  it('builds per-character alternatives', () => {
    expect(ignoreCaseMatcher('ÉTÉ', 'whole')('été')).toBe(true);
    expect(ignoreCaseMatcher('a+b', 'whole')('A+B')).toBe(true);
    expect(ignoreCaseMatcher('a+b', 'whole')('aab')).toBe(false);
    expect(ignoreCaseMatcher('k', 'whole')('\u212a')).toBe(false);
    expect(ignoreCaseMatcher('ab', 'suffix')('xxAB')).toBe(true);
  });
});
