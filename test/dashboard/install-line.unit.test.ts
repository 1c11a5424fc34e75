import { describe, expect, it } from 'vitest';
import { installOfLog } from '../../dashboard/lib/install-line.ts';

describe('installOfLog', () => {
  it('finds the install line a build logged, detected or the project\'s own', () => {
    const detected = 'install: pnpm, detected from pnpm-lock.yaml, packageManager pnpm@9.15.9: pnpm install --frozen-lockfile (in .)';
    expect(installOfLog([{ text: '$ git init --quiet' }, { text: 'node: v20.20.2 (the app asks for no version)' }, { text: detected }, { text: 'install: skipped, node_modules restored' }])).toBe(detected);
    expect(installOfLog([{ text: "install: the project's command: make deps" }])).toBe("install: the project's command: make deps");
  });

  it('finds nothing in a log without one (a build that failed at checkout, or an old log)', () => {
    expect(installOfLog([{ text: 'install: skipped, node_modules restored for this exact lockfile' }, { text: 'build failed (checkout-failed): …' }])).toBeUndefined();
    expect(installOfLog([])).toBeUndefined();
  });
});
