import {
  DescribeLogStreamsCommand, GetLogEventsCommand, type CloudWatchLogsClient, type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import type { LogLine, LogStore } from '../../log-store.ts';

/**
 * Options of {@link cloudWatchLogStore}.
 *
 * @example
 * cloudWatchLogStore({ client, groupName: '/aws/codebuild/shiplog-build', isFinished });
 */
export interface CloudWatchLogStoreOptions {
  client: CloudWatchLogsClient;
  /** The builds' log group (`/aws/codebuild/<project>` unless the scheduler set another). */
  groupName: string;
  /** Whether the deployment's build has ended (the log is complete once it has). */
  isFinished(deploymentId: string): Promise<boolean>;
  /** How often `follow` asks for new lines; default 2 s (GetLogEvents allows 25 calls a second per account). */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** One log event is one line of output, usually; split the rare multi-line one. */
const linesOf = (e: OutputLogEvent): { at: string; text: string }[] =>
  (e.message ?? '').replace(/\r?\n$/, '').split(/\r?\n/).map((text) => ({ at: new Date(e.timestamp ?? 0).toISOString(), text }));

const streamOf = (text: string): LogLine['stream'] => (text.startsWith('[Container]') ? 'system' : 'stdout');

interface Cursor {
  stream?: string;
  token?: string;
  n: number;
}

/**
 * Build logs on AWS, read from CloudWatch Logs where CodeBuild writes them: a read-only
 * `LogStore`. A deployment's stream is `<deploymentId>/<build uuid>` (the scheduler sets the
 * prefix); lines are numbered in stream order, so `read(id, after)` and `follow(id, after, …)`
 * resume where a reader left off. `append` and `close` throw: CodeBuild writes these logs.
 *
 * @example
 * const logs = cloudWatchLogStore({ client, groupName, isFinished });
 * const stop = logs.follow('d1', 0, (l) => print(l.text), () => print('-- end --'));
 */
export const cloudWatchLogStore = (opts: CloudWatchLogStoreOptions): LogStore => {
  const { client, groupName } = opts;
  const pollMs = opts.pollMs ?? 2000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  const findStream = async (deploymentId: string): Promise<string | undefined> => {
    try {
      const res = await client.send(new DescribeLogStreamsCommand({ logGroupName: groupName, logStreamNamePrefix: `${deploymentId}/` }));
      // A retried deployment has one stream per build; the newest is the one that counts.
      const newest = (res.logStreams ?? []).sort((a, b) => (b.creationTime ?? 0) - (a.creationTime ?? 0))[0];
      return newest?.logStreamName;
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  };

  /** Reads from the cursor to the current end of the stream, calling `onLine` for lines after `after`. */
  const drain = async (deploymentId: string, cur: Cursor, after: number, onLine: (l: LogLine) => void): Promise<number> => {
    cur.stream ??= await findStream(deploymentId);
    if (!cur.stream) return 0;
    let emitted = 0;
    for (;;) {
      const res = await client.send(new GetLogEventsCommand({
        logGroupName: groupName, logStreamName: cur.stream, startFromHead: true, ...(cur.token ? { nextToken: cur.token } : {}),
      }));
      for (const e of res.events ?? []) {
        for (const { at, text } of linesOf(e)) {
          cur.n += 1;
          if (cur.n > after) {
            onLine({ n: cur.n, at, stream: streamOf(text), text });
            emitted += 1;
          }
        }
      }
      // At the end of the stream, GetLogEvents hands back the token it was given.
      const done = !res.nextForwardToken || res.nextForwardToken === cur.token;
      cur.token = res.nextForwardToken ?? cur.token;
      if (done) return emitted;
    }
  };

  const readOnly = () => {
    throw new Error('build logs on AWS are written by CodeBuild; this store only reads them');
  };

  return {
    append: readOnly,
    close: readOnly,
    read: async (deploymentId, after = 0) => {
      const lines: LogLine[] = [];
      await drain(deploymentId, { n: 0 }, after, (l) => lines.push(l));
      return lines;
    },
    isClosed: (deploymentId) => opts.isFinished(deploymentId),
    follow: (deploymentId, after, onLine, onEnd) => {
      let stopped = false;
      const cur: Cursor = { n: 0 };
      const emit = (l: LogLine) => {
        if (!stopped) onLine(l);
      };
      void (async () => {
        while (!stopped) {
          try {
            await drain(deploymentId, cur, after, emit);
            if (await opts.isFinished(deploymentId)) {
              // CodeBuild's last lines can reach CloudWatch a moment after the build ends.
              await sleep(pollMs);
              if (!stopped) await drain(deploymentId, cur, after, emit);
              break;
            }
          } catch {
            // Throttled or briefly unavailable: the next poll tries again.
          }
          await sleep(pollMs);
        }
        if (!stopped) onEnd();
      })();
      return () => {
        stopped = true;
      };
    },
  };
};

/**
 * The last `n` lines of one build's log, for a failed build's `logTail`.
 *
 * @example
 * await cloudWatchTail(client)({ group: '/aws/codebuild/shiplog-build', stream: 'd1/8745a7a9-…' }, 50);
 */
export const cloudWatchTail = (client: CloudWatchLogsClient) =>
  async (logs: { group?: string | undefined; stream?: string | undefined }, n = 50): Promise<string[]> => {
    if (!logs.group || !logs.stream) return [];
    const res = await client.send(new GetLogEventsCommand({ logGroupName: logs.group, logStreamName: logs.stream, startFromHead: false, limit: n }));
    return (res.events ?? []).flatMap(linesOf).map((l) => l.text).slice(-n);
  };
