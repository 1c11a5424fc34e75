import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentOfHead, gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';
import { assertChromium, dashboardOf, launchChromium, shoot, waitFor, type BrowserContext, type Page } from './support.ts';

// The observability views in Chromium against a real `shiplog dev`: the runtime logs tab of a
// deployment following live and filtering by level, the request metrics charts of the project
// and the deployment, the usage panel and the alarm form. Screenshots go to test/artifacts/.
const fixture = new URL('../fixtures/observability-app/', import.meta.url).pathname;
const PASSWORD = `browser-${Math.random().toString(36).slice(2)}`;
const marker = 'observability-marker: rendered the home page';

describe('observability in the dashboard (Chromium)', () => {
  let sl: LocalShiplog;
  let dash: { url: string; close(): Promise<void> };
  let chrome: { browser: BrowserContext; close(): Promise<void> };
  let page: Page;
  let work: string;
  let id: string;

  beforeAll(async () => {
    assertChromium();
    process.env.SHIPLOG_ADMIN_PASSWORD = PASSWORD;
    sl = await startShiplog({ dashboard: true });
    dash = await dashboardOf(sl, PASSWORD);
    chrome = await launchChromium(mkdtempSync(join(tmpdir(), 'shiplog-chromium-')));
    page = await chrome.browser.newPage();
    work = mkdtempSync(join(tmpdir(), 'shiplog-obs-browser-app-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
    const { gitRemote } = sl.json<{ gitRemote: string }>(['projects', 'create', 'obs']);
    // The health check asks an API route, so the home page renders (and logs) only when the test asks for it.
    const patched = await fetch(`http://127.0.0.1:${sl.port}/api/projects/obs`, {
      method: 'PATCH', headers: { authorization: `Bearer ${sl.adminToken()}`, 'content-type': 'application/json' }, body: JSON.stringify({ healthPath: '/api/health' }),
    });
    expect(patched.status).toBe(200);
    gitCommitAll(work, 'first');
    gitPush(work, gitRemote);
    id = await deploymentOfHead(sl, 'obs', work);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '480'], 500_000);
    expect(wait.status, wait.stderr).toBe(0);
    await page.goto(`${dash.url}/sign-in`);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('main form button[type=submit]');
    await page.waitForURL(`${dash.url}/`);
  }, 20 * 60_000);

  afterAll(async () => {
    await chrome?.close();
    await dash?.close();
    await sl?.stop();
    delete process.env.SHIPLOG_ADMIN_PASSWORD;
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('follows the runtime log live on the deployment page, and filters it by level', async () => {
    await page.goto(`${dash.url}/deployments/${id}?tab=runtime`);
    await expect.poll(() => page.getByTestId('runtime-log-state').textContent(), { timeout: 30_000 }).toBe('Following live');
    const lines = page.getByTestId('runtime-log-lines');
    expect(await lines.textContent()).not.toContain(marker);
    // A request to the site, with no reload of the page: its console line and its request line appear.
    expect((await sl.site('obs.localhost', '/')).status).toBe(200);
    await expect.poll(() => lines.textContent(), { timeout: 15_000 }).toContain(marker);
    await expect.poll(() => lines.textContent(), { timeout: 15_000 }).toContain('GET / 200 in');
    await shoot(page, 'runtime-logs-following');
    await page.getByTestId('runtime-level').selectOption('error');
    await expect.poll(() => page.getByTestId('runtime-log-state').textContent(), { timeout: 15_000 }).toBe('Following live');
    expect(await lines.textContent()).not.toContain(marker);
    await shoot(page, 'runtime-logs-errors-only');
  }, 120_000);

  it('charts the requests of the project and of the deployment, with usage and the alarm form', async () => {
    for (let i = 0; i < 3; i++) await sl.site('obs.localhost', '/');
    await waitFor(async () => {
      await page.goto(`${dash.url}/projects/obs`);
      return Number(await page.locator('[data-testid=request-metrics] .metric-value').first().textContent()) >= 4;
    }, 30_000, 'the request metrics of the project');
    expect(await page.locator('[data-testid=request-metrics] svg rect.bar').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('usage').textContent()).toContain('invocations');
    await page.locator('form[data-form=alarm] input[name=maxErrorRatePercent]').fill('10');
    await page.locator('form[data-form=alarm] input[name=autoRollback]').check();
    await page.click('form[data-form=alarm] button[type=submit]');
    await expect.poll(() => page.locator('form[data-form=alarm] [data-testid=form-message]').textContent(), { timeout: 15_000 }).toContain('Alarm rule saved');
    expect(sl.json<{ rule: { maxErrorRate: number; autoRollback: boolean } }>(['alarms', 'get', 'obs']).rule).toMatchObject({ maxErrorRate: 0.1, autoRollback: true });
    await shoot(page, 'project-runtime-metrics');

    await page.goto(`${dash.url}/deployments/${id}`);
    await page.getByTestId('deployment-metrics').waitFor();
    expect(await page.locator('[data-testid=deployment-metrics] .metric-value').first().textContent()).toMatch(/^\d+$/);
    await shoot(page, 'deployment-runtime-metrics');
  }, 120_000);
});
