import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import {
  InvalidEventError,
  InvalidEventPatternError,
  JsonSyntaxError,
  parseMembers,
  parsePattern,
  testEventPattern,
  type RawMember,
} from '../../events/bus/pattern/index.ts';

/** Options shared by the single and batch forms. */
export interface TestPatternOptions {
  /** Require the envelope fields AWS requires of an event (default true; see `testEventPattern`). */
  envelopeCheck?: boolean;
}

/** What one invocation prints and how it exits. */
export interface TestPatternOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const awsError = (e: InvalidEventPatternError | InvalidEventError): string =>
  `An error occurred (${e.code}) when calling the TestEventPattern operation: ${e.message}`;

const isApiError = (e: unknown): e is InvalidEventPatternError | InvalidEventError =>
  e instanceof InvalidEventPatternError || e instanceof InvalidEventError;

/** `@path` or `file://path` reads a file, as the AWS CLI's `file://` does; anything else is the JSON itself. */
const loadArgument = (option: string, value: string): string => {
  const path = value.startsWith('@') ? value.slice(1) : value.startsWith('file://') ? value.slice('file://'.length) : null;
  if (path === null) return value;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`Error parsing parameter '${option}': Unable to load paramfile ${value}: ${(e as Error).message}`, { cause: e });
  }
};

/**
 * One `test-pattern --pattern … --event …` run as data: `{"Result":true|false}` and exit 0, or
 * AWS's error line on stderr and exit 2.
 *
 * @example
 * runSingle('{"source":["a"]}', '{"id":"1","account":"1","source":"a","time":"t","region":"r","detail-type":"d"}');
 * // { stdout: '{"Result":true}\n', stderr: '', exitCode: 0 }
 */
export const runSingle = (pattern: string, event: string, options: TestPatternOptions = {}): TestPatternOutcome => {
  let patternRaw: string;
  let eventRaw: string;
  try {
    patternRaw = loadArgument('--pattern', pattern);
    eventRaw = loadArgument('--event', event);
  } catch (e) {
    return { stdout: '', stderr: `${(e as Error).message}\n`, exitCode: 2 };
  }
  try {
    const result = testEventPattern(patternRaw, eventRaw, options);
    return { stdout: `${JSON.stringify({ Result: result })}\n`, stderr: '', exitCode: 0 };
  } catch (e) {
    if (isApiError(e)) return { stdout: '', stderr: `${awsError(e)}\n`, exitCode: 2 };
    throw e;
  }
};

/** A member given either as a JSON value or as a string holding raw JSON; both mean the raw text. */
const rawOf = (member: RawMember | undefined, name: string): string => {
  if (member === undefined) throw new Error(`missing "${name}"`);
  return typeof member.value === 'string' ? member.value : member.raw;
};

const batchLine = (line: string, lineOptions: TestPatternOptions): string => {
  let options = lineOptions;
  let pattern: string;
  let event: string;
  try {
    const members = parseMembers(line);
    // Conformance rows carry the exact text sent to AWS in `*_raw`: prefer it when present.
    pattern = rawOf(members.get('pattern_raw') ?? members.get('pattern'), 'pattern');
    const eventMember = members.get('event_raw') ?? members.get('event');
    // An invalid pattern is reported as such even when the line has no event.
    if (eventMember === undefined) parsePattern(pattern);
    event = rawOf(eventMember, 'event');
    // A row that says where its verdict comes from decides the event check: AWS refuses events
    // without an envelope, the engine (event-ruler) matches bare content.
    const tier = members.get('tier')?.value;
    if (typeof tier === 'string') options = { ...options, envelopeCheck: tier === 'aws' };
  } catch (e) {
    if (isApiError(e)) return JSON.stringify({ Error: e.message });
    const why = e instanceof JsonSyntaxError ? e.reason : (e as Error).message;
    return JSON.stringify({ Error: `Invalid batch line (expected {"pattern":…,"event":…}): ${why}` });
  }
  try {
    return JSON.stringify({ Result: testEventPattern(pattern, event, options) });
  } catch (e) {
    return JSON.stringify({ Error: e instanceof Error ? e.message : String(e) });
  }
};

/**
 * `test-pattern --batch` as a pure function: one JSON Lines input line `{"pattern":…,"event":…}`
 * (values as JSON, or as strings holding raw JSON) gives one output line, in order,
 * `{"Result":true|false}` or `{"Error":"…"}`. A bad line never stops the batch. Number text in
 * the line is honoured (each member's raw text is what gets tested).
 *
 * @example
 * runBatch('{"pattern":{"a":["x"]},"event":{"a":"x"}}\n', { envelopeCheck: false }); // '{"Result":true}\n'
 */
export const runBatch = (input: string, options: TestPatternOptions = {}): string => {
  const lines = input.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let out = '';
  for (const line of lines) out += `${batchLine(line.endsWith('\r') ? line.slice(0, -1) : line, options)}\n`;
  return out;
};

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
};

interface CommandOptions {
  pattern?: string;
  event?: string;
  batch?: boolean;
  envelopeCheck: boolean;
  strictEnvelope?: boolean;
}

/**
 * `shiplog events test-pattern`, mirroring `aws events test-event-pattern`:
 * `--pattern <json|@file> --event <json|@file>` prints `{"Result":true|false}`; `--batch` reads
 * JSON Lines `{"pattern":…,"event":…}` from stdin and prints one result line per input line.
 *
 * @example
 * events.addCommand(testPatternCommand());
 */
export const testPatternCommand = (): Command =>
  new Command('test-pattern')
    .description('test an event against an EventBridge event pattern (like aws events test-event-pattern)')
    .option('--pattern <json|@file>', 'the event pattern, as JSON or @path to a file')
    .option('--event <json|@file>', 'the event, as JSON or @path to a file')
    .option('--batch', 'read JSON Lines {"pattern":…,"event":…} from stdin; print one result line each')
    .option('--no-envelope-check', 'accept any JSON object as the event')
    .option(
      '--strict-envelope',
      'with --batch: refuse events without id, account, source, time, region and detail-type, as AWS does ' +
        '(by default batch lines are matched as bare content, unless a line says `"tier":"aws"`)',
    )
    .action(async (opts: CommandOptions) => {
      if (opts.batch === true) {
        // Batch lines are usually test corpora of bare content: match them as the engine does
        // unless asked to be strict (a line with a `tier` field decides for itself).
        process.stdout.write(runBatch(await readStdin(), { envelopeCheck: opts.strictEnvelope === true }));
        return;
      }
      const options: TestPatternOptions = { envelopeCheck: opts.envelopeCheck };
      if (opts.pattern === undefined || opts.event === undefined) {
        process.stderr.write('test-pattern: --pattern and --event are required (or use --batch)\n');
        process.exitCode = 2;
        return;
      }
      const outcome = runSingle(opts.pattern, opts.event, options);
      process.stdout.write(outcome.stdout);
      process.stderr.write(outcome.stderr);
      process.exitCode = outcome.exitCode;
    });
