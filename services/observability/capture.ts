import type { RequestRecord, RuntimeLogLevel, RuntimeLogRecord, RuntimeLogStore } from './ports.ts';

/**
 * A request as the router starts serving it. `functionKey` (`<project>/<deployment>/<origin>`,
 * the function pool's key) is set when a function serves it; `coldStart` when that function's
 * environment was not running.
 *
 * @example
 * const start: ServedRequest = { projectId: 'web', deploymentId: 'd1', requestId: '6f1c…', method: 'GET', path: '/', origin: 'function',
 *   functionKey: 'web/d1/default', coldStart: true };
 */
export interface ServedRequest {
  projectId: string;
  deploymentId: string;
  requestId: string;
  method: string;
  path: string;
  origin: 'function' | 'asset';
  functionKey?: string;
  coldStart: boolean;
}

/**
 * How a request ended: its status, how long it took, the bytes sent.
 *
 * @example
 * end({ status: 200, durationMs: 12, bytesOut: 1830 });
 */
export interface RequestOutcome {
  status: number;
  durationMs: number;
  bytesOut: number;
}

/** The longest line kept; the rest is cut (a runaway `console.log` of a huge object). */
const maxMessage = 8 * 1024;

/**
 * The level of a console line: a structured line's own (`{"level":"warn",…}`), `warning` for a
 * line that starts with `Warning`/`warn`, else `info` on stdout and `error` on stderr.
 *
 * @example
 * levelOf('{"level":"debug","msg":"x"}', 'stdout'); // 'debug'
 */
export const levelOf = (line: string, stream: 'stdout' | 'stderr'): RuntimeLogLevel => {
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as { level?: unknown; severity?: unknown };
      const v = parsed.level ?? parsed.severity;
      const l = typeof v === 'string' ? v.toLowerCase() : '';
      if (l === 'debug' || l === 'trace') return 'debug';
      if (l === 'info') return 'info';
      if (l === 'warn' || l === 'warning') return 'warning';
      if (l === 'error' || l === 'fatal') return 'error';
    } catch {
      // not JSON after all
    }
  }
  if (/^\s*(warn(ing)?\b|⚠)/i.test(line)) return 'warning';
  return stream === 'stderr' ? 'error' : 'info';
};

interface InFlight {
  req: ServedRequest;
  startedAt: number;
  lines: Omit<RuntimeLogRecord, 'status' | 'durationMs'>[];
  endedAt?: number;
  outcome?: RequestOutcome;
}

/**
 * Turns what the local router and function pool see into runtime log records and request
 * records. The pool's output comes per function, not per request, so a line goes to the request
 * the function is serving: while exactly one is in flight, its lines wait and are written with
 * its status and duration when it ends; a line arriving just after (within `graceMs`) goes to the
 * one that just ended; a line during concurrent requests, or outside any, is written without
 * request fields (on Lambda each environment serves one request at a time, so this never guesses).
 * Within a request, a stack trace's frames join the line they follow.
 *
 * What is captured is written in batches, off the request path: records wait in memory and go
 * to the stores `flushMs` (100 ms by default) after the first of them, one append for all the
 * log records and the request records handed over together; a request's record tells
 * `onRequest` once written. `flush()` writes what waits now (call it when the router has
 * stopped, so nothing captured is lost on a clean stop).
 *
 * @example
 * const capture = runtimeCapture({ logs, requests: metrics, clock: () => Date.now() });
 * const end = capture.begin(servedRequest);  // router, when a request starts
 * capture.line('web/d1/default', 'hello', 'stdout'); // function pool output
 * end({ status: 200, durationMs: 12, bytesOut: 1830 });
 */
export const runtimeCapture = (deps: {
  logs: RuntimeLogStore;
  requests: { record(r: RequestRecord): Promise<void> };
  clock?: () => number;
  graceMs?: number;
  onError?: (e: unknown) => void;
  /** Told of each request once recorded (e.g. to evaluate its project's alarm). */
  onRequest?: (r: RequestRecord) => void;
  /** How long captured records wait for more before they are written (default 100 ms). */
  flushMs?: number;
}) => {
  const clock = deps.clock ?? Date.now;
  const graceMs = deps.graceMs ?? 1000;
  const flushMs = deps.flushMs ?? 100;
  const inFlight = new Map<string, InFlight[]>();
  const recent = new Map<string, InFlight>();
  const fail = (e: unknown) => deps.onError?.(e);
  const iso = (ms: number) => new Date(ms).toISOString();

  // --- the batch: what waits to be written, and the writes under way (what `flush` waits for)
  let waitingLogs: RuntimeLogRecord[] = [];
  let waitingRequests: RequestRecord[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const writing = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    writing.add(p);
    void p.finally(() => writing.delete(p));
  };
  const writeWaiting = () => {
    clearTimeout(timer);
    timer = undefined;
    const logs = waitingLogs;
    const requests = waitingRequests;
    waitingLogs = [];
    waitingRequests = [];
    if (logs.length > 0) track(deps.logs.append(logs).catch(fail));
    for (const r of requests) track(deps.requests.record(r).then(() => deps.onRequest?.(r), fail));
  };
  const later = () => {
    if (timer) return;
    timer = setTimeout(writeWaiting, flushMs);
    // A process that exits without stopping loses at most this batch, as it would lose writes in flight.
    if (typeof timer === 'object') timer.unref();
  };
  const appendLater = (records: RuntimeLogRecord[]) => {
    waitingLogs.push(...records);
    later();
  };
  const recordLater = (r: RequestRecord) => {
    waitingRequests.push(r);
    later();
  };

  const requestFields = (f: InFlight) => ({
    requestId: f.req.requestId, method: f.req.method, path: f.req.path,
    ...(f.outcome ? { status: f.outcome.status, durationMs: f.outcome.durationMs } : {}),
  });

  const begin = (req: ServedRequest): ((outcome: RequestOutcome) => void) => {
    const f: InFlight = { req, startedAt: clock(), lines: [] };
    const key = req.functionKey;
    if (key) inFlight.set(key, [...(inFlight.get(key) ?? []), f]);
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      f.endedAt = clock();
      f.outcome = outcome;
      const record: RequestRecord = { time: iso(f.startedAt), ...req, ...outcome };
      delete (record as Partial<ServedRequest>).functionKey;
      if (key) {
        const rest = (inFlight.get(key) ?? []).filter((x) => x !== f);
        if (rest.length > 0) inFlight.set(key, rest);
        else inFlight.delete(key);
        recent.set(key, f);
        const { status, durationMs } = outcome;
        const summary: RuntimeLogRecord = {
          time: iso(f.endedAt), level: status >= 500 ? 'error' : status >= 400 ? 'warning' : 'info', kind: 'request',
          projectId: req.projectId, deploymentId: req.deploymentId, ...requestFields(f),
          message: `${req.method} ${req.path} ${status} in ${Math.round(durationMs)} ms${req.coldStart ? ' (cold start)' : ''}`,
        };
        appendLater([...f.lines.map((l) => ({ ...l, status, durationMs })), summary]);
      }
      recordLater(record);
    };
  };

  const line = (functionKey: string, text: string, stream: 'stdout' | 'stderr'): void => {
    const [projectId, deploymentId] = functionKey.split('/');
    if (!projectId || !deploymentId) return;
    const base = { time: iso(clock()), level: levelOf(text, stream), kind: 'console' as const, projectId, deploymentId, message: text.slice(0, maxMessage) };
    const serving = inFlight.get(functionKey) ?? [];
    if (serving.length === 1) {
      // A stack trace's frames (indented lines, a closing brace) belong to the line before, as
      // one `console.error` call is one record on Lambda.
      const lines = serving[0]!.lines;
      const prev = lines.at(-1);
      if (prev && /^(\s|\}$)/.test(text) && prev.message.length + text.length < maxMessage) return void (prev.message += `\n${text}`);
      return void lines.push({ ...base, ...requestFields(serving[0]!) });
    }
    const last = recent.get(functionKey);
    const justEnded = serving.length === 0 && last?.endedAt !== undefined && clock() - last.endedAt <= graceMs;
    appendLater([justEnded ? { ...base, ...requestFields(last) } : base]);
  };

  /** Writes what waits now, and resolves once it and every earlier write are done (failures go to `onError`). */
  const flush = async (): Promise<void> => {
    writeWaiting();
    await Promise.all([...writing]);
  };

  return { begin, line, flush };
};

/**
 * The capture {@link runtimeCapture} returns.
 *
 * @example
 * startSiteRouter({ …, onFunctionLog: capture.line, observe: capture.begin });
 */
export type RuntimeCapture = ReturnType<typeof runtimeCapture>;
