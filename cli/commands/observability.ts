import { Command } from 'commander';
import { backoff, pause } from '../../events/index.ts';
import { api, CliError, output } from '../client.ts';
import { openEventStream, sseMessages } from '../sse.ts';

const seg = encodeURIComponent;
const levels = ['debug', 'info', 'warning', 'error'] as const;

interface RuntimeRecord {
  time: string;
  level: string;
  kind: string;
  requestId?: string;
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  message: string;
}

interface MetricsRow {
  id: string;
  live: boolean;
  requests: number;
  errors: number;
  status4xx: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  coldStarts: number;
  routes: { route: string; requests: number; status5xx: number; p99Ms: number }[];
}

const checkLevel = (level: string | undefined): string | undefined => {
  if (level !== undefined && !(levels as readonly string[]).includes(level)) throw new CliError(`--level must be one of ${levels.join(', ')}, not "${level}"`);
  return level;
};

const checkSince = (since: string | undefined): string | undefined => {
  if (since !== undefined && !/^\d{1,6}[smhd]$/.test(since)) throw new CliError(`--since must be a duration such as 90s, 15m, 1h or 7d, not "${since}"`);
  return since;
};

const human = (r: RuntimeRecord): string =>
  [r.time, r.level.toUpperCase().padEnd(7), r.requestId ? r.requestId.slice(0, 8) : '-'.padEnd(8), r.kind === 'console' && r.path ? `${r.method} ${r.path}` : '', r.message]
    .filter((x) => x !== '')
    .join('  ');

// Follows a runtime log over SSE, reconnecting with backoff; a record seen before a drop is not printed again.
const followRuntime = async (id: string, query: string, print: (r: RuntimeRecord) => void, maxDrops = 10): Promise<never> => {
  const retryDelay = backoff({ baseMs: 250, maxMs: 5000, jitter: 'equal' });
  const seen: string[] = [];
  const seenSet = new Set<string>();
  for (let drops = 0; ; ) {
    let reason: string;
    try {
      const res = await openEventStream(`/api/deployments/${seg(id)}/runtime-logs?follow=1${query}`);
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        const error = (() => { try { return (JSON.parse(text) as { error?: string }).error; } catch { return undefined; } })();
        throw new CliError(error ?? `cannot follow the runtime log of ${id} (${res.status})`);
      }
      for await (const m of sseMessages(res.body)) {
        if (m.event !== 'message' || !m.data) continue;
        drops = 0;
        const key = m.data;
        if (seenSet.has(key)) continue;
        seenSet.add(key);
        seen.push(key);
        if (seen.length > 2000) seenSet.delete(seen.shift()!);
        print(JSON.parse(m.data) as RuntimeRecord);
      }
      reason = 'the stream ended';
    } catch (e) {
      if (e instanceof CliError) throw e;
      reason = (e as Error).message;
    }
    if (++drops > maxDrops) throw new CliError(`the runtime log of ${id} stopped streaming (${reason})`);
    await pause(retryDelay(drops));
  }
};

/**
 * `shiplog logs <deployment> [--runtime [--level <level>] [--since <duration>]] [--follow] [--json]`:
 * the build log as `buildLogs` prints it, or with `--runtime` the deployment's runtime log
 * (console output, uncaught errors and one line per request), followed live with `--follow`.
 *
 * @example
 * program.addCommand(logsWithRuntime(logsCommand));
 */
export const logsWithRuntime = (buildLogs: () => Command): Command =>
  buildLogs()
    .description('the build log of a deployment, or with --runtime what its functions print and answer')
    .option('--runtime', 'the runtime log: console output, uncaught errors and one line per request')
    .option('--level <level>', `with --runtime: only this level and above (${levels.join(', ')})`)
    .option('--since <duration>', 'with --runtime: only records this recent (e.g. 15m, 1h)')
    .action(async (id: string, o: { follow?: boolean; json?: boolean; runtime?: boolean; level?: string; since?: string }) => {
      if (!o.runtime) {
        if (o.level !== undefined || o.since !== undefined) throw new CliError('--level and --since apply to the runtime log: add --runtime');
        await buildLogs().exitOverride().parseAsync([id, ...(o.follow ? ['--follow'] : []), ...(o.json ? ['--json'] : [])], { from: 'user' });
        return;
      }
      const level = checkLevel(o.level);
      const since = checkSince(o.since);
      const query = `${level ? `&level=${level}` : ''}${since ? `&since=${since}` : ''}`;
      const print = (r: RuntimeRecord) => process.stdout.write(`${o.json ? JSON.stringify(r) : human(r)}\n`);
      if (o.follow) return void (await followRuntime(id, query, print));
      const { records } = await api<{ records: RuntimeRecord[] }>('GET', `/api/deployments/${seg(id)}/runtime-logs?limit=1000${query}`);
      records.forEach(print);
    });

/**
 * `shiplog metrics <project> [--since 1h] [--routes] [--json]`: request metrics per deployment.
 *
 * @example
 * program.addCommand(metricsCommand()); // shiplog metrics web --since 24h --json
 */
export const metricsCommand = (): Command =>
  new Command('metrics')
    .argument('<project>')
    .description("request metrics of a project's deployments: requests, 5xx errors, latency percentiles, cold starts")
    .option('--since <duration>', 'the period, up to now (e.g. 15m, 1h, 7d)', '1h')
    .option('--routes', 'also per route')
    .option('--json', 'print JSON (one object per deployment)')
    .action(async (project: string, o: { since: string; routes?: boolean; json?: boolean }) => {
      const { deployments } = await api<{ deployments: MetricsRow[] }>('GET', `/api/projects/${seg(project)}/metrics?since=${checkSince(o.since)}`);
      output(deployments, o.json, () => {
        if (deployments.length === 0) return `no requests to ${project} in the last ${o.since}`;
        const head = 'deployment                   requests  5xx   4xx   p50 ms  p95 ms  p99 ms  cold';
        const rows = deployments.flatMap((d) => [
          `${(d.id + (d.live ? ' *' : '')).padEnd(28)} ${String(d.requests).padStart(8)}  ${String(d.errors).padStart(4)}  ${String(d.status4xx).padStart(4)}  ${String(d.p50Ms).padStart(6)}  ${String(d.p95Ms).padStart(6)}  ${String(d.p99Ms).padStart(6)}  ${String(d.coldStarts).padStart(4)}`,
          ...(o.routes ? d.routes.map((r) => `  ${r.route.padEnd(26)} ${String(r.requests).padStart(8)}  ${String(r.status5xx).padStart(4)}  p99 ${r.p99Ms} ms`) : []),
        ]);
        return [head, ...rows, '(* live on production)'].join('\n');
      });
    });

const number = (name: string, raw: string, check: (n: number) => boolean, what: string): number => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new CliError(`${name} must be ${what}, not "${raw}"`);
  return n;
};

/**
 * `shiplog alarms set|get <project> …`: the project's production error-rate alarm.
 *
 * @example
 * program.addCommand(alarmsCommand()); // shiplog alarms set web --max-error-rate 0.05 --window 300 --min-requests 20 --auto-rollback
 */
export const alarmsCommand = (): Command => {
  const cmd = new Command('alarms').description("a project's alarm on its production 5xx rate, which can roll a bad deployment back");
  cmd
    .command('set <project>')
    .description('set the alarm rule (replaces the previous one)')
    .requiredOption('--max-error-rate <rate>', 'the highest 5xx rate allowed, 0..1 (0.05 = 5 %)')
    .requiredOption('--window <seconds>', 'the period the rate is measured over, in seconds (10..86400)')
    .requiredOption('--min-requests <n>', 'judge only once the window holds this many requests')
    .option('--auto-rollback', 'roll back to the previous deployment on a breach within the watch period')
    .option('--watch <seconds>', 'how long after going live a breach rolls back', '600')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { maxErrorRate: string; window: string; minRequests: string; autoRollback?: boolean; watch: string; json?: boolean }) => {
      const rule = {
        maxErrorRate: number('--max-error-rate', o.maxErrorRate, (n) => n >= 0 && n <= 1, 'a number from 0 to 1'),
        windowSeconds: number('--window', o.window, (n) => Number.isInteger(n) && n >= 10 && n <= 86_400, 'whole seconds from 10 to 86400'),
        minRequests: number('--min-requests', o.minRequests, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
        autoRollback: o.autoRollback === true,
        watchSeconds: number('--watch', o.watch, (n) => Number.isInteger(n) && n >= 0 && n <= 86_400, 'whole seconds from 0 to 86400'),
      };
      const res = await api<{ changed: boolean }>('POST', `/api/projects/${seg(project)}/alarms`, rule);
      output(res, o.json, () =>
        `${project}: alarm when more than ${rule.maxErrorRate * 100} % of at least ${rule.minRequests} requests in ${rule.windowSeconds} s answer 5xx`
        + (rule.autoRollback ? `; rolls back a deployment that breaches within ${rule.watchSeconds} s of going live` : '')
        + (res.changed ? '' : ' (unchanged)'));
    });
  cmd
    .command('get <project>')
    .description('the alarm rule and whether it is raised')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { json?: boolean }) => {
      const res = await api<{ rule: { maxErrorRate: number; windowSeconds: number; minRequests: number; autoRollback: boolean; watchSeconds: number } | null; status: string; raised?: { deploymentId?: string; at: string } }>(
        'GET', `/api/projects/${seg(project)}/alarms`);
      output(res, o.json, () => {
        if (!res.rule) return `${project} has no alarm rule (\`shiplog alarms set ${project} --max-error-rate 0.05 --window 300 --min-requests 20\`)`;
        const r = res.rule;
        return `max 5xx rate ${r.maxErrorRate} over ${r.windowSeconds} s (at least ${r.minRequests} requests)${r.autoRollback ? `, auto-rollback within ${r.watchSeconds} s` : ''}\n`
          + `status: ${res.status}${res.raised ? ` since ${res.raised.at}${res.raised.deploymentId ? ` on ${res.raised.deploymentId}` : ''}` : ''}`;
      });
    });
  return cmd;
};

/**
 * `shiplog costs <project> [--since 30d] [--json]`: what the project's measured usage would cost on AWS.
 *
 * @example
 * program.addCommand(costsCommand()); // shiplog costs web --json
 */
export const costsCommand = (): Command =>
  new Command('costs')
    .argument('<project>')
    .description("an estimate of what a project's measured usage costs at AWS's published prices")
    .option('--since <duration>', 'the period, up to now (e.g. 7d, 30d)', '30d')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { since: string; json?: boolean }) => {
      const res = await api<{ total: number; prices: { asOf: string; region: string }; deployments: { id: string; usage: { invocations: number; gbSeconds: number; bytesOut: number; cdnRequests: number }; cost: { total: number } }[] }>(
        'GET', `/api/projects/${seg(project)}/costs?since=${checkSince(o.since)}`);
      output(res, o.json, () => [
        ...res.deployments.map((d) => `${d.id.padEnd(28)} $${d.cost.total.toFixed(6)}  (${d.usage.invocations} invocations, ${d.usage.gbSeconds.toFixed(2)} GB-s, ${(d.usage.bytesOut / 1e6).toFixed(2)} MB out, ${d.usage.cdnRequests} CDN requests)`),
        `total for the last ${o.since}: $${res.total.toFixed(6)} (AWS prices of ${res.prices.asOf}, ${res.prices.region}, before free tiers)`,
      ].join('\n'));
    });
