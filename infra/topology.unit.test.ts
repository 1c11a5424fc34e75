import { describe, expect, it } from 'vitest';
import { catalogEntries, Source } from '../events/catalog.ts';
import { compilePattern, validatePattern } from '../events/bus/pattern/index.ts';
import { subscriptions, terminalEvents } from './topology.ts';

// A probe per event type: what the rule sees of it, without data-dependent fields.
const probe = (type: string, source: string) => ({
  version: '0', id: 'probe', source, account: '000000000000', time: '2026-11-22T10:00:00Z', region: 'local', resources: [],
  'detail-type': type, detail: {},
});
// Data filters cannot be probed without data: keep what names the event (source, detail-type).
const namingPart = (pattern: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(pattern).filter(([k]) => k === 'source' || k === 'detail-type'));

const matchingTypes = (pattern: Record<string, unknown>) => {
  const m = compilePattern(namingPart(pattern));
  return catalogEntries().filter((e) => m(probe(e.type, e.source))).map((e) => e.type);
};

describe('topology', () => {
  it('names every subscription once, with a valid pattern and a sane policy', () => {
    const names = subscriptions.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const s of subscriptions) {
      expect(() => validatePattern(s.pattern), s.name).not.toThrow();
      expect(s.policy.maxAttempts).toBeGreaterThanOrEqual(1);
      expect(s.policy.maxAttempts - 1).toBeLessThanOrEqual(185); // EventBridge: 0–185 retries
      expect(s.policy.maxEventAgeSeconds).toBeGreaterThanOrEqual(60);
      expect(s.policy.maxEventAgeSeconds).toBeLessThanOrEqual(86_400);
      expect(s.handler).toMatch(/^[a-z][\w/-]*\.[A-Za-z]\w*$/);
    }
  });

  it('has no pattern that matches no event type of the catalog', () => {
    for (const s of subscriptions) expect(matchingTypes(s.pattern), s.name).not.toEqual([]);
  });

  it('gives every event type a service subscriber, or marks it terminal on purpose', () => {
    const reacted = new Set<string>(subscriptions.filter((s) => s.kind === 'service').flatMap((s) => matchingTypes(s.pattern)));
    const terminal = new Set<string>(terminalEvents);
    const orphans = catalogEntries().map((e) => e.type).filter((t) => !reacted.has(t) && !terminal.has(t));
    expect(orphans, 'event types nobody reacts to: subscribe to them or list them in terminalEvents').toEqual([]);
    // And the terminal list tells the truth: nothing marked terminal has a service subscriber.
    expect([...terminal].filter((t) => reacted.has(t))).toEqual([]);
  });

  it('names only shiplog sources', () => {
    const known = new Set<string>(Object.values(Source));
    for (const s of subscriptions) {
      const sources = (s.pattern.source as unknown[] | undefined) ?? [];
      for (const src of sources) if (typeof src === 'string') expect(known.has(src), `${s.name}: ${src}`).toBe(true);
    }
  });
});
