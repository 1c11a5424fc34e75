import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBatch, runSingle } from '../../cli/commands/events-test-pattern.ts';

// `shiplog events test-pattern --batch` over the whole conformance corpus, through the pure
// `runBatch` (the spawn test of the real binary lives with the CLI wiring).

interface MatchCase {
  id: string;
  tier: string;
  pattern_raw: string;
  event_raw: string;
  match: boolean;
}

interface InvalidCase {
  id: string;
  tier: string;
  pattern_raw: string;
  event_raw?: string;
  rejects: 'pattern' | 'event';
  error_message: string;
}

const dir = join(dirname(fileURLToPath(import.meta.url)), 'eventbridge-patterns');
const readJsonl = <T>(file: string): T[] =>
  readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);

const cases = readJsonl<MatchCase>('cases.jsonl');
const invalid = readJsonl<InvalidCase>('invalid-patterns.jsonl');

const ENVELOPE_EVENT =
  '{"id": "1", "account": "123456789012", "source": "s", "time": "2022-07-13T13:48:01Z", "region": "us-east-1", "detail-type": "d"}';

/** A line with pattern and event as strings holding their raw JSON. */
const stringLine = (pattern: string, event: string): string => JSON.stringify({ pattern, event });

/**
 * A line with pattern and event embedded as JSON values, spliced in as raw text so `300.0`,
 * duplicate keys and long integers survive. Newlines in valid JSON can only be whitespace.
 */
const valueLine = (pattern: string, event: string): string =>
  `{"pattern": ${pattern.replace(/[\r\n]/g, ' ')}, "event": ${event.replace(/[\r\n]/g, ' ')}}`;

const outputLines = (out: string): unknown[] => out.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);

describe('runBatch over the conformance corpus', () => {
  const aws = cases.filter((c) => c.tier === 'aws');
  const engine = cases.filter((c) => c.tier !== 'aws');

  it.each([
    ['strings holding raw JSON', stringLine],
    ['embedded JSON values', valueLine],
  ] as const)('answers every match case, with %s', (_form, line) => {
    const awsOut = outputLines(runBatch(aws.map((c) => line(c.pattern_raw, c.event_raw)).join('\n')));
    expect(awsOut).toEqual(aws.map((c) => ({ Result: c.match })));
    const engineOut = outputLines(runBatch(`${engine.map((c) => line(c.pattern_raw, c.event_raw)).join('\n')}\n`, { envelopeCheck: false }));
    expect(engineOut).toEqual(engine.map((c) => ({ Result: c.match })));
  });

  it('refuses every invalid case with its message', () => {
    const input = invalid.map((c) => stringLine(c.pattern_raw, c.rejects === 'event' ? c.event_raw ?? '' : c.event_raw ?? ENVELOPE_EVENT));
    const out = outputLines(runBatch(input.join('\n')));
    expect(out).toHaveLength(invalid.length);
    out.forEach((line, i) => {
      const c = invalid[i] as InvalidCase;
      expect(line, c.id).toEqual({ Error: expect.stringContaining(c.error_message) as unknown });
    });
  });

  it('is fast: the whole corpus in well under a second or two', () => {
    const input = [
      ...cases.map((c) => stringLine(c.pattern_raw, c.event_raw)),
      ...invalid.map((c) => stringLine(c.pattern_raw, c.event_raw ?? ENVELOPE_EVENT)),
    ].join('\n');
    const t0 = performance.now();
    const out = runBatch(input, { envelopeCheck: false });
    expect(out.split('\n')).toHaveLength(cases.length + invalid.length + 1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('runBatch lines', () => {
  it('reports a malformed line and carries on', () => {
    const out = outputLines(runBatch('not json\n{"pattern": {"a": ["x"]}}\n{"pattern": {"a": ["x"]}, "event": {"a": "x"}}\n\n', { envelopeCheck: false }));
    expect(out).toHaveLength(4);
    expect(out[0]).toEqual({ Error: expect.stringContaining('Invalid batch line') as unknown });
    expect(out[1]).toEqual({ Error: expect.stringContaining('missing "event"') as unknown });
    expect(out[2]).toEqual({ Result: true });
    expect(out[3]).toEqual({ Error: expect.stringContaining('Invalid batch line') as unknown });
  });

  it('honours raw number text in embedded values', () => {
    const line = '{"pattern": {"n": [{"numeric": ["=", 300.0]}], "s": ["300.0"]}, "event": {"n": 300, "s": "300.0"}}';
    expect(runBatch(line, { envelopeCheck: false })).toBe('{"Result":true}\n');
  });
});

describe('runSingle', () => {
  const event = '{"id":"1","account":"1","source":"shiplog.build","time":"t","region":"r","detail-type":"BuildSucceeded"}';

  it('prints the result like the AWS CLI', () => {
    expect(runSingle('{"source":["shiplog.build"]}', event)).toEqual({ stdout: '{"Result":true}\n', stderr: '', exitCode: 0 });
    expect(runSingle('{"source":["shiplog.deploy"]}', event).stdout).toBe('{"Result":false}\n');
  });

  it('exits 2 with the AWS error line for an invalid pattern or event', () => {
    expect(runSingle('{"source":[]}', event)).toEqual({
      stdout: '',
      stderr: 'An error occurred (InvalidEventPatternException) when calling the TestEventPattern operation: Event pattern is not valid. Reason: Empty arrays are not allowed\n',
      exitCode: 2,
    });
    expect(runSingle('{"source":["x"]}', '{"source":"x"}')).toEqual({
      stdout: '',
      stderr: 'An error occurred (ValidationException) when calling the TestEventPattern operation: Parameter Event is not valid.\n',
      exitCode: 2,
    });
  });

  it('reads @file arguments', () => {
    const file = join(dir, 'README.md');
    expect(runSingle(`@${file}`, event).stderr).toContain('InvalidEventPatternException');
    expect(runSingle('@/nonexistent/pattern.json', event).exitCode).toBe(2);
  });
});
