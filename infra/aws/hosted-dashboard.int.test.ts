import { describe, expect, it } from 'vitest';
import { OidcEnv } from '../../dashboard/lib/auth/oidc-env.ts';
import { subscriptions } from '../topology.ts';
import type { DashboardSpec } from './dashboard.ts';
import { declareHostedDashboard } from './hosted-dashboard.ts';
import { DashboardEnv, DASHBOARD_READ_ACTIONS, stackNames } from './index.ts';
import { ACCOUNT, declareUnderMocks, REGION, resolved } from './mocked-stack.ts';
import { DASHBOARD_CLIENT } from './sign-in.ts';

// The hosted dashboard and its sign-in as sst.config.ts declares them beside the stack, under
// Pulumi mocks: a Cognito user pool, hosted UI domain and app client by default (auth=cognito), any
// OIDC provider by config (auth=oidc); the client and the session key in SSM SecureStrings the
// dashboard alone may read, none of it in the function's environment.

const NEXTJS_URL = 'https://d111111abcdef8.cloudfront.net';

/** A Pulumi secret as the mocks receive it (its signature key, then the value): encrypted in the stack's state. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const secretValue = (input: unknown): string => {
  expect(input).toMatchObject({ [SECRET_SIG]: expect.any(String), value: expect.any(String) });
  return (input as { value: string }).value;
};

const declare = async (env: Record<string, string>) => {
  const nextjs: DashboardSpec[] = [];
  let hosted: ReturnType<typeof declareHostedDashboard>;
  const s = await declareUnderMocks(subscriptions, {
    also: (cloud, stack) =>
      (hosted = declareHostedDashboard(cloud, {
        names: stackNames('shiplog', 'ci'), scope: stack.scope, env, siteDomain: 'apps.example.com', protect: false,
        apiUrl: stack.api.url, secrets: stack.secrets.resources,
        declareNextjs: (spec) => {
          nextjs.push(spec);
          return { url: cloud.pulumi.output(`${NEXTJS_URL}/`) };
        },
      })),
  });
  return { s, nextjs, hosted: hosted! };
};

describe('the hosted dashboard and its sign-in', () => {
  it('is not declared without SHIPLOG_DASHBOARD_AUTH, and never with the local admin', async () => {
    const { s, nextjs, hosted } = await declare({});
    expect(hosted).toBeUndefined();
    expect(nextjs).toEqual([]);
    expect(s.registered.filter((r) => r.type.startsWith('aws:cognito/'))).toEqual([]);
    await expect(declare({ SHIPLOG_DASHBOARD_AUTH: 'local' })).rejects.toThrow(/identity provider/);
    await expect(declare({ SHIPLOG_DASHBOARD_AUTH: 'oidc' })).rejects.toThrow(/SHIPLOG_DASHBOARD_OIDC_ISSUER/);
  });

  it('cognito: a user pool, its hosted UI domain and the dashboard’s code-flow client, registered for the dashboard’s callback', async () => {
    const { s } = await declare({ SHIPLOG_DASHBOARD_AUTH: 'cognito' });
    const pool = s.one('aws:cognito/userPool:UserPool', 'DashboardUsers').inputs;
    expect(pool).toMatchObject({
      name: 'shiplog-ci-users', usernameAttributes: ['email'], adminCreateUserConfig: { allowAdminCreateUserOnly: true }, deletionProtection: 'INACTIVE',
    });
    expect(s.one('aws:cognito/userPoolDomain:UserPoolDomain', 'DashboardSignInDomain').inputs).toMatchObject({
      domain: `shiplog-ci-${ACCOUNT}`, userPoolId: 'DashboardUsers-id',
    });
    const client = s.one('aws:cognito/userPoolClient:UserPoolClient', 'DashboardClient').inputs;
    expect(client).toMatchObject({
      ...DASHBOARD_CLIENT, userPoolId: 'DashboardUsers-id', callbackUrls: [`${NEXTJS_URL}/sign-in/callback`], logoutUrls: [NEXTJS_URL],
    });
    expect(client.allowedOauthFlows).toEqual(['code']);
    expect(client.allowedOauthFlows).not.toContain('implicit');
  });

  it('keeps the app client and a generated session key in SSM SecureStrings under the secrets key, read by name', async () => {
    const { s, nextjs } = await declare({ SHIPLOG_DASHBOARD_AUTH: 'cognito' });
    const alias = s.one('aws:kms/alias:Alias', 'SecretsAlias').inputs.name;
    const client = s.one('aws:ssm/parameter:Parameter', 'DashboardOidcClient').inputs;
    expect(client).toMatchObject({ name: '/shiplog-ci/dashboard/oidc-client', type: 'SecureString', keyId: alias });
    expect(JSON.parse(secretValue(client.value))).toEqual({ clientId: 'DashboardClient-id', redirectUri: `${NEXTJS_URL}/sign-in/callback` });
    const key = s.one('aws:ssm/parameter:Parameter', 'DashboardSessionKey').inputs;
    expect(key).toMatchObject({ name: '/shiplog-ci/dashboard/session-key', type: 'SecureString', keyId: alias });
    expect(secretValue(key.value)).toHaveLength(64);

    const [spec] = nextjs;
    const env = await resolved(spec!.environment);
    expect(env).toMatchObject({
      SHIPLOG_DASHBOARD_AUTH: 'cognito',
      SHIPLOG_DASHBOARD_OIDC_ISSUER: `https://cognito-idp.${REGION}.amazonaws.com/DashboardUsers-id`,
      SHIPLOG_DASHBOARD_OIDC_NAME: 'Cognito',
      SHIPLOG_DASHBOARD_OIDC_CLIENT_PARAM: '/shiplog-ci/dashboard/oidc-client',
      SHIPLOG_DASHBOARD_SESSION_KEY_PARAM: '/shiplog-ci/dashboard/session-key',
      SHIPLOG_DASHBOARD_API_URL: 'https://Api-id.execute-api.eu-west-1.amazonaws.com',
    });
    // no secret value in the function's environment
    expect(Object.values(env)).not.toContain(secretValue(key.value));
    expect(Object.keys(env).filter((k) => /SECRET|TOKEN|KEY$/.test(k))).toEqual([]);
    const permissions = await resolved(spec!.permissions);
    expect(permissions).toEqual([
      expect.objectContaining({ actions: [...DASHBOARD_READ_ACTIONS] }),
      { actions: ['ssm:GetParameter'], resources: ['arn:aws:ssm:*:*:parameter/shiplog-ci/dashboard/oidc-client', 'arn:aws:ssm:*:*:parameter/shiplog-ci/dashboard/session-key'] },
      { actions: ['kms:Decrypt'], resources: [s.one('aws:kms/key:Key', 'Secrets').state.arn] },
    ]);
  });

  it('registers the custom domain’s callback when the dashboard has one', async () => {
    const { s } = await declare({ SHIPLOG_DASHBOARD_AUTH: 'cognito', SHIPLOG_DASHBOARD_DOMAIN: 'dash.example.com' });
    expect(s.one('aws:cognito/userPoolClient:UserPoolClient', 'DashboardClient').inputs.callbackUrls).toEqual(['https://dash.example.com/sign-in/callback']);
  });

  it('oidc: any provider by config, its client secret in SSM only, no user pool', async () => {
    const { s, nextjs } = await declare({
      SHIPLOG_DASHBOARD_AUTH: 'oidc', SHIPLOG_DASHBOARD_OIDC_ISSUER: 'https://acme.okta.com', SHIPLOG_DASHBOARD_OIDC_NAME: 'Okta',
      SHIPLOG_DASHBOARD_OIDC_CLIENT_ID: '0oa-client', SHIPLOG_DASHBOARD_OIDC_CLIENT_SECRET: 'oidc-client-secret',
    });
    expect(s.registered.filter((r) => r.type.startsWith('aws:cognito/'))).toEqual([]);
    expect(JSON.parse(secretValue(s.one('aws:ssm/parameter:Parameter', 'DashboardOidcClient').inputs.value))).toEqual({
      clientId: '0oa-client', clientSecret: 'oidc-client-secret', redirectUri: `${NEXTJS_URL}/sign-in/callback`,
    });
    const env = await resolved(nextjs[0]!.environment);
    expect(env).toMatchObject({ SHIPLOG_DASHBOARD_AUTH: 'oidc', SHIPLOG_DASHBOARD_OIDC_ISSUER: 'https://acme.okta.com', SHIPLOG_DASHBOARD_OIDC_NAME: 'Okta' });
    expect(JSON.stringify(env)).not.toContain('oidc-client-secret');
  });

  it('names the environment the dashboard’s OIDC adapter reads', () => {
    expect(DashboardEnv.oidcIssuer).toBe(OidcEnv.issuer);
    expect(DashboardEnv.oidcName).toBe(OidcEnv.name);
    expect(DashboardEnv.oidcClientParam).toBe(OidcEnv.clientParam);
    expect(DashboardEnv.sessionKeyParam).toBe(OidcEnv.sessionKeyParam);
  });
});
