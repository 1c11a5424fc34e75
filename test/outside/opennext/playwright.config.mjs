// OpenNext's packages/tests-e2e config, pointed at Debian's Chromium and at the URLs in the
// environment (APP_ROUTER_URL, PAGES_ROUTER_URL, APP_PAGES_ROUTER_URL). Copied into
// packages/tests-e2e by run.sh; the results go to the JSON file named in PW_JSON.
import { defineConfig } from '@playwright/test';

const use = (baseURL) => ({
  baseURL,
  launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' },
});

export default defineConfig({
  workers: Number(process.env.PW_WORKERS ?? 2),
  reporter: [['list'], ['json', { outputFile: process.env.PW_JSON ?? 'results.json' }]],
  projects: [
    { name: 'appRouter', testMatch: ['tests/appRouter/*.test.ts'], use: use(process.env.APP_ROUTER_URL) },
    { name: 'pagesRouter', testMatch: ['tests/pagesRouter/*.test.ts'], use: use(process.env.PAGES_ROUTER_URL) },
    { name: 'appPagesRouter', testMatch: ['tests/appPagesRouter/*.test.ts'], use: use(process.env.APP_PAGES_ROUTER_URL) },
  ],
});
