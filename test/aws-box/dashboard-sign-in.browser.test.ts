import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes } from '../../events/index.ts';
import { dynamoEventStore } from '../../events/store/index.ts';
import { dynamoClient } from '../../infra/local/dynamodb-local.ts';
import { readRuntimeFile } from '../../infra/local/runtime-file.ts';
import { startBoxDashboard, type BoxDashboard } from '../../infra/aws-box/hosted-dashboard.ts';
import { BOX_CREDENTIALS, BOX_REGION } from '../../infra/aws-box/moto.ts';
import { startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';
import { assertChromium, launchChromium, shoot, waitFor, type BrowserContext, type Page } from '../browser/support.ts';

// Issue 12's "the dashboard signs in on the box through an OIDC provider stand-in and lists the
// project": the hosted dashboard as `SHIPLOG_DASHBOARD_AUTH=cognito` declares it (user pool, hosted
// UI domain, app client, SSM parameters made in moto: infra/aws-box/hosted-dashboard.ts), signing in
// at the Cognito stand-in (oidc-issuer.ts) with a user of moto's pool, in Chromium. A project made
// with the CLI is listed; one made in the dashboard records the signed-in user as its actor. The
// dashboard's API token is the one the declared DashboardToken function put in moto's SSM (its
// environment names the parameter only); a domain added in the dashboard goes to the Api function
// (through the API Gateway stand-in) and is recorded as the signed-in user, also after the token
// rotated as the next deploy rotates it.

const PASSWORD = `Box-${Math.random().toString(36).slice(2)}-1a`;
const EMAIL = 'ada@example.com';

describe('the AWS box: the hosted dashboard signs in through Cognito (OIDC)', () => {
  let sl: LocalShiplog;
  let dash: BoxDashboard;
  let chrome: { browser: BrowserContext; close(): Promise<void> };
  let page: Page;
  let sub: string;
  let awsEndpoint: string;

  beforeAll(async () => {
    assertChromium();
    sl = await startShiplog({ runtime: 'aws-box' });
    const endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())?.[1];
    if (!endpoint) throw new Error(`the box printed no aws endpoint:\n${sl.output()}`);
    awsEndpoint = endpoint;
    dash = await startBoxDashboard({ dataDir: sl.dataDir, awsEndpoint, log: () => undefined });
    ({ sub } = await dash.addUser(EMAIL, PASSWORD));
    const made = sl.cli(['projects', 'create', 'cli-made', '--json']);
    expect(made.status, made.stderr).toBe(0);
    chrome = await launchChromium(mkdtempSync(join(tmpdir(), 'shiplog-chromium-')));
    page = await chrome.browser.newPage();
  }, 20 * 60_000);

  afterAll(async () => {
    await chrome?.close();
    await dash?.close();
    await sl?.stop();
  });

  it('refuses a callback it did not start, or whose state is not the one it sent', async () => {
    const stray = await fetch(`${dash.url}/sign-in/callback?code=made-up&state=made-up`, { redirect: 'manual' });
    expect(stray.headers.get('location')).toMatch(/\/sign-in\?error=expired$/);
    expect(stray.headers.getSetCookie().some((c) => c.startsWith('shiplog_session='))).toBe(false);
    // a forged pending sign-in cookie is not taken either
    const forged = await fetch(`${dash.url}/sign-in/callback?code=made-up&state=s`, {
      redirect: 'manual', headers: { cookie: `shiplog_sign_in=v1.${Buffer.from(JSON.stringify({ checks: { state: 's', nonce: 'n', codeVerifier: 'v' }, next: '/', exp: 4e9 })).toString('base64url')}.sig` },
    });
    expect(forged.headers.get('location')).toMatch(/\/sign-in\?error=expired$/);
    // a real start, answered with another state
    const start = await fetch(`${dash.url}/sign-in/start?next=/`, { redirect: 'manual' });
    const toIssuer = new URL(start.headers.get('location')!);
    expect(`${toIssuer.origin}${toIssuer.pathname}`).toBe(`${new URL(dash.issuer).origin}/oauth2/authorize`);
    expect(toIssuer.searchParams.get('code_challenge_method')).toBe('S256');
    const pending = start.headers.getSetCookie().find((c) => c.startsWith('shiplog_sign_in='))!.split(';')[0]!;
    const wrong = await fetch(`${dash.url}/sign-in/callback?code=made-up&state=not-${toIssuer.searchParams.get('state')}`, { redirect: 'manual', headers: { cookie: pending } });
    expect(wrong.headers.get('location')).toMatch(/\/sign-in\?error=refused$/);
    expect(wrong.headers.getSetCookie().some((c) => c.startsWith('shiplog_session=') && !c.startsWith('shiplog_session=;'))).toBe(false);
  });

  it('sends the browser to the Cognito stand-in, signs in there and lists the project made with the CLI', async () => {
    await page.goto(dash.url);
    await page.getByRole('button', { name: 'Sign in with Cognito' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await shoot(page, 'box-sign-in-cognito');
    await page.getByRole('button', { name: 'Sign in with Cognito' }).click();
    await page.locator('input[name=username]').waitFor();
    expect(page.url().startsWith(`${new URL(dash.issuer).origin}/oauth2/authorize?`)).toBe(true);
    // a wrong password stays at the provider
    await page.fill('input[name=username]', EMAIL);
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    await page.getByRole('alert').filter({ hasText: 'Incorrect username or password.' }).waitFor();
    await page.fill('input[name=username]', EMAIL);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: 'Projects', exact: true }).waitFor({ timeout: 30_000 });
    expect(page.url()).toBe(`${dash.url}/`);
    await waitFor(async () => {
      await page.reload();
      return (await page.locator('[data-testid=projects] [data-project=cli-made]').count()) === 1;
    }, 60_000, 'the project made with the CLI in the dashboard');
    await shoot(page, 'box-projects-signed-in');
    const cookies = await chrome.browser.cookies();
    expect(cookies.find((c) => c.name === 'shiplog_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(cookies.find((c) => c.name === 'shiplog_sign_in')).toBeUndefined();
  });

  it('sends commands as the signed-in user: the project made in the dashboard records oidc:<sub> as its actor', async () => {
    await page.goto(`${dash.url}/new`);
    await page.fill('form[data-form=create-project] input[name=name]', 'ui-made');
    await page.click('form[data-form=create-project] button[type=submit]');
    await page.getByTestId('git-remote').waitFor({ timeout: 30_000 });
    // The project's stream in the box's event store (DynamoDB Local), as the API appended it.
    const rt = readRuntimeFile(sl.dataDir)!;
    const store = dynamoEventStore({
      client: dynamoClient(rt.dynamoEndpoint),
      tableName: rt.tables.events!, types: eventTypes,
    });
    const createdIn = async (project: string) => (await store.readProject(project)).find((e) => e.type === 'ProjectCreated');
    await waitFor(async () => (await createdIn('ui-made')) !== undefined, 30_000, 'ProjectCreated of ui-made');
    expect((await createdIn('ui-made'))?.metadata.actor).toEqual({ kind: 'user', id: `oidc:${sub}` });
    expect((await createdIn('cli-made'))?.metadata.actor).toEqual({ kind: 'user', id: 'token:admin' });
  });

  it('calls the Api function with its token from SSM as the signed-in user, and takes the next token after a rotation', async () => {
    const aws = { endpoint: awsEndpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
    const ssm = new SSMClient(aws);
    const logs = new CloudWatchLogsClient(aws);
    const held = async () => (await ssm.send(new GetParameterCommand({ Name: '/shiplog-box/dashboard/api-token', WithDecryption: true }))).Parameter!;
    // Lambda's START line per invocation of the Api function, as the box's Lambda stand-in delivers its logs
    const apiInvocations = async () => {
      try {
        return ((await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/shiplog-box-Api' }))).events ?? []).filter((e) => e.message?.startsWith('START')).length;
      } catch (err) {
        // made by the first invocation's logs
        if ((err as Error).name === 'ResourceNotFoundException') return 0;
        throw err;
      }
    };
    const tokens = () => {
      const ls = sl.cli(['tokens', 'ls', '--json']);
      expect(ls.status, ls.stderr).toBe(0);
      return JSON.parse(ls.stdout) as { tokenId: string; name: string; kind: string; lastUsedAt: string | null; revokedAt: string | null }[];
    };
    expect((await held()).Type).toBe('SecureString');
    expect(process.env.SHIPLOG_DASHBOARD_API_TOKEN_PARAM).toBe('/shiplog-box/dashboard/api-token');
    expect(process.env.SHIPLOG_DASHBOARD_API_TOKEN).toBeUndefined();

    const rt = readRuntimeFile(sl.dataDir)!;
    const store = dynamoEventStore({
      client: dynamoClient(rt.dynamoEndpoint),
      tableName: rt.tables.events!, types: eventTypes,
    });
    const added = async (host: string) =>
      (await store.readProject('ui-made')).find((e) => e.type === 'DomainAdded' && (e.data as { host: string }).host === host);
    const addDomain = async (host: string) => {
      const before = await apiInvocations();
      await page.goto(`${dash.url}/projects/ui-made/settings`);
      await page.fill('form[data-form=add-domain] input[name=host]', host);
      await page.click('form[data-form=add-domain] button[type=submit]');
      await waitFor(async () => (await added(host)) !== undefined, 60_000, `DomainAdded of ${host}`);
      expect((await added(host))?.metadata.actor).toEqual({ kind: 'user', id: `oidc:${sub}` });
      // the domain routes are the Api function's on the box (the in-process API serves ingest only)
      await waitFor(async () => (await apiInvocations()) > before, 30_000, `an invocation of the Api function for ${host}`);
    };

    await addDomain('www.dash-first.example.org');
    const first = tokens().find((t) => t.tokenId === dash.apiTokenId);
    expect(first).toMatchObject({ kind: 'dashboard', revokedAt: null });
    expect(first?.lastUsedAt).not.toBeNull();

    // the next deploy's rotation: a new token in SSM, the one the dashboard holds revoked
    const before = (await held()).Value;
    const rotated = await dash.rotateApiToken();
    expect(rotated.revoked).toEqual([dash.apiTokenId]);
    expect((await held()).Value).not.toBe(before);
    await addDomain('www.dash-second.example.org');
    const after = tokens();
    expect(after.find((t) => t.tokenId === dash.apiTokenId)?.revokedAt).not.toBeNull();
    expect(after.find((t) => t.tokenId === rotated.tokenId)).toMatchObject({ kind: 'dashboard', name: expect.stringMatching(/^dashboard(-next)?$/), revokedAt: null });
    expect(after.find((t) => t.tokenId === rotated.tokenId)?.lastUsedAt).not.toBeNull();
    ssm.destroy();
    logs.destroy();
  });
});
