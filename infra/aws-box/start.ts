// `npm run start:aws-box`: shiplog's AWS composition on this machine (docs/aws-box.md), until Ctrl-C.
// With SHIPLOG_BOX_DASHBOARD_PORT, also the hosted dashboard signing in through the Cognito stand-in.
import { localConfig } from '../local/config.ts';
import { runningBanner } from '../local/runtime-file.ts';
import { startAwsBox } from './box.ts';
import { startBoxDashboard, type BoxDashboard } from './hosted-dashboard.ts';

const cfg = localConfig();
const box = await startAwsBox(cfg);
const dashboardPort = Number(process.env.SHIPLOG_BOX_DASHBOARD_PORT);
let dashboard: BoxDashboard | undefined;
if (Number.isInteger(dashboardPort) && dashboardPort > 0) {
  dashboard = await startBoxDashboard({ dataDir: cfg.dataDir, awsEndpoint: box.awsEndpoint, port: dashboardPort }).catch(async (err: unknown) => {
    await box.stop();
    throw err;
  });
}
const signIn = dashboard
  ? [
      `dashboard ${dashboard.url} (Cognito user pool ${dashboard.userPoolId}, issuer ${dashboard.issuer})`,
      `  add a user: aws --endpoint-url ${box.awsEndpoint} cognito-idp admin-create-user --user-pool-id ${dashboard.userPoolId} --username <email> --message-action SUPPRESS`,
      `  and its password: … cognito-idp admin-set-user-password --user-pool-id ${dashboard.userPoolId} --username <email> --password <password> --permanent`,
    ]
  : [];
process.stdout.write(
  runningBanner({ dataDir: cfg.dataDir, apiUrl: box.apiUrl, sitesPort: cfg.sitesPort, dynamoEndpoint: box.dynamoEndpoint, extra: [`aws endpoint ${box.awsEndpoint}`, ...signIn] }),
);
await new Promise<void>((resolveStop) => {
  const stop = () => {
    process.stdout.write('shiplog: stopping\n');
    void (dashboard?.close() ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => box.stop())
      .then(resolveStop, resolveStop);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
