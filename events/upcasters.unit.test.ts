import { describe, expect, it } from 'vitest';
import { catalog, catalogEntries, EventType, parseEventData } from './catalog.ts';
import type { StoredEvent } from './envelope.ts';
import { eventTypes, makeUpcast, upcast, UpcastError, upcasters } from './upcasters.ts';

const stored = (type: string, schemaVersion: number, data: unknown): StoredEvent => ({
  type,
  data,
  metadata: {
    eventId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ', streamId: 'build#d1', version: 3, occurredAt: '2025-01-10T09:00:00.000Z',
    schemaVersion, correlationId: 'd1', causationId: '01JD2Z8J6X3Q4R5S6T7V8W9XYY', projectId: 'web', deploymentId: 'd1',
    actor: { kind: 'service', id: 'build' },
  },
  position: '2025-01-10T09:00:00.010Z#0#01JD2Z8J6X3Q4R5S6T7V8W9XYZ',
  recordedAt: '2025-01-10T09:00:00.010Z',
});

const v1Failure = {
  projectId: 'web', deploymentId: 'd1', buildId: 'b1', durationMs: 30000,
  error: 'next build exited with code 1\n\n./app/page.tsx:4:7\nType error: Property "x" does not exist',
};

describe('upcasting', () => {
  it('turns a BuildFailed v1 into the current type, which parses with the current schema', () => {
    const old = stored(EventType.BuildFailed, 1, v1Failure);
    const current = upcast(old);
    expect(current.metadata.schemaVersion).toBe(catalog.BuildFailed.schemaVersion);
    const data = parseEventData(EventType.BuildFailed, current.data);
    expect(data).toEqual({
      projectId: 'web', deploymentId: 'd1', buildId: 'b1', durationMs: 30000,
      reason: 'build-failed', exitCode: 1, message: 'next build exited with code 1',
      logTail: ['./app/page.tsx:4:7', 'Type error: Property "x" does not exist'],
    });
    expect({ ...current, data: undefined, metadata: { ...current.metadata, schemaVersion: 1 } }).toEqual({ ...old, data: undefined });
    expect(old.data).toBe(v1Failure); // the input is not mutated
  });

  it('infers what it can from v1 text, and falls back to unknown / null', () => {
    const install = upcast(stored(EventType.BuildFailed, 1, { ...v1Failure, error: 'npm ci failed: ERESOLVE' }));
    expect(install.data).toMatchObject({ reason: 'install-failed', exitCode: null, logTail: [] });
    const vague = upcast(stored(EventType.BuildFailed, 1, { ...v1Failure, error: 'boom' }));
    expect(parseEventData(EventType.BuildFailed, vague.data)).toMatchObject({ reason: 'unknown', exitCode: null, message: 'boom' });
  });

  it('returns current events and unknown types unchanged', () => {
    const current = stored(EventType.BuildStarted, 1, { anything: true });
    expect(upcast(current)).toBe(current);
    const future = stored('SomethingNew', 7, {});
    expect(upcast(future)).toBe(future);
  });

  it('throws clearly for a version newer than the code, or a missing link', () => {
    expect(() => upcast(stored(EventType.BuildFailed, 3, {}))).toThrow(UpcastError);
    expect(() => upcast(stored(EventType.BuildFailed, 3, {}))).toThrow(/BuildFailed v3 .*newer than this code's v2/);
    const gap = makeUpcast({ Renamed: { 1: (d) => d } }, () => 3);
    expect(() => gap(stored('Renamed', 1, {}))).toThrow(/no upcaster Renamed v2 → v3 \(add upcasters\.Renamed\[2\]/);
  });

  it('wraps a failing link with the event it was reading', () => {
    expect(() => upcast(stored(EventType.BuildFailed, 1, { buildId: 'b1' }))).toThrow(/BuildFailed v1 \(event 01JD2Z8J6X3Q4R5S6T7V8W9XYZ\).*v1 → v2 failed/);
  });

  it('has a complete chain for every type with schemaVersion > 1, and nothing else', () => {
    for (const e of catalogEntries()) {
      for (let v = 1; v < e.schemaVersion; v += 1) expect([e.type, v, typeof upcasters[e.type]?.[v]]).toEqual([e.type, v, 'function']);
    }
    for (const [type, links] of Object.entries(upcasters)) {
      const current = catalog[type as EventType]?.schemaVersion ?? 0;
      for (const v of Object.keys(links).map(Number)) expect([type, v < current]).toEqual([type, true]);
    }
  });

  it('exposes the catalog as the store wants it', () => {
    expect(eventTypes.sourceOf(EventType.BuildFailed)).toBe('shiplog.build');
    expect(eventTypes.schemaVersionOf(EventType.BuildFailed)).toBe(2);
    expect(() => eventTypes.sourceOf('Nope')).toThrow(/Unknown event type "Nope"/);
    expect(eventTypes.upcast(stored(EventType.BuildFailed, 1, v1Failure)).metadata.schemaVersion).toBe(2);
  });
});
