import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';
import { assertChromium, dashboardOf, launchChromium, shoot, waitFor, type BrowserContext, type Page } from './support.ts';

// The dashboard in a real browser against a real `shiplog dev`: sign in, create a project, push
// the fixture app, watch it go live with the log following, open the site, roll back from the
// UI, read the event timeline. Screenshots go to test/artifacts/ at 1280 px and phone width.
const fixture = new URL('../fixtures/next-app/', import.meta.url).pathname;
const PASSWORD = `browser-${Math.random().toString(36).slice(2)}`;
const SECRET = `s3cret-${Math.random().toString(36).slice(2)}-value`;
const setMarker = (dir: string, marker: string) => {
  const file = join(dir, 'app', 'marker.js');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/BUILD_MARKER = '[^']*'/, `BUILD_MARKER = '${marker}'`));
};

describe('dashboard in Chromium', () => {
  let sl: LocalShiplog;
  let dash: { url: string; close(): Promise<void> };
  let chrome: { browser: BrowserContext; close(): Promise<void> };
  let page: Page;
  let work: string;
  let remote = '';
  const deployments: string[] = [];
  const site = (path = '/') => `http://web.localhost:${sl.sitesPort}${path}`;
  // Node does not resolve *.localhost as Chromium does: ask the site router with a Host header.
  const marker = async () => (JSON.parse((await sl.site('web.localhost', '/api/hello')).body) as { marker: string }).marker;

  beforeAll(async () => {
    assertChromium();
    process.env.SHIPLOG_ADMIN_PASSWORD = PASSWORD; // for a shiplog dev that serves the dashboard itself
    sl = await startShiplog({ dashboard: true });
    dash = await dashboardOf(sl, PASSWORD);
    chrome = await launchChromium(mkdtempSync(join(tmpdir(), 'shiplog-chromium-')));
    page = await chrome.browser.newPage();
    work = mkdtempSync(join(tmpdir(), 'shiplog-browser-app-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
  }, 15 * 60_000);

  afterAll(async () => {
    await chrome?.close();
    await dash?.close();
    await sl?.stop();
    delete process.env.SHIPLOG_ADMIN_PASSWORD;
    if (work) rmSync(work, { recursive: true, force: true });
  });

  // Follows one deployment in the UI until it is ready; returns the statuses it showed.
  const watchDeployment = async (id: string): Promise<{ statuses: string[]; followed: boolean }> => {
    await page.goto(`${dash.url}/deployments/${id}`);
    const statuses: string[] = [];
    let followed = false;
    let shotBuilding = false;
    await vi.waitFor(
      async () => {
        const status = await page.locator('h1 [data-status]').getAttribute('data-status').catch(() => null);
        if (status && statuses.at(-1) !== status) statuses.push(status);
        if ((await page.locator('[data-testid=log-state]').textContent().catch(() => '')) === 'Following live') followed = true;
        if (status === 'building' && !shotBuilding && (await page.locator('.log-line').count()) > 3) {
          shotBuilding = true;
          await shoot(page, 'deployment-building');
        }
        if (status !== 'ready' && status !== 'error') throw new Error(`deployment ${id} still ${status}:\n${sl.output().slice(-3000)}`);
      },
      { timeout: 9 * 60_000, interval: 300 },
    );
    return { statuses, followed };
  };

  const pushAndWatch = async (marker: string) => {
    setMarker(work, marker);
    gitCommitAll(work, `version ${marker}`);
    gitPush(work, remote);
    const row = page.locator('[data-testid=deployments] tr[data-deployment]').first();
    await waitFor(async () => {
      await page.goto(`${dash.url}/projects/web`);
      return (await row.count()) > 0 && !deployments.includes((await row.getAttribute('data-deployment'))!);
    }, 30_000, 'the deployment in the list');
    const id = (await row.getAttribute('data-deployment'))!;
    deployments.push(id);
    return { id, ...(await watchDeployment(id)) };
  };

  it('signs in', async () => {
    await page.goto(`${dash.url}/`);
    expect(page.url()).toContain('/sign-in');
    await shoot(page, 'sign-in');
    await page.fill('input[name=password]', 'wrong password');
    await page.click('main form button[type=submit]');
    await expect.poll(() => page.locator('main [role=alert]').textContent()).toContain('do not match');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('main form button[type=submit]');
    await page.waitForURL(`${dash.url}/`);
    await page.getByRole('heading', { name: 'Projects', exact: true }).waitFor();
    expect(await page.getByTestId('empty-state').textContent()).toContain('No projects yet');
    await shoot(page, 'projects-empty');
    const cookie = (await chrome.browser.cookies()).find((c) => c.name === 'shiplog_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
  }, 60_000);

  it('creates a project and sets its env vars, the secret one write-only', async () => {
    await page.goto(`${dash.url}/new`);
    await page.fill('form[data-form=create-project] input[name=name]', 'web');
    await page.click('form[data-form=create-project] button[type=submit]');
    remote = (await page.getByTestId('git-remote').textContent({ timeout: 30_000 }))!;
    expect(remote).toMatch(/^http:\/\/shiplog:.+@localhost:\d+\/git\/web\.git$/);
    await shoot(page, 'project-created');

    // The read model catches up with the new project a moment later.
    await waitFor(async () => {
      await page.goto(`${dash.url}/projects/web/settings`);
      return (await page.locator('form[data-form=set-env]').count()) > 0;
    }, 20_000, 'the settings page of the new project');
    const setEnv = async (name: string, value: string, secret: boolean) => {
      const form = page.locator('form[data-form=set-env]');
      await form.locator('input[name=name]').fill(name);
      await form.locator('input[name=value]').fill(value);
      if (!secret) await form.locator('input[name=sensitive]').uncheck();
      await form.locator('button[type=submit]').click();
      // The action goes through the dashboard's process to the API: more than the poll's default 1 s on a busy machine.
      await expect.poll(() => form.getByTestId('form-message').textContent(), { timeout: 15_000 }).toContain(`${name} saved`);
    };
    await setEnv('NEXT_PUBLIC_SITE_NAME', 'Shiplog Browser', false);
    await setEnv('SERVER_GREETING', SECRET, true);
    await waitFor(async () => {
      await page.reload();
      return (await page.locator('[data-testid=env-vars] tr[data-env=SERVER_GREETING]').count()) === 2;
    }, 20_000, 'the env vars in the read model');
    expect(await page.locator('tr[data-env=SERVER_GREETING]').first().textContent()).toContain('••••');
    await page.getByRole('heading', { name: 'Webhook subscriptions' }).waitFor();
    await shoot(page, 'settings');
  }, 120_000);

  it('follows the pushed fixture app from queued to live, log included', async () => {
    const first = await pushAndWatch('marker-one');
    expect(first.statuses.at(-1), sl.output().slice(-3000)).toBe('ready');
    expect(first.statuses[0]).toMatch(/queued|building/);
    expect(first.followed).toBe(true);
    expect(await page.locator('.log-line').count()).toBeGreaterThan(10);
    await expect.poll(() => page.getByTestId('log-state').textContent(), { timeout: 20_000 }).toBe('Build finished');
    await shoot(page, 'deployment-ready');
  }, 10 * 60_000);

  it('opens the site from the UI', async () => {
    await waitFor(async () => {
      await page.goto(`${dash.url}/projects/web`);
      return (await page.getByTestId('live-deployment').getAttribute('data-deployment')) === deployments[0];
    }, 20_000, 'the first deployment live on the project page');
    await shoot(page, 'project');
    const [tab] = await Promise.all([chrome.browser.waitForEvent('page'), page.getByTestId('production-url').click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(site('/'));
    expect(await tab.content()).toContain('marker-one');
    expect(await tab.locator('#site-name').textContent()).toBe('Shiplog Browser');
    await shoot(tab, 'site');
    await tab.close();
  }, 60_000);

  it('rolls back from the UI and production serves the old version', async () => {
    const second = await pushAndWatch('marker-two');
    expect(second.statuses.at(-1)).toBe('ready');
    await waitFor(async () => (await marker()) === 'marker-two', 30_000, 'marker-two live');

    await waitFor(async () => {
      await page.goto(`${dash.url}/projects/web`);
      return (await page.getByTestId('live-deployment').getAttribute('data-deployment')) === deployments[1];
    }, 20_000, 'the second deployment live on the project page');
    const rollback = page.locator('[data-form=rollback]');
    await rollback.getByRole('button', { name: 'Roll back' }).click();
    await rollback.locator('input[name=reason]').fill('browser test');
    await shoot(page, 'rollback-confirm');
    await rollback.getByTestId('confirm').click();
    await expect.poll(() => rollback.getByTestId('form-message').textContent()).toContain('Rollback requested');
    await waitFor(async () => (await marker()) === 'marker-one', 30_000, 'production back on marker-one');
    await waitFor(async () => {
      await page.reload();
      return (await page.getByTestId('live-deployment').getAttribute('data-deployment')) === deployments[0];
    }, 20_000, 'the project page to show the rolled-back deployment live');
    await page.goto(site('/'));
    expect(await page.content()).toContain('marker-one');
    await page.goto(`${dash.url}/projects/web`);
    await page.getByTestId('metrics').waitFor();
    await shoot(page, 'project-after-rollback');
  }, 10 * 60_000);

  it('shows the event timeline with causes, JSON and time travel', async () => {
    await page.goto(`${dash.url}/deployments/${deployments[0]}`);
    const timeline = page.getByTestId('timeline');
    for (const type of ['DeploymentRequested', 'BuildQueued', 'BuildStarted', 'BuildSucceeded', 'DeploymentLive']) {
      expect(await timeline.locator(`[data-event-type=${type}]`).count(), type).toBeGreaterThan(0);
    }
    const queued = timeline.locator('[data-event-type=BuildQueued]').first();
    expect(await queued.textContent()).toContain('caused by');
    await queued.locator('summary').click();
    expect(await queued.locator('pre.json').textContent()).toContain('"causationId"');
    await shoot(page, 'timeline');

    await page.goto(`${dash.url}/deployments/${deployments[0]}?at=2`);
    expect(await page.getByTestId('travel-banner').textContent()).toContain('after event 2');
    expect(await page.locator('h1 [data-status]').getAttribute('data-status')).toMatch(/queued|building/);
    await shoot(page, 'time-travel');

    await page.goto(`${dash.url}/events?window=all&project=web&type=RolledBack`);
    expect(await page.getByTestId('events').textContent()).toContain('RolledBack');
    await page.getByTestId('events').getByRole('link', { name: 'RolledBack' }).click();
    await page.getByRole('heading', { name: 'RolledBack' }).waitFor();
    await shoot(page, 'event');
  }, 60_000);

  it('never puts a secret value in the HTML of any page', async () => {
    const paths = ['/', '/projects/web', '/projects/web/settings', `/deployments/${deployments[0]}`, `/deployments/${deployments[1]}`, '/events?window=all'];
    for (const path of paths) {
      await page.goto(`${dash.url}${path}`);
      await page.waitForLoadState('networkidle');
      expect(await page.content(), path).not.toContain(SECRET);
      const html = await page.evaluate(async (p) => (await fetch(p)).text(), path);
      expect(html, path).not.toContain(SECRET);
    }
    // …while the app really has it at run time.
    expect((await sl.site('web.localhost', '/ssr')).body).toContain(SECRET);
  }, 120_000);

  it('works at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, name] of [['/', 'projects'], ['/projects/web', 'project'], [`/deployments/${deployments[0]}`, 'deployment'], ['/projects/web/settings', 'settings']] as const) {
      await page.goto(`${dash.url}${path}`);
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, `${path} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
      await shoot(page, name);
    }
  }, 60_000);
});
