import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes } from '../../events/index.ts';
import { dynamoEventStore } from '../../events/store/index.ts';
import { readRuntimeFile } from '../../infra/local/runtime-file.ts';
import { startBoxDashboard, type BoxDashboard } from '../../infra/aws-box/hosted-dashboard.ts';
import { startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';
import { assertChromium, launchChromium, shoot, waitFor, type BrowserContext, type Page } from '../browser/support.ts';

// Issue 12's "the dashboard signs in on the box through an OIDC provider stand-in and lists the
// project": the hosted dashboard as `SHIPLOG_DASHBOARD_AUTH=cognito` declares it (user pool, hosted
// UI domain, app client, SSM parameters made in moto: infra/aws-box/hosted-dashboard.ts), signing in
// at the Cognito stand-in (oidc-issuer.ts) with a user of moto's pool, in Chromium. A project made
// with the CLI is listed; one made in the dashboard records the signed-in user as its actor.

const PASSWORD = `Box-${Math.random().toString(36).slice(2)}-1a`;
const EMAIL = 'ada@example.com';

describe('the AWS box: the hosted dashboard signs in through Cognito (OIDC)', () => {
  let sl: LocalShiplog;
  let dash: BoxDashboard;
  let chrome: { browser: BrowserContext; close(): Promise<void> };
  let page: Page;
  let sub: string;

  beforeAll(async () => {
    assertChromium();
    sl = await startShiplog({ runtime: 'aws-box' });
    const awsEndpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())?.[1];
    if (!awsEndpoint) throw new Error(`the box printed no aws endpoint:\n${sl.output()}`);
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
      client: new DynamoDBClient({ endpoint: rt.dynamoEndpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
      tableName: rt.tables.events!, types: eventTypes,
    });
    const createdIn = async (project: string) => (await store.readProject(project)).find((e) => e.type === 'ProjectCreated');
    await waitFor(async () => (await createdIn('ui-made')) !== undefined, 30_000, 'ProjectCreated of ui-made');
    expect((await createdIn('ui-made'))?.metadata.actor).toEqual({ kind: 'user', id: `oidc:${sub}` });
    expect((await createdIn('cli-made'))?.metadata.actor).toEqual({ kind: 'user', id: 'token:admin' });
  });
});
