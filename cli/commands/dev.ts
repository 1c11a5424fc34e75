import { Command } from 'commander';
import { localConfig } from '../../infra/local/config.ts';

/** `shiplog dev`: the whole platform on this machine, until Ctrl-C. */
export const devCommand = (): Command =>
  new Command('dev')
    .description('run shiplog on this machine (DynamoDB Local, the bus, the services); Ctrl-C stops it')
    .action(async () => {
      const cfg = localConfig();
      // Loaded on demand: the other commands start fast without the whole platform.
      const { startLocalRuntime } = await import('../../infra/local/runtime.ts');
      const rt = await startLocalRuntime(cfg);
      process.stdout.write(
        [
          `shiplog dev: running (data in ${cfg.dataDir})`,
          `  event store   DynamoDB Local at ${rt.db.endpoint}`,
          '  not built yet: the bus and outbox, the services, the API on :' +
            `${cfg.port} and the site router on :${cfg.sitesPort}`,
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolveStop) => {
        const stop = () => {
          process.stdout.write('shiplog dev: stopping\n');
          rt.stop().then(resolveStop, resolveStop);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
