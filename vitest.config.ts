import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.{unit,int,e2e,browser}.test.ts'],
    exclude: ['**/node_modules/**', 'dashboard/**', '.shiplog/**', 'test/fixtures/**', '.sst/**'],
    // One DynamoDB Local per test run; every test file makes its own tables.
    globalSetup: ['test/support/global-setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
