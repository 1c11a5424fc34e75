import { describe, expect, it } from 'vitest';
import { seeded } from '../../test/property/random.ts';
import { timeOf } from './deployment.ts';

describe('timeOf', () => {
  it('reads ISO times as Date.parse does, month ends and leap days included', () => {
    const r = seeded(31);
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    const times: string[] = [
      '1970-01-01T00:00:00.000Z', '2000-02-29T23:59:59.999Z', '1900-02-28T12:00:00.000Z', '2024-12-31T23:59:59.999Z',
      '2026-11-30T10:00:00.000Z', '0100-03-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '1969-12-31T23:59:59.999Z',
    ];
    for (let i = 0; i < 5000; i++) {
      const year = r.int(100, 9999);
      const month = r.int(1, 12);
      const day = r.int(1, new Date(Date.UTC(year, month, 0)).getUTCDate());
      times.push(`${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(r.int(0, 23), 2)}:${pad(r.int(0, 59), 2)}:${pad(r.int(0, 59), 2)}.${pad(r.int(0, 999), 3)}Z`);
    }
    for (const t of times) expect(timeOf(t), t).toBe(Date.parse(t));
  });

  it('leaves what is not a plain ISO time to Date.parse / Date.UTC, as before', () => {
    expect(timeOf('2026-02-30T00:00:00.000Z')).toBe(Date.UTC(2026, 1, 30));
    expect(timeOf('2026-11-22T10:00:00Z')).toBe(Date.parse('2026-11-22T10:00:00Z'));
    expect(timeOf('2026-11-22T10:00:00.000+01:00')).toBe(Date.parse('2026-11-22T10:00:00.000+01:00'));
    expect(timeOf('2026-1x-22T10:00:00.000Z')).toBeNaN();
  });
});
