import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { vi } from 'vitest';
import { readAdminToken } from '../../infra/local/access.ts';
import { startDashboard } from '../../infra/local/dashboard.ts';
import { freePort } from '../../infra/local/dynamodb-local.ts';
import { readRuntimeFile } from '../../infra/local/runtime-file.ts';
import type { LocalShiplog } from '../support/local-shiplog.ts';

/** Debian's Chromium (`apt-get install -y chromium`; `.ci/run` installs it when missing). */
export const CHROMIUM = process.env.SHIPLOG_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

/**
 * Fails, saying how to get one, when there is no Chromium: the browser suite never skips itself
 * silently.
 *
 * @example
 * beforeAll(() => { assertChromium(); … });
 */
export const assertChromium = (path = CHROMIUM): void => {
  if (existsSync(path)) return;
  throw new Error(
    `the browser suite needs Chromium at ${path}: install it (\`apt-get install -y chromium\`; \`bash .ci/run\` does it when missing) ` +
      'or point SHIPLOG_CHROMIUM at a Chromium binary',
  );
};

export const launchChromium = async (userDataDir: string): Promise<{ browser: BrowserContext; close(): Promise<void> }> => {
  mkdirSync(userDataDir, { recursive: true });
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  ];
  // A persistent context gives the fresh --user-data-dir asked for; chromium.launch refuses that flag.
  const browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args, viewport: { width: 1280, height: 900 } });
  return { browser, close: () => browser.close() };
};

export type { Browser, BrowserContext, Page };

/**
 * The dashboard of a running `shiplog dev`: the one it serves itself on its API port when it
 * mounts it, otherwise one started here against its runtime file (same code, same data dir).
 */
export const dashboardOf = async (sl: LocalShiplog, password: string): Promise<{ url: string; close(): Promise<void> }> => {
  const own = `http://localhost:${sl.port}`;
  const probe = await fetch(`${own}/sign-in`).catch(() => undefined);
  if (probe && (probe.headers.get('content-type') ?? '').includes('text/html')) {
    await waitFor(async () => (await fetch(`${own}/sign-in`)).status === 200, 15 * 60_000, 'the dashboard of shiplog dev to build');
    return { url: own, close: async () => undefined };
  }
  const rt = readRuntimeFile(sl.dataDir);
  if (!rt?.apiUrl) throw new Error('shiplog dev wrote no runtime file');
  // A dashboard token of its own, made with the admin token shiplog dev left in its data dir.
  const made = await fetch(`${rt.apiUrl}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${readAdminToken(sl.dataDir)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `browser-dashboard-${process.pid}`, kind: 'dashboard' }),
  });
  if (made.status !== 201) throw new Error(`could not create a dashboard token (${made.status}): ${await made.text()}`);
  const dashboard = startDashboard({
    dataDir: sl.dataDir, apiUrl: rt.apiUrl, apiToken: ((await made.json()) as { token: string }).token, dynamoEndpoint: rt.dynamoEndpoint, sitesPort: sl.sitesPort,
    tables: { events: rt.tables.events!, views: rt.tables.views! }, env: { SHIPLOG_ADMIN_PASSWORD: password },
  });
  const port = await freePort();
  const server: Server = createServer((req, res) => dashboard.handle(req, res));
  await new Promise<void>((r) => server.listen(port, r));
  await dashboard.ready;
  return {
    url: `http://localhost:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await dashboard.close();
    },
  };
};

/**
 * Polls `check` (through `vi.waitFor`) until it answers true; fails naming `what` after `timeoutMs`.
 *
 * @example
 * await waitFor(async () => (await fetch(url)).ok, 30_000, 'the site');
 */
export const waitFor = (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> =>
  vi.waitFor(
    async () => {
      if (!(await check().catch(() => false))) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 250 },
  );

/** Saves a screenshot as `test/artifacts/<name>-<width>.png`. */
export const shoot = async (page: Page, name: string): Promise<void> => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
};
