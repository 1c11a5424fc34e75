import {
  CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand, ResourceNotFoundException, ThrottlingException,
  type GetLogEventsCommandInput, type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { LogLine } from '../../log-store.ts';
import { cloudWatchLogStore, cloudWatchTail } from './aws.ts';

const cw = mockClient(CloudWatchLogsClient);
const client = new CloudWatchLogsClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const group = '/aws/codebuild/shiplog-build';
const stream = 'd1/8745a7a9-c340-456a-9166-edf953571bea';
const T0 = Date.parse('2026-11-22T10:00:00.000Z');

const ev = (i: number, message: string): OutputLogEvent => ({ timestamp: T0 + i * 1000, message, ingestionTime: T0 + i * 1000 + 200 });

/**
 * A log stream as GetLogEvents serves it: `pageSize` events a page from the head; at the end it
 * hands back the token it was given. `grow` appends to the stream between calls.
 */
let events: OutputLogEvent[];
let throttle: number;
const serveStream = (pageSize = 2) => {
  cw.on(DescribeLogStreamsCommand).resolves({
    logStreams: [
      { logStreamName: 'd1/00000000-old', creationTime: T0 - 3600_000 },
      { logStreamName: stream, creationTime: T0 },
    ],
  });
  cw.on(GetLogEventsCommand).callsFake(async (input: GetLogEventsCommandInput) => {
    if (throttle > 0 && throttle--) throw new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    const from = input.nextToken ? Number(input.nextToken.slice(2)) : 0;
    const page = events.slice(from, from + pageSize);
    return { events: page, nextForwardToken: `f/${from + page.length}`, nextBackwardToken: `b/${from}` };
  });
};

let finished: boolean;
const store = (pollMs = 5) => cloudWatchLogStore({ client, groupName: group, isFinished: async () => finished, pollMs, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });

beforeEach(() => {
  cw.reset();
  finished = false;
  throttle = 0;
  events = [
    ev(0, '[Container] 2026/11/22 10:00:00.000000 Running on CodeBuild On-demand\n'),
    ev(1, '[Container] 2026/11/22 10:00:01.000000 Entering phase INSTALL\n'),
    ev(2, 'added 312 packages in 9s\n'),
    ev(3, 'npm warn deprecated glob@7.2.3\nnpm warn deprecated inflight@1.0.6\n'),
    ev(4, '✓ Compiled successfully'),
  ];
  serveStream();
});

describe('cloudWatchLogStore.read', () => {
  it('pages with nextForwardToken to the end of the newest stream and numbers the lines', async () => {
    const lines = await store().read('d1');
    expect(lines.map((l) => [l.n, l.stream, l.text])).toEqual([
      [1, 'system', '[Container] 2026/11/22 10:00:00.000000 Running on CodeBuild On-demand'],
      [2, 'system', '[Container] 2026/11/22 10:00:01.000000 Entering phase INSTALL'],
      [3, 'stdout', 'added 312 packages in 9s'],
      [4, 'stdout', 'npm warn deprecated glob@7.2.3'],
      [5, 'stdout', 'npm warn deprecated inflight@1.0.6'],
      [6, 'stdout', '✓ Compiled successfully'],
    ]);
    expect(lines[2]!.at).toBe('2026-11-22T10:00:02.000Z');
    expect(cw.commandCalls(DescribeLogStreamsCommand)[0]!.args[0].input).toEqual({ logGroupName: group, logStreamNamePrefix: 'd1/' });
    const tokens = cw.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.nextToken);
    expect(tokens).toEqual([undefined, 'f/2', 'f/4', 'f/5']);
    expect(cw.commandCalls(GetLogEventsCommand).every((c) => c.args[0].input.logStreamName === stream && c.args[0].input.startFromHead)).toBe(true);
  });

  it('returns only the lines after `after`', async () => {
    expect((await store().read('d1', 4)).map((l) => l.n)).toEqual([5, 6]);
  });

  it('has nothing for a build that has not logged yet, or a log group that does not exist', async () => {
    cw.on(DescribeLogStreamsCommand).resolvesOnce({ logStreams: [] })
      .rejectsOnce(new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: { httpStatusCode: 400 } }));
    expect(await store().read('d1')).toEqual([]);
    expect(await store().read('d1')).toEqual([]);
  });

  it('is read-only and closed when the build has finished', async () => {
    const logs = store();
    expect(() => logs.append('d1', 'stdout', 'x')).toThrow(/written by CodeBuild/);
    expect(await logs.isClosed('d1')).toBe(false);
    finished = true;
    expect(await logs.isClosed('d1')).toBe(true);
  });
});

describe('cloudWatchLogStore.follow', () => {
  it('polls for new lines from where it was, through a throttled poll, and ends once the build has finished', async () => {
    const logs = store();
    const seen: LogLine[] = [];
    let ended = false;
    const done = new Promise<void>((resolve) => logs.follow('d1', 1, (l) => seen.push(l), () => { ended = true; resolve(); }));
    await expect.poll(() => seen.length).toBe(5);
    throttle = 1;
    events.push(ev(5, 'Route (app)  Size'), ev(6, '[Container] 2026/11/22 10:03:00.000000 Phase complete: POST_BUILD State: SUCCEEDED'));
    await expect.poll(() => seen.length).toBe(7);
    events.push(ev(7, '[Container] 2026/11/22 10:03:01.000000 Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED'));
    finished = true;
    await done;
    expect(ended).toBe(true);
    // Nothing lost or repeated across the throttled poll.
    expect(seen.map((l) => l.n)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(throttle).toBe(0);
  });

  it('stops calling back after unsubscribe', async () => {
    // The test is the clock: each poll interval ends when the test releases it.
    const waits: (() => void)[] = [];
    const logs = cloudWatchLogStore({ client, groupName: group, isFinished: async () => finished, pollMs: 5, sleep: () => new Promise<void>((r) => waits.push(r)) });
    const seen: LogLine[] = [];
    let ended = false;
    const stop = logs.follow('d1', 0, (l) => seen.push(l), () => { ended = true; });
    await expect.poll(() => seen.length).toBe(6);
    await expect.poll(() => waits.length).toBe(1);
    const calls = cw.commandCalls(GetLogEventsCommand).length;
    stop();
    events.push(ev(5, 'late'));
    finished = true;
    waits[0]!();
    await new Promise((r) => setImmediate(r));
    expect(seen).toHaveLength(6);
    expect(ended).toBe(false);
    // The follower left its loop: no poll after the one it was waiting for, and no further wait.
    expect(cw.commandCalls(GetLogEventsCommand)).toHaveLength(calls);
    expect(waits).toHaveLength(1);
  });
});

describe('cloudWatchTail', () => {
  it('reads the last lines of a build from the end of its stream', async () => {
    cw.on(GetLogEventsCommand, { logGroupName: group, logStreamName: stream, startFromHead: false, limit: 3 }).resolves({ events: events.slice(2), nextForwardToken: 'f', nextBackwardToken: 'b' });
    expect(await cloudWatchTail(client)({ group, stream }, 3)).toEqual(['npm warn deprecated glob@7.2.3', 'npm warn deprecated inflight@1.0.6', '✓ Compiled successfully']);
    expect(await cloudWatchTail(client)({}, 3)).toEqual([]);
  });
});
