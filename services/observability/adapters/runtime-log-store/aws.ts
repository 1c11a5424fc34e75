import { FilterLogEventsCommand, type CloudWatchLogsClient, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { atLeast } from './local.ts';
import type { RuntimeLogLevel, RuntimeLogQuery, RuntimeLogRecord, RuntimeLogStore } from '../../ports.ts';

/**
 * A site function version of a deployment, as CloudWatch names its logs: the log group
 * (`/aws/lambda/<functionName>` unless the function set another) and the version in each log
 * stream's name (`2026/12/03/[7]<environment>`).
 *
 * @example
 * const v: SiteFunctionVersion = { functionName: 'shiplog-site-web', version: '7' };
 */
export interface SiteFunctionVersion {
  functionName: string;
  version: string;
  logGroup?: string;
}

/**
 * One invocation report of a site function (a JSON `platform.report` record): what the AWS
 * metrics source counts.
 *
 * @example
 * { time: '2026-12-03T10:00:00.000Z', requestId: '6f1c…', status: 'success', durationMs: 12.5, billedDurationMs: 13, memorySizeMB: 1024, coldStart: false }
 */
export interface InvocationReport {
  time: string;
  requestId: string;
  status: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  coldStart: boolean;
}

const levels: Record<string, RuntimeLogLevel> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warning', WARNING: 'warning', ERROR: 'error', FATAL: 'error' };

const messageOf = (m: unknown): string => (typeof m === 'string' ? m : JSON.stringify(m));

// A Text-format `REPORT RequestId: … Duration: 12.34 ms Billed Duration: 13 ms Memory Size: 1024 MB …` line.
const textReport = (text: string, time: string): InvocationReport | undefined => {
  const m = /^REPORT RequestId: (\S+)\s+Duration: ([\d.]+) ms\s+Billed Duration: (\d+) ms\s+Memory Size: (\d+) MB/.exec(text);
  if (!m) return undefined;
  const status = /\tStatus: (\w+)/.exec(text)?.[1] ?? 'success';
  return { time, requestId: m[1]!, status, durationMs: Number(m[2]), billedDurationMs: Number(m[3]), memorySizeMB: Number(m[4]), coldStart: text.includes('Init Duration:') };
};

const requestRecordOf = (r: InvocationReport, ids: { projectId: string; deploymentId: string }): RuntimeLogRecord => ({
  time: r.time, level: r.status === 'success' ? 'info' : 'error', kind: 'request', ...ids,
  ...(r.requestId ? { requestId: r.requestId } : {}), durationMs: r.durationMs,
  message: `invocation ${r.status} in ${Math.round(r.durationMs)} ms${r.coldStart ? ' (cold start)' : ''}`,
});

/**
 * A log event of a site function as a runtime log record. JSON log format: an application record
 * (`{timestamp, level, requestId, message}`) is console output, a `platform.report` is the
 * invocation's summary (`kind: 'request'`, with its duration; CloudWatch does not know the
 * request's path or status), other system records give `undefined`. Text format: a `REPORT` line
 * is the summary, `START`/`END` give `undefined`, a tab-separated line is console output.
 *
 * @example
 * runtimeRecordOf({ message: '{"timestamp":"…","level":"ERROR","requestId":"r1","message":"boom"}', timestamp: 1 }, { projectId: 'web', deploymentId: 'd1' });
 */
export const runtimeRecordOf = (e: FilteredLogEvent, ids: { projectId: string; deploymentId: string }): RuntimeLogRecord | undefined => {
  const text = e.message ?? '';
  const time = new Date(e.timestamp ?? 0).toISOString();
  let parsed: Record<string, unknown> | undefined;
  if (text.startsWith('{')) {
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
  }
  if (!parsed) {
    // Text format: REPORT is the invocation's summary, START/END are Lambda's own, the rest is the function's output.
    const report = textReport(text, time);
    if (report) return requestRecordOf(report, ids);
    if (/^(START|END|REPORT|INIT_START) /.test(text)) return undefined;
    const tab = /^(\S+)\t([0-9a-f-]{36})\t([A-Z]+)\t([\s\S]*)$/.exec(text);
    return tab
      ? { time, level: levels[tab[3]!] ?? 'info', kind: 'console', ...ids, requestId: tab[2]!, message: tab[4]! }
      : { time, level: 'info', kind: 'console', ...ids, message: text };
  }
  if (typeof parsed.type === 'string') {
    const report = parsed.type === 'platform.report' ? reportOf(e) : undefined;
    return report ? requestRecordOf(report, ids) : undefined;
  }
  const level = levels[String(parsed.level ?? 'INFO').toUpperCase()] ?? 'info';
  return {
    time: typeof parsed.timestamp === 'string' ? parsed.timestamp : time, level, kind: 'console', ...ids,
    ...(typeof parsed.requestId === 'string' ? { requestId: parsed.requestId } : {}),
    message: messageOf(parsed.message ?? text),
  };
};

/**
 * The invocation report in a log event, if it is one (a JSON `platform.report` or a Text `REPORT` line).
 *
 * @example
 * const r = reportOf(event); // { requestId, status: 'success', durationMs: 12.5, … } | undefined
 */
export const reportOf = (e: FilteredLogEvent): InvocationReport | undefined => {
  const text = e.message ?? '';
  if (text.startsWith('REPORT ')) return textReport(text, new Date(e.timestamp ?? 0).toISOString());
  if (!text.includes('"platform.report"')) return undefined;
  try {
    const p = JSON.parse(text) as { time?: string; type?: string; record?: { requestId?: string; status?: string; metrics?: Record<string, number> } };
    if (p.type !== 'platform.report' || !p.record) return undefined;
    const m = p.record.metrics ?? {};
    return {
      time: p.time ?? new Date(e.timestamp ?? 0).toISOString(), requestId: p.record.requestId ?? '', status: p.record.status ?? 'success',
      durationMs: Number(m.durationMs ?? 0), billedDurationMs: Number(m.billedDurationMs ?? 0), memorySizeMB: Number(m.memorySizeMB ?? 0),
      coldStart: m.initDurationMs !== undefined,
    };
  } catch {
    return undefined;
  }
};

/**
 * Reads the log events of some function versions from `since` (ms) on, page by page, oldest first
 * per log group. A version's events are those of the log streams named for it.
 *
 * @example
 * for await (const page of versionEvents(logs, versions, Date.now() - 3600_000)) handle(page);
 */
export async function* versionEvents(logs: CloudWatchLogsClient, versions: readonly SiteFunctionVersion[], since: number, until?: number): AsyncGenerator<FilteredLogEvent[]> {
  for (const v of versions) {
    const logGroupName = v.logGroup ?? `/aws/lambda/${v.functionName}`;
    const marker = `[${v.version}]`;
    let nextToken: string | undefined;
    do {
      const res = await logs
        .send(new FilterLogEventsCommand({ logGroupName, startTime: since, ...(until !== undefined ? { endTime: until } : {}), nextToken }))
        .catch((err: Error) => {
          // No invocation yet: Lambda creates the group on the first one.
          if (err.name === 'ResourceNotFoundException') return undefined;
          throw err;
        });
      if (!res) break;
      yield (res.events ?? []).filter((e) => e.logStreamName?.includes(marker));
      nextToken = res.nextToken;
    } while (nextToken);
  }
}

/**
 * Runtime logs on AWS: the site functions' CloudWatch Logs (JSON log format), read with
 * FilterLogEvents for the deployment's function versions; `follow` polls every `pollMs` (Live
 * Tail needs an event stream, and a poll serves the same records). Lambda writes them: `append`
 * refuses.
 *
 * @example
 * const logs = cloudWatchRuntimeLogStore({ logs: new CloudWatchLogsClient({}), versionsOf: (d) => siteVersionsOf(store, d) });
 * await logs.query({ projectId: 'web', deploymentId: 'd1', level: 'error' });
 */
export const cloudWatchRuntimeLogStore = (deps: {
  logs: CloudWatchLogsClient;
  versionsOf: (deploymentId: string) => Promise<SiteFunctionVersion[]>;
  pollMs?: number;
  now?: () => number;
  /** How far back a query without `since` reads: 7 days by default. */
  lookbackMs?: number;
}): RuntimeLogStore => {
  const now = deps.now ?? Date.now;
  const records = async (q: Omit<RuntimeLogQuery, 'limit'>, since: number): Promise<RuntimeLogRecord[]> => {
    const out: RuntimeLogRecord[] = [];
    const ids = { projectId: q.projectId, deploymentId: q.deploymentId };
    for await (const page of versionEvents(deps.logs, await deps.versionsOf(q.deploymentId), since)) {
      for (const e of page) {
        const r = runtimeRecordOf(e, ids);
        if (r && atLeast(r, q.level)) out.push(r);
      }
    }
    return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  };
  return {
    append: async () => {
      throw new Error('on AWS, Lambda writes the runtime logs (CloudWatch Logs); nothing appends them');
    },
    query: async (q) => {
      const since = q.since ? Date.parse(q.since) : now() - (deps.lookbackMs ?? 7 * 86_400_000);
      const all = await records(q, since);
      return all.slice(-(q.limit ?? 1000));
    },
    follow: (q, onRecord) => {
      let stopped = false;
      let from = now();
      const seen = new Set<string>();
      const poll = async () => {
        while (!stopped) {
          const found = await records(q, from - 1000).catch(() => []);
          for (const r of found) {
            const key = `${r.time}\u0000${r.requestId ?? ''}\u0000${r.message}`;
            if (seen.has(key)) continue;
            seen.add(key);
            if (!stopped) onRecord(r);
          }
          if (found.length) from = Math.max(from, Date.parse(found.at(-1)!.time));
          if (seen.size > 10_000) seen.clear();
          await new Promise((r) => setTimeout(r, deps.pollMs ?? 1000));
        }
      };
      void poll();
      return () => {
        stopped = true;
      };
    },
  };
};
