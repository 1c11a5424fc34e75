import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The real command, as CI and outside checks run it: `shiplog events test-pattern --batch`.
const dir = new URL('./eventbridge-patterns/', import.meta.url);
const rows = (file: string) =>
  readFileSync(new URL(file, dir), 'utf8').split('\n').filter(Boolean).map((line) => ({ line, row: JSON.parse(line) as Row }));
interface Row { id: string; tier: string; match?: boolean; error_message?: string; pattern_raw: string; event_raw: string }

const runCli = (args: string[], input: string) => {
  const r = spawnSync(process.execPath, ['cli/shiplog.mjs', 'events', 'test-pattern', ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l) as { Result?: boolean; Error?: string });
};

const expectVerdicts = (cases: { row: Row }[], out: { Result?: boolean; Error?: string }[]) => {
  expect(out).toHaveLength(cases.length);
  const wrong = cases.flatMap(({ row }, i) => {
    const got = out[i]!;
    const ok = row.error_message !== undefined
      ? typeof got.Error === 'string' && got.Error.includes(row.error_message.replace(/^Event pattern is not valid\. Reason: /, ''))
      : got.Result === row.match;
    return ok ? [] : [`${row.id}: expected ${row.error_message ?? row.match}, got ${JSON.stringify(got)}`];
  });
  expect(wrong).toEqual([]);
};

describe('shiplog events test-pattern --batch (spawned)', () => {
  const cases = rows('cases.jsonl');
  const invalid = rows('invalid-patterns.jsonl');

  it('gives every conformance row its verdict when fed the corpus lines as they are', () => {
    const all = [...cases, ...invalid];
    expectVerdicts(all, runCli(['--batch'], all.map((c) => c.line).join('\n') + '\n'));
  }, 60_000);

  it('matches bare {"pattern","event"} lines as the engine does, and AWS rows strictly with --strict-envelope', () => {
    const line = (r: Row) => JSON.stringify({ pattern: r.pattern_raw, event: r.event_raw });
    const engine = [...cases, ...invalid].filter((c) => c.row.tier !== 'aws' && c.row.pattern_raw !== undefined);
    expectVerdicts(engine, runCli(['--batch'], engine.map((c) => line(c.row)).join('\n') + '\n'));
    const aws = [...cases, ...invalid].filter((c) => c.row.tier === 'aws' && c.row.pattern_raw !== undefined && c.row.event_raw !== undefined);
    expectVerdicts(aws, runCli(['--batch', '--strict-envelope'], aws.map((c) => line(c.row)).join('\n') + '\n'));
  }, 60_000);

  it('prints {"Result":…} for a single test, and exits 2 with AWS\'s message for an invalid pattern', () => {
    const event = JSON.stringify({ id: '1', account: '1', source: 'shiplog.build', time: '2026-11-22T10:00:00Z', region: 'local', 'detail-type': 'BuildStarted' });
    const ok = spawnSync(process.execPath, ['cli/shiplog.mjs', 'events', 'test-pattern', '--pattern', '{"source":[{"prefix":"shiplog."}]}', '--event', event], { encoding: 'utf8' });
    expect(ok.stdout).toBe('{"Result":true}\n');
    const bad = spawnSync(process.execPath, ['cli/shiplog.mjs', 'events', 'test-pattern', '--pattern', '{"source":[]}', '--event', event], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/InvalidEventPatternException.*Event pattern is not valid\. Reason: Empty arrays are not allowed/);
  });
});
