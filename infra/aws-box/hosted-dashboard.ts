import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient, CreateUserPoolClientCommand, CreateUserPoolCommand,
  CreateUserPoolDomainCommand, type OAuthFlowType,
} from '@aws-sdk/client-cognito-identity-provider';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import * as pulumi from '@pulumi/pulumi';
import { declareHostedDashboard } from '../aws/hosted-dashboard.ts';
import type { DashboardSpec } from '../aws/index.ts';
import { DASHBOARD_TOKEN_HANDLER, DashboardEnv, stackNames } from '../aws/index.ts';
import { handler as rotateDashboardToken } from '../aws/functions/dashboard-token.ts';
import { startDashboard } from '../local/dashboard.ts';
import { freePort } from '../local/dynamodb-local.ts';
import { readRuntimeFile } from '../local/runtime-file.ts';
import { subscriptions } from '../topology.ts';
import { BOX_STAGE } from './box.ts';
import { declareStack, resolved, type Registered } from './declared.ts';
import { BOX_CREDENTIALS, BOX_REGION } from './moto.ts';
import { oidcIssuerStandIn, type OidcIssuerStandIn } from './oidc-issuer.ts';

/**
 * The hosted dashboard of a running AWS box, signed in through Cognito.
 *
 * @example
 * const dash = await startBoxDashboard({ dataDir, awsEndpoint });
 * await dash.addUser('ada@example.com', 'Correct-horse-1');
 * // open dash.url: "Sign in with Cognito" → dash.issuer's login form → back, signed in
 */
export interface BoxDashboard {
  /** The dashboard, as `sst.aws.Nextjs` would serve it (here on loopback). */
  url: string;
  /** The OIDC issuer the dashboard signs in at (the Cognito stand-in). */
  issuer: string;
  userPoolId: string;
  /** The id of the `dashboard` API token the declared DashboardToken function made (in moto's SSM). */
  apiTokenId: string;
  /** Runs the declared DashboardToken function again, as the next deploy does: a new token, the old one revoked. */
  rotateApiToken(): Promise<{ tokenId: string; revoked: string[] }>;
  /** Creates a confirmed user of the pool in moto (`AdminCreateUser`, then a permanent password). */
  addUser(email: string, password: string): Promise<{ sub: string }>;
  close(): Promise<void>;
}

const one = (registered: Registered[], type: string): Registered => {
  const found = registered.filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`the hosted dashboard declared ${found.length} ${type}, expected 1`);
  return found[0]!;
};

// A Pulumi secret input, as the mocks hand it over (`{ <sig>: …, value }`), or a plain one.
const plain = (v: unknown): string => (typeof v === 'object' && v !== null && 'value' in v ? String((v as { value: unknown }).value) : String(v));

/**
 * What `sst deploy` with `SHIPLOG_DASHBOARD_AUTH=cognito` adds to a stage, for a box that is
 * running: the declaration of `infra/aws/hosted-dashboard.ts` (run under Pulumi mocks, as the box
 * runs the stack's) made in moto — the user pool, its hosted UI domain, the dashboard's app client
 * registered for this dashboard's callback, the SecureString parameters holding the client and a
 * generated session key — then the Cognito hosted UI stand-in (`oidc-issuer.ts`, moto serves no
 * OIDC endpoints) and the dashboard (`sst.aws.Nextjs` here is Next.js in this process, as
 * `shiplog dev` serves it) with the declared environment: it reads its client and session key from
 * moto's SSM and signs in at the stand-in. It sends commands to the box's API with the `dashboard`
 * token the declared DashboardToken function makes (its handler, run here with its declared
 * environment against moto's SSM and the box's tokens table, as the deploy's invocation runs it):
 * the dashboard reads it from moto's SSM, its environment holds only the parameter's name.
 *
 * @example
 * const dash = await startBoxDashboard({ dataDir: sl.dataDir, awsEndpoint });
 */
export const startBoxDashboard = async (opts: { dataDir: string; awsEndpoint: string; port?: number; log?: (line: string) => void }): Promise<BoxDashboard> => {
  const rt = readRuntimeFile(opts.dataDir);
  if (!rt?.apiUrl || !rt.sitesUrl) throw new Error(`no running AWS box has its runtime file in ${opts.dataDir}`);
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const aws = { endpoint: opts.awsEndpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  const cognito = new CognitoIdentityProviderClient(aws);
  const ssm = new SSMClient(aws);

  // 1. the declaration, as sst.config.ts makes it beside the stack
  const specs: DashboardSpec[] = [];
  const declared = await declareStack(subscriptions, {
    stage: BOX_STAGE, siteDomain: 'localhost',
    also: (cloud, stack, declareFunction) =>
      declareHostedDashboard(cloud, {
        names: stackNames('shiplog', BOX_STAGE), scope: stack.scope, env: {}, siteDomain: 'localhost', protect: false,
        apiUrl: stack.api.url, secrets: stack.secrets.resources, tokens: stack.api.tokens, declareFunction, deployedAt: new Date().toISOString(),
        declareNextjs: (spec) => {
          specs.push(spec);
          return { url: pulumi.output(url) };
        },
      }),
  });
  const [spec] = specs;
  if (!spec) throw new Error('the hosted dashboard was not declared');
  const environment = (await resolved(spec.environment)) as Record<string, string>;

  // 2. made in moto
  const pool = one(declared.registered, 'aws:cognito/userPool:UserPool').inputs;
  const policy = pool.passwordPolicy as Record<string, number | boolean>;
  const { UserPool } = await cognito.send(new CreateUserPoolCommand({
    PoolName: pool.name as string,
    UsernameAttributes: pool.usernameAttributes as 'email'[],
    AutoVerifiedAttributes: pool.autoVerifiedAttributes as 'email'[],
    AdminCreateUserConfig: { AllowAdminCreateUserOnly: (pool.adminCreateUserConfig as { allowAdminCreateUserOnly: boolean }).allowAdminCreateUserOnly },
    Policies: {
      PasswordPolicy: {
        MinimumLength: policy.minimumLength as number, RequireLowercase: policy.requireLowercase as boolean, RequireUppercase: policy.requireUppercase as boolean,
        RequireNumbers: policy.requireNumbers as boolean, RequireSymbols: policy.requireSymbols as boolean,
      },
    },
    DeletionProtection: pool.deletionProtection as 'INACTIVE',
  }));
  const userPoolId = UserPool!.Id!;
  const domain = one(declared.registered, 'aws:cognito/userPoolDomain:UserPoolDomain').inputs;
  await cognito.send(new CreateUserPoolDomainCommand({ Domain: domain.domain as string, UserPoolId: userPoolId }));
  const c = one(declared.registered, 'aws:cognito/userPoolClient:UserPoolClient').inputs;
  const { UserPoolClient: client } = await cognito.send(new CreateUserPoolClientCommand({
    UserPoolId: userPoolId,
    ClientName: c.name as string,
    GenerateSecret: c.generateSecret as boolean,
    AllowedOAuthFlows: c.allowedOauthFlows as OAuthFlowType[],
    AllowedOAuthFlowsUserPoolClient: c.allowedOauthFlowsUserPoolClient as boolean,
    AllowedOAuthScopes: c.allowedOauthScopes as string[],
    SupportedIdentityProviders: c.supportedIdentityProviders as string[],
    CallbackURLs: c.callbackUrls as string[],
    LogoutURLs: c.logoutUrls as string[],
  }));
  for (const p of declared.ofType('aws:ssm/parameter:Parameter')) {
    const name = p.inputs.name as string;
    // The values Pulumi would compute: the client moto made (id, secret) and a random key.
    const value = name === environment[DashboardEnv.oidcClientParam]
      ? JSON.stringify({ ...(JSON.parse(plain(p.inputs.value)) as object), clientId: client!.ClientId, clientSecret: client!.ClientSecret })
      : randomBytes(48).toString('base64url');
    await ssm.send(new PutParameterCommand({ Name: name, Type: 'SecureString', KeyId: p.inputs.keyId as string, Value: value, Overwrite: true }));
  }

  // 3. the deploy's invocation of the DashboardToken function: its handler with its declared
  // environment, against moto (SSM, KMS) and the box's tokens table in DynamoDB Local
  const tokenFunction = declared.spec('DashboardToken');
  Object.assign(process.env, await resolved(tokenFunction.environment), {
    AWS_ENDPOINT_URL: opts.awsEndpoint, AWS_ENDPOINT_URL_DYNAMODB: rt.dynamoEndpoint, AWS_REGION: BOX_REGION,
    AWS_ACCESS_KEY_ID: BOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: BOX_CREDENTIALS.secretAccessKey,
  });
  if (tokenFunction.handler !== DASHBOARD_TOKEN_HANDLER) throw new Error(`the DashboardToken function runs ${tokenFunction.handler}, the box knows ${DASHBOARD_TOKEN_HANDLER}`);
  const rotateApiToken = () => rotateDashboardToken({});
  const { tokenId: apiTokenId } = await rotateApiToken();

  // 4. the hosted UI stand-in, and the dashboard with the declared environment
  const idp: OidcIssuerStandIn = await oidcIssuerStandIn({ cognito, userPoolId, ...(opts.log ? { log: opts.log } : {}) });
  const dashboard = startDashboard({
    dataDir: opts.dataDir, apiUrl: rt.apiUrl, dynamoEndpoint: rt.dynamoEndpoint,
    sitesPort: Number(new URL(rt.sitesUrl).port), tables: { events: environment[DashboardEnv.eventsTable]!, views: environment[DashboardEnv.viewsTable]! },
    ...(opts.log ? { log: opts.log } : {}),
    environment: {
      [DashboardEnv.auth]: environment[DashboardEnv.auth]!,
      [DashboardEnv.oidcName]: environment[DashboardEnv.oidcName]!,
      [DashboardEnv.oidcClientParam]: environment[DashboardEnv.oidcClientParam]!,
      [DashboardEnv.sessionKeyParam]: environment[DashboardEnv.sessionKeyParam]!,
      [DashboardEnv.apiTokenParam]: environment[DashboardEnv.apiTokenParam]!,
      // Cognito's issuer host (cognito-idp.<region>.amazonaws.com) is the stand-in's here.
      [DashboardEnv.oidcIssuer]: idp.issuer,
    },
  });
  const server: Server = createServer((req, res) => dashboard.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await dashboard.close();
    await idp.close();
  };
  try {
    await dashboard.ready;
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url, issuer: idp.issuer, userPoolId, apiTokenId, rotateApiToken,
    addUser: async (email, password) => {
      const user = await cognito.send(new AdminCreateUserCommand({
        UserPoolId: userPoolId, Username: email, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }], MessageAction: 'SUPPRESS',
      }));
      await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: password, Permanent: true }));
      return { sub: user.User!.Attributes!.find((a) => a.Name === 'sub')!.Value! };
    },
    close,
  };
};
