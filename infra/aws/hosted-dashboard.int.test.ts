import { describe, expect, it } from 'vitest';
import { OidcEnv } from '../../dashboard/lib/auth/oidc-env.ts';
import { subscriptions } from '../topology.ts';
import type { DashboardSpec } from './dashboard.ts';
import { declareHostedDashboard } from './hosted-dashboard.ts';
import { DASHBOARD_TOKEN_HANDLER, DashboardEnv, DashboardTokenEnv, DASHBOARD_READ_ACTIONS, stackNames, TOKENS_ACTIONS, type PermissionSpec } from './index.ts';
import { isAllowed, type Statement } from '../../test/support/iam-policy.ts';
import { ACCOUNT, declareUnderMocks, REGION, resolved } from './mocked-stack.ts';
import { DASHBOARD_CLIENT } from './sign-in.ts';

// The hosted dashboard and its sign-in as sst.config.ts declares them beside the stack, under
// Pulumi mocks: declared by default with a Cognito user pool, hosted UI domain and app client, any
// OIDC provider by config (auth=oidc), none with auth=none; the client, the session key and its
// `dashboard` API token (made on each deploy by the DashboardToken function) in SSM SecureStrings
// the dashboard alone may read, none of it in the function's environment.

const NEXTJS_URL = 'https://d111111abcdef8.cloudfront.net';

/** A Pulumi secret as the mocks receive it (its signature key, then the value): encrypted in the stack's state. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const secretValue = (input: unknown): string => {
  expect(input).toMatchObject({ [SECRET_SIG]: expect.any(String), value: expect.any(String) });
  return (input as { value: string }).value;
};

const DEPLOYED_AT = '2026-12-04T10:00:00.000Z';

const declare = async (env: Record<string, string>) => {
  const nextjs: DashboardSpec[] = [];
  let hosted: ReturnType<typeof declareHostedDashboard>;
  const s = await declareUnderMocks(subscriptions, {
    also: (cloud, stack, declareFunction) =>
      (hosted = declareHostedDashboard(cloud, {
        names: stackNames('shiplog', 'ci'), scope: stack.scope, env, siteDomain: 'apps.example.com', protect: false,
        apiUrl: stack.api.url, secrets: stack.secrets.resources, tokens: stack.api.tokens, declareFunction, deployedAt: DEPLOYED_AT,
        declareNextjs: (spec) => {
          nextjs.push(spec);
          return { url: cloud.pulumi.output(`${NEXTJS_URL}/`) };
        },
      })),
  });
  return { s, nextjs, hosted: hosted! };
};

describe('the hosted dashboard and its sign-in', () => {
  it('is declared by default, signing in through Cognito', async () => {
    const { s, nextjs, hosted } = await declare({});
    expect(hosted).toBeDefined();
    expect(nextjs).toHaveLength(1);
    expect((await resolved(nextjs[0]!.environment))[DashboardEnv.auth]).toBe('cognito');
    expect(s.one('aws:cognito/userPool:UserPool', 'DashboardUsers').inputs.name).toBe('shiplog-ci-users');
    expect(s.spec('DashboardToken').handler).toBe(DASHBOARD_TOKEN_HANDLER);
  });

  it('is not declared with SHIPLOG_DASHBOARD_AUTH=none, and never with the local admin', async () => {
    const { s, nextjs, hosted } = await declare({ SHIPLOG_DASHBOARD_AUTH: 'none' });
    expect(hosted).toBeUndefined();
    expect(nextjs).toEqual([]);
    expect(s.registered.filter((r) => r.type.startsWith('aws:cognito/') || r.type === 'aws:lambda/invocation:Invocation')).toEqual([]);
    expect(s.specs.map((f) => f.name)).not.toContain('DashboardToken');
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
      SHIPLOG_DASHBOARD_API_TOKEN_PARAM: '/shiplog-ci/dashboard/api-token',
      SHIPLOG_DASHBOARD_API_URL: 'https://Api-id.execute-api.eu-west-1.amazonaws.com',
    });
    // no secret value in the function's environment: secrets by the name of their parameter only
    expect(Object.values(env)).not.toContain(secretValue(key.value));
    expect(env).not.toHaveProperty('SHIPLOG_DASHBOARD_API_TOKEN');
    for (const k of Object.keys(env).filter((k) => /SECRET|TOKEN|KEY/.test(k))) {
      expect(k).toMatch(/_PARAM$/);
      expect(env[k]).toMatch(/^\/shiplog-ci\/dashboard\/[a-z-]+$/);
    }
    const permissions = await resolved(spec!.permissions);
    expect(permissions).toEqual([
      expect.objectContaining({ actions: [...DASHBOARD_READ_ACTIONS] }),
      {
        actions: ['ssm:GetParameter'],
        resources: ['oidc-client', 'session-key', 'api-token'].map((p) => `arn:aws:ssm:*:*:parameter/shiplog-ci/dashboard/${p}`),
      },
      { actions: ['kms:Decrypt'], resources: [s.one('aws:kms/key:Key', 'Secrets').state.arn] },
    ]);
  });

  it('gives the dashboard a `dashboard` API token on each deploy: made by a function that may write, not read, its parameter', async () => {
    const { s, nextjs } = await declare({});
    const fn = s.spec('DashboardToken');
    const tokensArn = s.one('aws:dynamodb/table:Table', 'Tokens').state.arn as string;
    const keyArn = s.one('aws:kms/key:Key', 'Secrets').state.arn as string;
    const parameterArn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shiplog-ci/dashboard/api-token`;
    expect(await resolved(fn.environment)).toEqual({
      [DashboardTokenEnv.tokensTable]: 'shiplog-ci-tokens',
      [DashboardTokenEnv.parameter]: '/shiplog-ci/dashboard/api-token',
      [DashboardTokenEnv.key]: s.one('aws:kms/alias:Alias', 'SecretsAlias').inputs.name,
    });
    expect(fn.links).toEqual([]);
    expect(await resolved(fn.permissions)).toEqual([
      { actions: [...TOKENS_ACTIONS], resources: [tokensArn] },
      { actions: ['ssm:PutParameter'], resources: [parameterArn] },
      { actions: ['kms:Encrypt', 'kms:GenerateDataKey'], resources: [keyArn] },
    ]);
    // invoked by the deploy, again on the next one; its result (token ids) is all Pulumi keeps
    const invocation = s.one('aws:lambda/invocation:Invocation', 'DashboardTokenRotation').inputs;
    expect(invocation).toMatchObject({ functionName: 'DashboardToken', triggers: { deployedAt: DEPLOYED_AT } });
    expect(JSON.parse(invocation.input as string)).toEqual({ rotate: 'dashboard' });
    expect(s.ofType('aws:ssm/parameter:Parameter').map((p) => p.inputs.name)).not.toContain('/shiplog-ci/dashboard/api-token');

    // Who may read it: the dashboard, and no function of the stack (the Api function verifies
    // tokens by their hash; the DashboardToken function writes it)
    const statements = async (permissions: PermissionSpec[]): Promise<Statement[]> =>
      (await resolved(permissions)).map((p) => ({ Effect: 'Allow', Action: p.actions, Resource: p.resources as string[] }));
    const read = { action: 'ssm:GetParameter', resource: parameterArn };
    expect(isAllowed(await statements(nextjs[0]!.permissions), read)).toBe(true);
    for (const f of s.specs) {
      const all = await statements([...f.permissions, ...f.links.flatMap((l) => l.permissions)]);
      expect({ fn: f.name, reads: isAllowed(all, read) || isAllowed(all, { ...read, action: 'ssm:GetParameters' }) }).toEqual({ fn: f.name, reads: false });
    }
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
    expect(DashboardEnv.apiTokenParam).toBe('SHIPLOG_DASHBOARD_API_TOKEN_PARAM'); // dashboard/lib/server/context.ts
  });
});
