import { Command } from 'commander';
import { backoff, pause } from '../../events/index.ts';
import { api, ApiError, CliError, output } from '../client.ts';
import { openEventStream, sseMessages } from '../sse.ts';

export interface DeploymentRow {
  id: string;
  status: string;
  /** It went live once. */
  live: boolean;
  /** The aliases it serves now (`['production']`); empty once replaced. */
  current: string[];
  target: string | null;
  branch: string | null;
  sha: string | null;
  message: string | null;
  url: string | null;
  /** The stable URLs of the aliases it serves now (production's, a preview branch's). */
  aliasUrls?: string[];
  requestedAt: string | null;
  error: string | null;
}

const ago = (iso: string | null) => (iso ? `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))}s ago` : '');

const isFinal = (d: Pick<DeploymentRow, 'live' | 'status'>) => d.live || ['error', 'canceled', 'rejected'].includes(d.status);

/** The one-line answer for a deployment id the API does not know. */
export const noDeployment = (id: string) => new CliError(`no deployment "${id}" (\`shiplog deployments list <project>\` lists them)`);

/**
 * One deployment from the API; a 404 is {@link noDeployment}. `after`: an event id one of our own
 * commands produced (or caused); the API answers once its read models have applied it.
 *
 * @example
 * const d = await getDeployment('01J…'); d.current; // ['production']
 * await getDeployment(toDeploymentId, rolledBack.eventId); // shows the rollback
 */
export const getDeployment = async (id: string, after?: string): Promise<DeploymentRow> => {
  try {
    return await api<DeploymentRow>('GET', `/api/deployments/${encodeURIComponent(id)}${after ? `?after=${encodeURIComponent(after)}` : ''}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw noDeployment(id);
    throw e;
  }
};

// Where a deployment is current, e.g. `production`; `-` once replaced (or never live).
const currentText = (d: DeploymentRow) => (d.current?.length ? d.current.join(',') : '-');

/** What `wait` needs of a deployment: from a poll (a row) or from an event of its stream. */
type DeploymentState = Pick<DeploymentRow, 'status' | 'live' | 'error'>;

/**
 * Follows a deployment's event stream (`GET /api/deployments/:id/events?follow=1`), handing each
 * event's state to `show` until it says the state is final. `unsupported`: the API has no such
 * stream (it answered 404 or 405, though the deployment exists); `dropped`: the stream ended or
 * failed, or `signal` aborted.
 */
const followState = async (
  id: string, lastEventId: string | undefined, show: (d: DeploymentState) => boolean, signal: AbortSignal,
): Promise<{ outcome: 'final' | 'dropped' | 'unsupported'; lastEventId: string | undefined; received: number }> => {
  let received = 0;
  try {
    const res = await openEventStream(`/api/deployments/${encodeURIComponent(id)}/events?follow=1`, { lastEventId, signal });
    if (res.status === 404 || res.status === 405) return { outcome: 'unsupported', lastEventId, received };
    if (!res.ok || !res.body) return { outcome: 'dropped', lastEventId, received };
    // The events before `caught-up` are history: only the state they lead to is shown.
    let caughtUp = false;
    let latest: DeploymentState | undefined;
    for await (const m of sseMessages(res.body)) {
      if (m.event === 'caught-up') caughtUp = true;
      else if (m.event === 'deployment-event') {
        received++;
        lastEventId = m.id ?? lastEventId;
        latest = (JSON.parse(m.data) as { deployment: DeploymentState }).deployment;
      } else continue;
      if (!caughtUp || !latest) continue;
      const state = latest;
      latest = undefined;
      if (show(state)) {
        await res.body.cancel().catch(() => undefined);
        return { outcome: 'final', lastEventId, received };
      }
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
  }
  return { outcome: 'dropped', lastEventId, received };
};

/** `shiplog deployments list|get|wait`. */
export const deploymentsCommand = (): Command => {
  const cmd = new Command('deployments').description("a project's deployments");
  cmd
    .command('list <project>')
    .description('deployments of a project, newest first')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { json?: boolean }) => {
      const rows = await api<DeploymentRow[]>('GET', `/api/projects/${encodeURIComponent(project)}/deployments`);
      output(rows, o.json, () =>
        rows.length === 0
          ? `no deployments of ${project} yet`
          : [`${'ID'.padEnd(rows[0]!.id.length)}  ${'STATUS'.padEnd(9)} ${'CURRENT'.padEnd(11)} ${'TARGET'.padEnd(10)} SHA      URL`]
              .concat(rows.map((d) => `${d.id}  ${d.status.padEnd(9)} ${currentText(d).padEnd(11)} ${(d.target ?? '').padEnd(10)} ${(d.sha ?? '').slice(0, 7).padEnd(7)}  ${d.url ?? ''}  ${ago(d.requestedAt)}`))
              .join('\n'),
      );
    });
  cmd
    .command('get <deployment>')
    .description('one deployment')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const d = await getDeployment(id);
      output(d, o.json, () => `${d.id}  ${d.status}  current: ${currentText(d)}  ${d.url ?? ''}${d.aliasUrls?.length ? `  (${d.aliasUrls.join(', ')})` : ''}${d.error ? `\n${d.error}` : ''}`);
    });
  cmd
    .command('wait <deployment>')
    .description('wait until a deployment is live (exit 0) or has failed or was canceled (exit 1); follows its events, polls when the stream drops')
    .option('--timeout <seconds>', 'give up after this long (exit 1)', '900')
    .option('--json', 'print JSON lines instead of live progress')
    .action(async (id: string, o: { timeout: string; json?: boolean }) => {
      const deadline = Date.now() + Number(o.timeout) * 1000;
      const tty = process.stdout.isTTY && !o.json;
      const started = Date.now();
      let lastStatus = '';
      let logLine = '';
      const render = () => {
        const elapsed = `${Math.round((Date.now() - started) / 1000)}s`;
        if (tty) process.stdout.write(`\r\x1b[K${lastStatus.padEnd(9)} ${elapsed}  ${logLine.slice(0, 100)}`);
        return elapsed;
      };
      // Shows a state; returns true when it is final (or throws for a final failure).
      const show = (d: DeploymentState): boolean => {
        const status = d.live ? 'live' : d.status;
        const changed = status !== lastStatus;
        lastStatus = status;
        const elapsed = render();
        if (!tty && changed) process.stdout.write(o.json ? `${JSON.stringify({ id, status, elapsed })}\n` : `${id} ${status} (${elapsed})\n`);
        if (!isFinal(d)) return false;
        if (tty) process.stdout.write('\n');
        if (d.live) return true;
        throw new CliError(`deployment ${id} ${d.status}${d.error ? `: ${d.error.split('\n')[0]}` : ''}`);
      };
      const stopped = new AbortController();
      const timer = setTimeout(() => stopped.abort(), Math.max(0, deadline - Date.now()));
      // Only a terminal shows the log's last line: it follows the log alongside.
      if (tty) void followLog(id, 0, (l) => ((logLine = l.text), render()), stopped.signal).catch(() => undefined);
      // A poll that fails (API unreachable, 5xx: shiplog restarting) is retried with backoff until the deadline.
      const retryDelay = backoff({ baseMs: 500, maxMs: 10_000, jitter: 'equal' });
      let failedPolls = 0;
      let drops = 0;
      let lastEventId: string | undefined;
      let streamed = true;
      try {
        for (;;) {
          // 1. the state now: refuses an unknown id at once, and is the fallback when the stream drops
          let d: DeploymentRow;
          try {
            d = await getDeployment(id);
            failedPolls = 0;
          } catch (e) {
            if (!(e instanceof ApiError) || (e.status !== null && e.status < 500)) throw e;
            if (Date.now() > deadline) throw new CliError(`deployment ${id}: the API still fails after ${o.timeout}s (${e.message})`);
            const wait = retryDelay(failedPolls++);
            process.stderr.write(`shiplog: poll failed (${e.message}); retrying in ${(wait / 1000).toFixed(1)}s\n`);
            await pause(wait, stopped.signal);
            continue;
          }
          if (show(d)) return;
          if (Date.now() > deadline) throw new CliError(`deployment ${id} is still ${lastStatus} after ${o.timeout}s`);
          // 2. its events as they happen, until it is final or the stream drops
          if (streamed) {
            const r = await followState(id, lastEventId, show, stopped.signal);
            if (r.lastEventId) lastEventId = r.lastEventId;
            if (r.outcome === 'final') return;
            if (r.outcome === 'unsupported') streamed = false;
            else if (r.received > 0) drops = 0;
            if (stopped.signal.aborted) throw new CliError(`deployment ${id} is still ${lastStatus} after ${o.timeout}s`);
          }
          // 3. dropped (or no stream here): poll again after a backoff
          await pause(streamed ? retryDelay(drops++) : 1000, stopped.signal);
        }
      } finally {
        clearTimeout(timer);
        stopped.abort();
      }
    });
  return cmd;
};

/** A log line as the API sends it. */
interface LogLine {
  n: number;
  stream: string;
  text: string;
}

/** Reads a build log from line `after` every second until its deployment is final, then once more. */
const pollLog = async (id: string, after: number, onLine: (l: LogLine) => void, signal?: AbortSignal): Promise<void> => {
  let last = after;
  const readNew = async () => {
    for (const l of await api<LogLine[]>('GET', `/api/deployments/${encodeURIComponent(id)}/logs?after=${last}`)) {
      if (l.n <= last) continue;
      last = l.n;
      onLine(l);
    }
  };
  for (;;) {
    const final = isFinal(await getDeployment(id));
    await readNew();
    if (final) return;
    await pause(1000, signal);
  }
};

/**
 * Follows a build log (SSE) from line `after` until the build ends; a dropped stream is opened
 * again after the last line it showed, with backoff, until `maxDrops` drops in a row.
 */
const followLog = async (id: string, after: number, onLine: (l: LogLine) => void, signal?: AbortSignal, maxDrops = 10): Promise<void> => {
  const retryDelay = backoff({ baseMs: 250, maxMs: 5000, jitter: 'equal' });
  let last = after;
  for (let drops = 0; ; ) {
    let reason: string;
    try {
      const res = await openEventStream(`/api/deployments/${encodeURIComponent(id)}/logs?follow=1&after=${last}`, signal ? { signal } : {});
      if (res.status === 404) throw noDeployment(id);
      // No stream here (API Gateway on AWS): read what is new every second until the build ends.
      if (res.status === 405) return await pollLog(id, last, onLine, signal);
      if (!res.ok || !res.body) throw new CliError(`cannot follow the log of ${id} (${res.status})`);
      for await (const m of sseMessages(res.body)) {
        if (m.event === 'end') return;
        if (!m.data) continue;
        const line = JSON.parse(m.data) as LogLine;
        if (line.n <= last) continue;
        last = line.n;
        drops = 0;
        onLine(line);
      }
      reason = 'the stream ended';
    } catch (e) {
      if (e instanceof CliError || signal?.aborted) throw e;
      reason = (e as Error).message;
    }
    if (++drops > maxDrops) throw new CliError(`the log of ${id} stopped streaming (${reason})`);
    await pause(retryDelay(drops), signal);
  }
};

/** `shiplog logs <deployment> [--follow]`: the build log, following it live with --follow. */
export const logsCommand = (): Command =>
  new Command('logs')
    .argument('<deployment>')
    .description('the build log of a deployment')
    .option('-f, --follow', 'keep printing new lines until the build ends (reconnects when the stream drops)')
    .option('--json', 'print JSON lines')
    .action(async (id: string, o: { follow?: boolean; json?: boolean }) => {
      const print = (l: LogLine) => process.stdout.write(o.json ? `${JSON.stringify(l)}\n` : `${l.text}\n`);
      // An unknown deployment fails at once (a follow would otherwise wait for a build that never comes).
      await getDeployment(id);
      if (!o.follow) {
        for (const l of await api<LogLine[]>('GET', `/api/deployments/${encodeURIComponent(id)}/logs`)) print(l);
        return;
      }
      await followLog(id, 0, print);
    });
