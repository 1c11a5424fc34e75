// `npm run start:aws-box`: shiplog's AWS composition on this machine (docs/aws-box.md), until Ctrl-C.
import { localConfig } from '../local/config.ts';
import { startAwsBox } from './box.ts';

const cfg = localConfig();
const box = await startAwsBox(cfg);
process.stdout.write(
  [
    `shiplog is running (data in ${cfg.dataDir})`,
    `  API, webhooks, git   ${box.apiUrl}`,
    `  sites                http://<project>.localhost:${cfg.sitesPort}`,
    `  event store          DynamoDB Local at ${box.dynamoEndpoint}`,
    `aws endpoint ${box.awsEndpoint}`,
    'Create a project:      npx shiplog projects create <name>',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);
await new Promise<void>((resolveStop) => {
  const stop = () => {
    process.stdout.write('shiplog: stopping\n');
    box.stop().then(resolveStop, resolveStop);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
