import { Command } from 'commander';
import { localConfig } from '../../infra/local/config.ts';

/** `shiplog dev`: the whole platform on this machine, until Ctrl-C. */
export const devCommand = (): Command =>
  new Command('dev')
    .description('run shiplog on this machine (DynamoDB Local, the bus, the services, the API and the sites); Ctrl-C stops it')
    .action(async () => {
      const cfg = localConfig();
      // Loaded on demand: the other commands start fast without the whole platform.
      const { startLocalRuntime } = await import('../../infra/local/runtime.ts');
      const rt = await startLocalRuntime(cfg);
      process.stdout.write(
        [
          `shiplog is running (data in ${cfg.dataDir})`,
          `  API, webhooks, git   ${rt.apiUrl}`,
          `  sites                http://<project>.localhost:${cfg.sitesPort}`,
          `  event store          DynamoDB Local at ${rt.db.endpoint}`,
          'Create a project:      npx shiplog projects create <name>',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolveStop) => {
        const stop = () => {
          process.stdout.write('shiplog: stopping\n');
          rt.stop().then(resolveStop, resolveStop);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
