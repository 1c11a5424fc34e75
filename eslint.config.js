import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import shiplog from './tools/eslint/boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/', '**/.next/', '.shiplog/', '.sst/', 'test/artifacts/', '**/*.d.ts', 'events/schemas/', 'test/fixtures/', '.xdg/', 'cli/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Package boundaries (docs/layout.md): runtimes stay in their roots, a package is entered through its index.ts.
  {
    name: 'shiplog/boundaries',
    files: ['**/*.{ts,tsx,js,mjs}'],
    plugins: { shiplog },
    rules: { 'shiplog/boundaries': 'error' },
  },
  // The dashboard (Next.js App Router): JSX, and for its client components the browser's globals.
  // TypeScript checks names in .ts/.tsx (typescript-eslint turns no-undef off there); these serve
  // any plain JavaScript it has (next.config.mjs).
  {
    name: 'shiplog/dashboard',
    files: ['dashboard/**/*.{ts,tsx,js,mjs}'],
    languageOptions: {
      parserOptions: { ecmaFeatures: { jsx: true } },
      globals: { window: 'readonly', document: 'readonly', navigator: 'readonly', fetch: 'readonly', EventSource: 'readonly', FormData: 'readonly', Request: 'readonly', Response: 'readonly' },
    },
  },
);
