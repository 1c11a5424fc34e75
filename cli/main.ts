import { Command, CommanderError } from 'commander';

// Each command's module is imported only when that command runs (its dependencies, the AWS SDK
// among them, cost hundreds of milliseconds to load): `shiplog deployments list` loads
// deployments.ts and what it needs, nothing else. Help without a command loads them all.
type Loader = () => Promise<Command[]>;
const commandModules: [names: string[], load: Loader][] = [
  [['dev'], async () => [(await import('./commands/dev.ts')).devCommand()]],
  [['events'], async () => [(await import('./commands/events.ts')).eventsCommand()]],
  [['deployments', 'logs'], async () => {
    const m = await import('./commands/deployments.ts');
    const o = await import('./commands/observability.ts');
    return [m.deploymentsCommand(), o.logsWithRuntime(m.logsCommand)];
  }],
  [['metrics', 'alarms', 'costs'], async () => {
    const m = await import('./commands/observability.ts');
    return [m.metricsCommand(), m.alarmsCommand(), m.costsCommand()];
  }],
  [['projects', 'env', 'rollback', 'promote', 'redeploy'], async () => {
    const m = await import('./commands/projects.ts');
    return [m.projectsCommand(), m.envCommand(), ...m.releaseCommands()];
  }],
  [['replay'], async () => [(await import('./commands/replay.ts')).replayCommand()]],
  [['deploy'], async () => [(await import('./commands/deploy.ts')).deployCommand()]],
  [['diff'], async () => [(await import('./commands/diff.ts')).diffCommand()]],
  [['projections'], async () => [(await import('./commands/projections.ts')).projectionsCommand()]],
  [['domains', 'subscriptions'], async () => {
    const m = await import('./commands/domains.ts');
    return [m.domainsCommand(), m.subscriptionsCommand()];
  }],
  [['mounts'], async () => [(await import('./commands/mounts.ts')).mountsCommand()]],
  [['tokens', 'login'], async () => {
    const m = await import('./commands/tokens.ts');
    return [m.tokensCommand(), m.loginCommand()];
  }],
];

/** The command the arguments name (`help <command>` names it too), skipping global options. */
const commandNamed = (args: string[]): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--url') i++;
    else if (a === 'help' && args[i + 1] !== undefined) return args[i + 1];
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
};

const program = new Command('shiplog')
  .description('Self-hosted deployments for Next.js apps: git push to live, with a replayable history.')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .option('--url <api>', 'the API of the instance to use (default: the local one of the data dir; or SHIPLOG_URL)')
  .hook('preAction', (self) => {
    const url = (self.opts() as { url?: string }).url;
    if (url) process.env.SHIPLOG_URL = url;
  });

const named = commandNamed(process.argv.slice(2));
const own = commandModules.find(([names]) => named !== undefined && names.includes(named));
const versionOnly = named === undefined && process.argv.slice(2).some((a) => a === '-V' || a === '--version');
const loaders = own ? [own[1]] : versionOnly ? [] : commandModules.map(([, load]) => load);
// In the order of `commandModules`, so help lists the commands as before.
for (const commands of await Promise.all(loaders.map((load) => load()))) for (const c of commands) program.addCommand(c);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // Every failure is one line that says what went wrong; the stack is for SHIPLOG_DEBUG.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`shiplog: ${message.split('\n')[0]}\n`);
  if (process.env.SHIPLOG_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1);
}
