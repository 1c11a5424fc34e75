import type { Input, Output } from '@pulumi/pulumi';
import type { AccountScope, Cloud } from './cloud.ts';
import type { StackNames } from './names.ts';
import type { SecretResources } from './secrets.ts';

/**
 * The path the identity provider sends the browser back to (`dashboard/app/sign-in/callback`).
 *
 * @example
 * `${dashboardUrl}${CALLBACK_PATH}`; // 'https://dash.example.com/sign-in/callback'
 */
export const CALLBACK_PATH = '/sign-in/callback';

/**
 * The dashboard's app client at the user pool: the authorization code flow (the dashboard adds
 * PKCE), a client secret, the OpenID scopes, Cognito's own users only. The box creates the same
 * client in moto from these settings.
 *
 * @example
 * new aws.cognito.UserPoolClient('DashboardClient', { ...DASHBOARD_CLIENT, userPoolId, callbackUrls });
 */
export const DASHBOARD_CLIENT = {
  generateSecret: true,
  allowedOauthFlows: ['code'],
  allowedOauthFlowsUserPoolClient: true,
  allowedOauthScopes: ['openid', 'email', 'profile'],
  supportedIdentityProviders: ['COGNITO'],
  explicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
  preventUserExistenceErrors: 'ENABLED',
} as const;

/**
 * The SSM parameters (SecureString, under the stack's secrets key) the hosted dashboard reads at
 * run time: its app client (`{"clientId","clientSecret","redirectUri"}`), the key its session
 * cookies are signed with and its API token (`dashboard-token.ts`). No value is in the function's
 * environment.
 *
 * @example
 * dashboardParameters('shiplog');
 * // { client: '/shiplog/dashboard/oidc-client', sessionKey: '/shiplog/dashboard/session-key', apiToken: '/shiplog/dashboard/api-token' }
 */
export const dashboardParameters = (prefix: string) => ({
  client: `/${prefix}/dashboard/oidc-client`,
  sessionKey: `/${prefix}/dashboard/session-key`,
  apiToken: `/${prefix}/dashboard/api-token`,
});

/**
 * Declares the users of a stage's dashboard: a Cognito user pool (users sign in with their email;
 * only an admin creates them; deletion protection on a protected stage) and its hosted UI domain
 * (`<prefix>-<account>.auth.<region>.amazoncognito.com`). `issuer` is the pool's OIDC issuer URL.
 *
 * @example
 * const pool = declareUserPool(cloud, { names, scope, protect: false });
 * pool.issuer; // https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC
 */
export const declareUserPool = (cloud: Cloud, input: { names: StackNames; scope: AccountScope; protect: boolean }) => {
  const { aws, pulumi } = cloud;
  const userPool = new aws.cognito.UserPool('DashboardUsers', {
    name: `${input.names.prefix}-users`,
    usernameAttributes: ['email'],
    autoVerifiedAttributes: ['email'],
    adminCreateUserConfig: { allowAdminCreateUserOnly: true },
    passwordPolicy: { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: false, temporaryPasswordValidityDays: 7 },
    mfaConfiguration: 'OPTIONAL',
    softwareTokenMfaConfiguration: { enabled: true },
    accountRecoverySetting: { recoveryMechanisms: [{ name: 'verified_email', priority: 1 }] },
    deletionProtection: input.protect ? 'ACTIVE' : 'INACTIVE',
  });
  const domain = new aws.cognito.UserPoolDomain('DashboardSignInDomain', {
    domain: pulumi.interpolate`${input.names.prefix}-${input.scope.accountId}`,
    userPoolId: userPool.id,
  });
  const issuer = pulumi.interpolate`https://cognito-idp.${input.scope.region}.amazonaws.com/${userPool.id}`;
  return { userPool, domain, issuer };
};

/**
 * Declares the session key of the hosted dashboard: 64 random characters from Secrets Manager's
 * generator, kept as a SecureString under the stack's secrets key. Made once: later deploys keep
 * it (`ignoreChanges`), so they do not sign everyone out; delete the parameter to rotate it.
 *
 * @example
 * const key = declareSessionKey(cloud, { names, secrets: stack.secrets.resources });
 */
export const declareSessionKey = (cloud: Cloud, input: { names: StackNames; secrets: SecretResources }) => {
  const { aws } = cloud;
  const random = aws.secretsmanager.getRandomPasswordOutput({ passwordLength: 64, excludePunctuation: true });
  return new aws.ssm.Parameter(
    'DashboardSessionKey',
    {
      name: dashboardParameters(input.names.prefix).sessionKey,
      description: "shiplog dashboard: the key its session cookies are signed with",
      type: 'SecureString',
      keyId: input.secrets.key.name,
      value: random.apply((r) => r.randomPassword ?? ''),
    },
    { ignoreChanges: ['value'] },
  );
};

/**
 * Declares where the hosted dashboard's app client is kept (a SecureString under the stack's
 * secrets key): for Cognito the client declared here with {@link DASHBOARD_CLIENT}, registered
 * for `redirectUri`; for another OIDC provider the id and secret given at deploy time.
 *
 * @example
 * declareDashboardClient(cloud, { names, secrets, redirectUri, cognito: { userPoolId: pool.userPool.id } });
 */
export const declareDashboardClient = (
  cloud: Cloud,
  input: {
    names: StackNames;
    secrets: SecretResources;
    redirectUri: Input<string>;
    logoutUrl: Input<string>;
    cognito?: { userPoolId: Input<string> };
    oidc?: { clientId: string; clientSecret?: string };
  },
) => {
  const { aws, pulumi } = cloud;
  const client = input.cognito
    ? new aws.cognito.UserPoolClient('DashboardClient', {
        ...DASHBOARD_CLIENT,
        allowedOauthFlows: [...DASHBOARD_CLIENT.allowedOauthFlows],
        allowedOauthScopes: [...DASHBOARD_CLIENT.allowedOauthScopes],
        supportedIdentityProviders: [...DASHBOARD_CLIENT.supportedIdentityProviders],
        explicitAuthFlows: [...DASHBOARD_CLIENT.explicitAuthFlows],
        name: `${input.names.prefix}-dashboard`,
        userPoolId: input.cognito.userPoolId,
        callbackUrls: [input.redirectUri],
        logoutUrls: [input.logoutUrl],
      })
    : undefined;
  const value: Output<string> = client
    ? pulumi.jsonStringify({ clientId: client.id, clientSecret: client.clientSecret, redirectUri: input.redirectUri })
    : pulumi.jsonStringify({ clientId: input.oidc?.clientId, clientSecret: input.oidc?.clientSecret, redirectUri: input.redirectUri });
  const parameter = new aws.ssm.Parameter('DashboardOidcClient', {
    name: dashboardParameters(input.names.prefix).client,
    description: "shiplog dashboard: its OIDC app client (id, secret, redirect URL)",
    type: 'SecureString',
    keyId: input.secrets.key.name,
    value,
  });
  return { client, parameter };
};
