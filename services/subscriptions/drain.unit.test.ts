import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../events/bus/pattern/index.ts';
import type { RuntimeLogRecord } from '../observability/index.ts';
import { CreateSubscriptionInput } from './commands.ts';
import { DEFAULT_DRAIN_PATTERN, drainEnvelope, levelsFrom } from './drain.ts';

const record = (level: RuntimeLogRecord['level'], extra: Partial<RuntimeLogRecord> = {}): RuntimeLogRecord => ({
  time: '2026-12-03T10:00:00.000Z', level, kind: 'console', projectId: 'web', deploymentId: 'd1', message: 'x', ...extra,
});

describe('log drain patterns', () => {
  it('names the levels at or above a minimum, warn as warning', () => {
    expect(levelsFrom('warn')).toEqual(['warning', 'error']);
    expect(levelsFrom('debug')).toEqual(['debug', 'info', 'warning', 'error']);
    expect(levelsFrom('error')).toEqual(['error']);
  });

  it('matches a record as the detail of an envelope: every record by default, by level or path when asked', () => {
    const all = compilePattern(DEFAULT_DRAIN_PATTERN);
    expect(all(drainEnvelope(record('debug')))).toBe(true);
    const warn = compilePattern({ 'detail-type': ['RuntimeLog'], detail: { level: levelsFrom('warn') } });
    expect([record('info'), record('warning'), record('error')].map((r) => warn(drainEnvelope(r)))).toEqual([false, true, true]);
    const api5xx = compilePattern({ detail: { path: [{ prefix: '/api/' }], status: [{ numeric: ['>=', 500] }] } });
    expect(api5xx(drainEnvelope(record('error', { path: '/api/x', status: 502 })))).toBe(true);
    expect(api5xx(drainEnvelope(record('error', { path: '/', status: 502 })))).toBe(false);
    // An event pattern of every shiplog source never matches a log record.
    expect(compilePattern({ source: [{ prefix: 'shiplog.' }], 'detail-type': [{ 'anything-but': 'RuntimeLog' }] })(drainEnvelope(record('info')))).toBe(false);
  });

  it('takes kind and minLevel in the create body, events by default', () => {
    expect(CreateSubscriptionInput.parse({ targetUrl: 'https://logs.example.com/in', kind: 'runtime-logs', minLevel: 'warn' })).toMatchObject({ kind: 'runtime-logs', minLevel: 'warn' });
    expect(CreateSubscriptionInput.parse({ targetUrl: 'https://hooks.example.com/x', eventPattern: '{"source":["shiplog.deploy"]}' }).kind).toBe('events');
    expect(CreateSubscriptionInput.safeParse({ targetUrl: 'https://hooks.example.com/x' }).success).toBe(false);
    expect(CreateSubscriptionInput.safeParse({ targetUrl: 'https://hooks.example.com/x', kind: 'runtime-logs', minLevel: 'loud' }).success).toBe(false);
  });
});
