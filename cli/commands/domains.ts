import { Command } from 'commander';
import { api, CliError, output } from '../client.ts';

interface DomainRow {
  host: string;
  status: string;
  alias?: string;
  records?: { purpose: string; name: string; type: string; value: string; zone?: string }[];
}

const seg = encodeURIComponent;

/** `shiplog domains add|ls|rm <project> …`: custom domains, each with its certificate. */
export const domainsCommand = (): Command => {
  const cmd = new Command('domains').description("a project's custom domains (a certificate is issued for each)");
  cmd
    .command('add <project> <host>')
    .description('serve the project (its production alias by default) at a host of yours')
    .option('--alias <alias>', 'the alias the host serves', 'production')
    .option('--json', 'print JSON')
    .action(async (project: string, host: string, o: { alias: string; json?: boolean }) => {
      const res = await api<unknown>('POST', `/api/projects/${seg(project)}/domains`, { host, alias: o.alias });
      output(res, o.json, () => `${host} added to ${project}; see \`shiplog domains ls ${project}\` for its DNS records and status`);
    });
  cmd
    .command('ls <project>')
    .description('domains, their status and the DNS records to create')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { json?: boolean }) => {
      const { domains } = await api<{ domains: DomainRow[] }>('GET', `/api/projects/${seg(project)}/domains`);
      output(domains, o.json, () =>
        domains.length === 0
          ? `no domains on ${project}`
          : domains
              .map((d) => [`${d.host}  ${d.status}${d.alias ? `  → ${d.alias}` : ''}`, ...(d.records ?? []).map((r) => `    ${r.type} ${r.name} ${r.value}  (${r.purpose}${r.zone ? `; created in hosted zone ${r.zone}` : ''})`)].join('\n'))
              .join('\n'),
      );
    });
  cmd
    .command('rm <project> <host>')
    .description('stop serving a host and release its certificate')
    .option('--json', 'print JSON')
    .action(async (project: string, host: string, o: { json?: boolean }) => {
      const res = await api<unknown>('DELETE', `/api/projects/${seg(project)}/domains/${seg(host)}`);
      output(res, o.json, () => `${host} removed from ${project}`);
    });
  return cmd;
};

/** `shiplog subscriptions create|ls|rm <project> …`: signed webhooks of a project's events. */
export const subscriptionsCommand = (): Command => {
  const cmd = new Command('subscriptions').description("webhooks that receive a project's events, signed (x-shiplog-signature-256)");
  cmd
    .command('create <project> <url>')
    .alias('add')
    .description('send the project\'s events matching a pattern to a URL, or with --runtime-logs its runtime logs in batches (a log drain); prints the signing secret once')
    .option('--pattern <json>', 'an EventBridge event pattern (with --runtime-logs, matched against each log record as "detail")')
    .option('--runtime-logs', 'a log drain: JSON arrays of runtime log records (as `shiplog logs --runtime --json` prints), every few seconds')
    .option('--level <level>', 'with --runtime-logs: only records at or above debug, info, warn or error')
    .option('--description <text>', 'what it is for')
    .option('--json', 'print JSON')
    .action(async (project: string, url: string, o: { pattern?: string; runtimeLogs?: boolean; level?: string; description?: string; json?: boolean }) => {
      if (o.level !== undefined && !o.runtimeLogs) throw new CliError('--level filters runtime logs: add --runtime-logs');
      const res = await api<{ subscriptionId: string; signingSecret: string }>('POST', `/api/projects/${seg(project)}/subscriptions`, {
        targetUrl: url,
        ...(o.runtimeLogs
          ? { kind: 'runtime-logs', ...(o.pattern ? { eventPattern: o.pattern } : {}), ...(o.level ? { minLevel: o.level } : {}) }
          : { eventPattern: o.pattern ?? '{"source":[{"prefix":"shiplog."}]}' }),
        ...(o.description ? { description: o.description } : {}),
      });
      const what = o.runtimeLogs ? 'log drain' : 'subscription';
      output(res, o.json, () => `${what} ${res.subscriptionId} created; signing secret (shown once): ${res.signingSecret}`);
    });
  cmd
    .command('ls <project>')
    .description('the project\'s subscriptions (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { json?: boolean }) => {
      const { subscriptions } = await api<{ subscriptions: { subscriptionId: string; kind?: string; targetUrl: string; drain?: { delivered: number; dropped: number } }[] }>('GET', `/api/projects/${seg(project)}/subscriptions`);
      const line = (s: (typeof subscriptions)[number]) =>
        `${s.subscriptionId}  ${s.kind ?? 'events'}  ${s.targetUrl}${s.drain ? `  (${s.drain.delivered} records sent, ${s.drain.dropped} dropped)` : ''}`;
      output(subscriptions, o.json, () => (subscriptions.length === 0 ? `no subscriptions on ${project}` : subscriptions.map(line).join('\n')));
    });
  cmd
    .command('rm <project> <id>')
    .description('stop deliveries to a subscription')
    .option('--json', 'print JSON')
    .action(async (project: string, id: string, o: { json?: boolean }) => {
      const res = await api<unknown>('DELETE', `/api/projects/${seg(project)}/subscriptions/${seg(id)}`);
      output(res, o.json, () => `subscription ${id} removed`);
    });
  return cmd;
};
