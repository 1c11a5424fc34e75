import { Command, CommanderError } from 'commander';
import { deploymentsCommand, logsCommand } from './commands/deployments.ts';
import { devCommand } from './commands/dev.ts';
import { diffCommand } from './commands/diff.ts';
import { domainsCommand, subscriptionsCommand } from './commands/domains.ts';
import { projectionsCommand } from './commands/projections.ts';
import { replayCommand } from './commands/replay.ts';
import { eventsCommand } from './commands/events.ts';
import { envCommand, projectsCommand, releaseCommands } from './commands/projects.ts';

const program = new Command('shiplog')
  .description('Self-hosted deployments for Next.js apps: git push to live, with a replayable history.')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program.addCommand(devCommand());
program.addCommand(eventsCommand());
program.addCommand(deploymentsCommand());
program.addCommand(logsCommand());
program.addCommand(projectsCommand());
program.addCommand(envCommand());
for (const c of releaseCommands()) program.addCommand(c);
program.addCommand(replayCommand());
program.addCommand(diffCommand());
program.addCommand(projectionsCommand());
program.addCommand(domainsCommand());
program.addCommand(subscriptionsCommand());

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
