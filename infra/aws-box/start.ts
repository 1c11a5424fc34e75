// `npm run start:aws-box`: shiplog's AWS composition on this machine (docs/aws-box.md), until Ctrl-C.
import { localConfig } from '../local/config.ts';
import { runningBanner } from '../local/runtime-file.ts';
import { startAwsBox } from './box.ts';

const cfg = localConfig();
const box = await startAwsBox(cfg);
process.stdout.write(
  runningBanner({ dataDir: cfg.dataDir, apiUrl: box.apiUrl, sitesPort: cfg.sitesPort, dynamoEndpoint: box.dynamoEndpoint, extra: [`aws endpoint ${box.awsEndpoint}`] }),
);
await new Promise<void>((resolveStop) => {
  const stop = () => {
    process.stdout.write('shiplog: stopping\n');
    box.stop().then(resolveStop, resolveStop);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
