import { describe, expect, it } from 'vitest';
import { DASHBOARD_READ_ACTIONS, hostedAuth, hostedDashboardSpec, stackNames } from './index.ts';

// The dashboard on AWS is declared by default (hosted-dashboard.ts): what `sst deploy` declares from its environment.

const names = stackNames('shiplog', 'ci');
const siteDomain = 'apps.example.com';
const optIn = { SHIPLOG_DASHBOARD_AUTH: 'cognito', SHIPLOG_DASHBOARD_API_URL: 'https://api.example.com' };
const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/secrets';
const table = (name: string) => [`arn:aws:dynamodb:*:*:table/${name}`, `arn:aws:dynamodb:*:*:table/${name}/index/*`];

describe('the hosted dashboard', () => {
  it('is declared by a default deploy, signing in through Cognito; none opts out', () => {
    expect(hostedAuth({})).toBe('cognito');
    expect(hostedAuth({ SHIPLOG_DASHBOARD_AUTH: '' })).toBe('cognito');
    expect(hostedAuth({ SHIPLOG_DASHBOARD_AUTH: 'oidc' })).toBe('oidc');
    expect(hostedDashboardSpec({}, { names, siteDomain, apiUrl: 'https://api.example.com' })?.environment.SHIPLOG_DASHBOARD_AUTH).toBe('cognito');
    expect(hostedDashboardSpec({ SHIPLOG_DASHBOARD_AUTH: 'none' }, { names, siteDomain })).toBeUndefined();
  });

  it('refuses the local admin, and a dashboard without the platform API', () => {
    expect(() => hostedDashboardSpec({ ...optIn, SHIPLOG_DASHBOARD_AUTH: 'local' }, { names, siteDomain })).toThrow(/identity provider/);
    expect(() => hostedDashboardSpec({ SHIPLOG_DASHBOARD_AUTH: 'cognito' }, { names, siteDomain })).toThrow(/SHIPLOG_DASHBOARD_API_URL/);
  });

  it('reads its API token from its SSM parameter by name', () => {
    const spec = hostedDashboardSpec(optIn, { names, siteDomain, keyArn });
    expect(spec?.environment.SHIPLOG_DASHBOARD_API_TOKEN_PARAM).toBe('/shiplog-ci/dashboard/api-token');
    expect(spec?.environment).not.toHaveProperty('SHIPLOG_DASHBOARD_API_TOKEN');
    expect(spec?.permissions.slice(1)).toEqual([
      { actions: ['ssm:GetParameter'], resources: ['arn:aws:ssm:*:*:parameter/shiplog-ci/dashboard/api-token'] },
      { actions: ['kms:Decrypt'], resources: [keyArn] },
    ]);
  });

  it('reads the stage’s event store and views table, and writes neither', () => {
    const spec = hostedDashboardSpec(optIn, { names, siteDomain });
    expect(spec).toEqual({
      name: 'Dashboard',
      path: 'dashboard',
      environment: {
        SHIPLOG_DASHBOARD_AUTH: 'cognito',
        SHIPLOG_DASHBOARD_API_URL: 'https://api.example.com',
        SHIPLOG_DASHBOARD_EVENTS_TABLE: 'shiplog-ci-events',
        SHIPLOG_DASHBOARD_VIEWS_TABLE: 'shiplog-ci-views',
        SHIPLOG_DASHBOARD_PRODUCTION_URL: 'https://{project}.apps.example.com',
        SHIPLOG_DASHBOARD_DEPLOYMENT_URL: 'https://{deployment}-{project}.apps.example.com',
      },
      permissions: [{ actions: [...DASHBOARD_READ_ACTIONS], resources: [...table(names.eventsTable), ...table(names.viewsTable)] }],
    });
  });

  it('takes a custom domain', () => {
    expect(hostedDashboardSpec({ ...optIn, SHIPLOG_DASHBOARD_DOMAIN: 'dash.example.com' }, { names, siteDomain })?.domain).toBe('dash.example.com');
  });
});
