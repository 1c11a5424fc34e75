import { DashboardEnv, dashboardSpec, type DashboardSpec } from './dashboard.ts';
import type { StackNames } from './names.ts';

/**
 * The deploy-time setting of the dashboard's custom domain, if any.
 *
 * @example
 * process.env[DASHBOARD_DOMAIN_ENV] = 'dash.example.com';
 */
export const DASHBOARD_DOMAIN_ENV = 'SHIPLOG_DASHBOARD_DOMAIN';

/**
 * The dashboard a stage hosts on AWS, from the environment of `sst deploy`; none unless it is
 * asked for. The opt-in is the auth adapter, `SHIPLOG_DASHBOARD_AUTH` (for example `cognito`):
 * `local` cannot serve a hosted dashboard (`dashboardSpec` refuses it), and the hosted sign-in
 * adapter does not exist yet (TODO(when dashboard/lib/auth has a Cognito/OIDC adapter): make it
 * the default), so a default deploy ships no dashboard that cannot sign anyone in. Until that
 * adapter exists, an opted-in dashboard deploys but refuses every sign-in. No platform API is
 * declared on AWS yet either, so an opt-in must name one in `SHIPLOG_DASHBOARD_API_URL`. Sites
 * are linked as `https://<project>.<siteDomain>` and `https://<deployment>-<project>.<siteDomain>`.
 *
 * @example
 * // SHIPLOG_DASHBOARD_AUTH=cognito SHIPLOG_DASHBOARD_API_URL=https://api.example.com sst deploy
 * const spec = hostedDashboardSpec(process.env, { names, siteDomain: 'apps.example.com' });
 * if (spec) new sst.aws.Nextjs(spec.name, { path: spec.path, environment: spec.environment, permissions: spec.permissions });
 */
export const hostedDashboardSpec = (
  env: Record<string, string | undefined>,
  input: { names: StackNames; siteDomain: string },
): DashboardSpec | undefined => {
  const auth = env[DashboardEnv.auth];
  if (!auth) return undefined;
  const apiUrl = env[DashboardEnv.apiUrl];
  if (!apiUrl) {
    throw new Error(`${DashboardEnv.auth}=${auth} asks for a hosted dashboard: set ${DashboardEnv.apiUrl} to the platform API it sends commands to`);
  }
  const domain = env[DASHBOARD_DOMAIN_ENV];
  return dashboardSpec({
    names: input.names,
    viewsTable: input.names.viewsTable,
    auth,
    apiUrl,
    productionUrl: `https://{project}.${input.siteDomain}`,
    deploymentUrl: `https://{deployment}-{project}.${input.siteDomain}`,
    ...(domain ? { domain } : {}),
  });
};
