import { Command } from 'commander';
import { localConfig } from '../../infra/local/config.ts';

/** `shiplog dev`: the whole platform on this machine, until Ctrl-C. */
export const devCommand = (): Command =>
  new Command('dev')
    .description('run shiplog on this machine (DynamoDB Local, the bus, the services, the API and the sites); Ctrl-C stops it')
    .option('--unsafe-no-sandbox', 'run builds and deployed apps without the bubblewrap sandbox, as shiplog\'s own user (for hosts without user namespaces)')
    .action(async (opts: { unsafeNoSandbox?: boolean }) => {
      const cfg = localConfig();
      if (opts.unsafeNoSandbox) process.env.SHIPLOG_UNSAFE_NO_SANDBOX = '1';
      // Before anything starts: user code runs sandboxed, or the operator said otherwise.
      const { checkSandbox } = await import('../../infra/local/sandbox.ts');
      const warning = checkSandbox(process.env);
      if (warning) process.stderr.write(`${warning}\n`);
      // Loaded on demand: the other commands start fast without the whole platform.
      const { startLocalRuntime } = await import('../../infra/local/runtime.ts');
      const rt = await startLocalRuntime(cfg);
      const { runningBanner } = await import('../../infra/local/runtime-file.ts');
      process.stdout.write(runningBanner({ dataDir: cfg.dataDir, apiUrl: rt.apiUrl, sitesPort: cfg.sitesPort, dynamoEndpoint: rt.db.endpoint }));
      await new Promise<void>((resolveStop) => {
        const stop = () => {
          process.stdout.write('shiplog: stopping\n');
          rt.stop().then(resolveStop, resolveStop);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
