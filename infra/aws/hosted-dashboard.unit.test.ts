import { describe, expect, it } from 'vitest';
import { DASHBOARD_READ_ACTIONS, hostedDashboardSpec, stackNames } from './index.ts';

// The dashboard on AWS is opt-in (hosted-dashboard.ts): what `sst deploy` declares from its environment.

const names = stackNames('shiplog', 'ci');
const siteDomain = 'apps.example.com';
const optIn = { SHIPLOG_DASHBOARD_AUTH: 'cognito', SHIPLOG_DASHBOARD_API_URL: 'https://api.example.com' };
const table = (name: string) => [`arn:aws:dynamodb:*:*:table/${name}`, `arn:aws:dynamodb:*:*:table/${name}/index/*`];

describe('the hosted dashboard', () => {
  it('is not declared by a default deploy', () => {
    expect(hostedDashboardSpec({}, { names, siteDomain })).toBeUndefined();
    expect(hostedDashboardSpec({ SHIPLOG_DASHBOARD_AUTH: '' }, { names, siteDomain })).toBeUndefined();
  });

  it('refuses the local admin, and an opt-in without the platform API', () => {
    expect(() => hostedDashboardSpec({ ...optIn, SHIPLOG_DASHBOARD_AUTH: 'local' }, { names, siteDomain })).toThrow(/identity provider/);
    expect(() => hostedDashboardSpec({ SHIPLOG_DASHBOARD_AUTH: 'cognito' }, { names, siteDomain })).toThrow(/SHIPLOG_DASHBOARD_API_URL/);
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
