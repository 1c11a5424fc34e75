import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  InvalidEventError,
  InvalidEventPatternError,
  parsePattern,
  testEventPattern,
} from '../../events/bus/pattern/index.ts';

// The corpus (see eventbridge-patterns/README.md): `aws` rows are ground truth, the
// `event-ruler-*` rows are the verdicts of the engine AWS runs. Raw text is authoritative.

type Tier = 'aws' | 'event-ruler-test' | 'event-ruler-oracle';

interface MatchCase {
  id: string;
  tier: Tier;
  pattern_raw: string;
  event_raw: string;
  match: boolean;
}

interface InvalidCase {
  id: string;
  tier: Tier;
  pattern_raw: string;
  event_raw?: string;
  rejects: 'pattern' | 'event';
  error_message: string;
  error_code?: string;
}

const dir = join(dirname(fileURLToPath(import.meta.url)), 'eventbridge-patterns');
const readJsonl = <T>(file: string): T[] =>
  readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);

const cases = readJsonl<MatchCase>('cases.jsonl');
const invalid = readJsonl<InvalidCase>('invalid-patterns.jsonl');

/**
 * Cases we knowingly do not reproduce, by id, with the reason. Empty: every case passes. Only
 * event-ruler-tier rows may ever be listed here; `aws` rows are never skipped.
 */
const SKIPPED = new Map<string, string>([]);

const ENVELOPE_EVENT =
  '{"id": "1", "account": "123456789012", "source": "s", "time": "2022-07-13T13:48:01Z", "region": "us-east-1", "detail-type": "d"}';

const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('eventbridge pattern corpus', () => {
  it('has every row', () => {
    expect(cases).toHaveLength(1569);
    expect(invalid).toHaveLength(137);
    for (const id of SKIPPED.keys()) expect(cases.find((c) => c.id === id)?.tier).not.toBe('aws');
  });
});

describe.each(['aws', 'event-ruler-test', 'event-ruler-oracle'] as const)('match cases, tier %s', (tier) => {
  const rows = cases.filter((c) => c.tier === tier && !SKIPPED.has(c.id));
  it.each(rows.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    // AWS's TestEventPattern demands the envelope fields; the engine's own inputs often lack them.
    const result = testEventPattern(c.pattern_raw, c.event_raw, { envelopeCheck: tier === 'aws' });
    expect(result).toBe(c.match);
  });
});

describe.each(['aws', 'event-ruler-test'] as const)('invalid cases, tier %s', (tier) => {
  const rows = invalid.filter((c) => c.tier === tier);
  it.each(rows.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    if (c.rejects === 'event') {
      const error = caught(() => testEventPattern(c.pattern_raw, c.event_raw ?? ''));
      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as InvalidEventError).code).toBe(c.error_code);
      expect((error as Error).message).toContain(c.error_message);
      return;
    }
    const error = caught(() => parsePattern(c.pattern_raw));
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as InvalidEventPatternError).code).toBe('InvalidEventPatternException');
    expect((error as Error).message).toContain(c.error_message);
    // TestEventPattern refuses it the same way, whatever the event.
    const viaTest = caught(() => testEventPattern(c.pattern_raw, c.event_raw ?? ENVELOPE_EVENT));
    expect((viaTest as Error).message).toBe((error as Error).message);
  });
});
