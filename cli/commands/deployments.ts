import { Command } from 'commander';
import { backoff } from '../../events/index.ts';
import { api, ApiError, apiTarget, CliError, output } from '../client.ts';

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
  requestedAt: string | null;
  error: string | null;
}

const ago = (iso: string | null) => (iso ? `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))}s ago` : '');

const isFinal = (d: DeploymentRow) => d.live || ['error', 'canceled', 'rejected'].includes(d.status);

/** The one-line answer for a deployment id the API does not know. */
export const noDeployment = (id: string) => new CliError(`no deployment "${id}" (\`shiplog deployments list <project>\` lists them)`);

/**
 * One deployment from the API; a 404 is {@link noDeployment}.
 *
 * @example
 * const d = await getDeployment('01J…'); d.current; // ['production']
 */
export const getDeployment = async (id: string): Promise<DeploymentRow> => {
  try {
    return await api<DeploymentRow>('GET', `/api/deployments/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw noDeployment(id);
    throw e;
  }
};

// Where a deployment is current, e.g. `production`; `-` once replaced (or never live).
const currentText = (d: DeploymentRow) => (d.current?.length ? d.current.join(',') : '-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
      output(d, o.json, () => `${d.id}  ${d.status}  current: ${currentText(d)}  ${d.url ?? ''}${d.error ? `\n${d.error}` : ''}`);
    });
  cmd
    .command('wait <deployment>')
    .description('wait until a deployment is live (exit 0) or has failed or was canceled (exit 1); a failed poll is retried')
    .option('--timeout <seconds>', 'give up after this long (exit 1)', '900')
    .option('--json', 'print JSON lines instead of live progress')
    .action(async (id: string, o: { timeout: string; json?: boolean }) => {
      const deadline = Date.now() + Number(o.timeout) * 1000;
      const tty = process.stdout.isTTY && !o.json;
      const started = Date.now();
      let lastLine = 0;
      let lastStatus = '';
      // A poll that fails (API unreachable, 5xx: shiplog restarting) is retried with backoff until the deadline.
      const retryDelay = backoff({ baseMs: 500, maxMs: 10_000, jitter: 'equal' });
      let failedPolls = 0;
      for (;;) {
        let d: DeploymentRow;
        try {
          d = await getDeployment(id);
          failedPolls = 0;
        } catch (e) {
          if (!(e instanceof ApiError) || (e.status !== null && e.status < 500)) throw e;
          if (Date.now() > deadline) throw new CliError(`deployment ${id}: the API still fails after ${o.timeout}s (${e.message})`);
          const wait = retryDelay(failedPolls++);
          process.stderr.write(`shiplog: poll failed (${e.message}); retrying in ${(wait / 1000).toFixed(1)}s\n`);
          await sleep(wait);
          continue;
        }
        // Only a terminal shows the log's last line; plain output needs no log at all.
        const logs = tty ? await api<{ n: number; text: string }[]>('GET', `/api/deployments/${encodeURIComponent(id)}/logs?after=${lastLine}`).catch(() => []) : [];
        if (logs.length) lastLine = logs.at(-1)!.n;
        const status = d.live ? 'live' : d.status;
        const elapsed = `${Math.round((Date.now() - started) / 1000)}s`;
        if (tty) {
          process.stdout.write(`\r\x1b[K${status.padEnd(9)} ${elapsed}  ${(logs.at(-1)?.text ?? '').slice(0, 100)}`);
        } else if (status !== lastStatus) {
          process.stdout.write(o.json ? `${JSON.stringify({ id, status, elapsed })}\n` : `${id} ${status} (${elapsed})\n`);
        }
        lastStatus = status;
        if (isFinal(d)) {
          if (tty) process.stdout.write('\n');
          if (d.live) return;
          throw new CliError(`deployment ${id} ${d.status}${d.error ? `: ${d.error.split('\n')[0]}` : ''}`);
        }
        if (Date.now() > deadline) throw new CliError(`deployment ${id} is still ${status} after ${o.timeout}s`);
        await sleep(1000);
      }
    });
  return cmd;
};

/** `shiplog logs <deployment> [--follow]`: the build log, following it live with --follow. */
export const logsCommand = (): Command =>
  new Command('logs')
    .argument('<deployment>')
    .description('the build log of a deployment')
    .option('-f, --follow', 'keep printing new lines until the build ends')
    .option('--json', 'print JSON lines')
    .action(async (id: string, o: { follow?: boolean; json?: boolean }) => {
      const print = (l: { n: number; stream: string; text: string }) =>
        process.stdout.write(o.json ? `${JSON.stringify(l)}\n` : `${l.text}\n`);
      // An unknown deployment fails at once (a follow would otherwise wait for a build that never comes).
      await getDeployment(id);
      if (!o.follow) {
        for (const l of await api<{ n: number; stream: string; text: string }[]>('GET', `/api/deployments/${encodeURIComponent(id)}/logs`)) print(l);
        return;
      }
      const { apiUrl, token } = apiTarget();
      const res = await fetch(new URL(`/api/deployments/${encodeURIComponent(id)}/logs?follow=1`, apiUrl), { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } });
      if (res.status === 404) throw noDeployment(id);
      if (!res.ok || !res.body) throw new CliError(`cannot follow the log of ${id} (${res.status})`);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (frame.startsWith('event: end')) return;
          if (data) print(JSON.parse(data) as { n: number; stream: string; text: string });
        }
      }
    });
