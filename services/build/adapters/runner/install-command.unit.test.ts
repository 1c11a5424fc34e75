import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseInstall, installShellCommand, readInstallInputs } from './install-command.ts';

const plan = (lockfiles: string[], packageManager?: string, yarnrcYml = false) =>
  chooseInstall({ lockfiles, yarnrcYml, ...(packageManager ? { packageManager } : {}) });

describe('chooseInstall (as Vercel detects the package manager)', () => {
  it.each([
    [['package-lock.json'], undefined, false, 'npm', 'npm ci'],
    [['npm-shrinkwrap.json'], undefined, false, 'npm', 'npm ci'],
    [[], undefined, false, 'npm', 'npm install'],
    [['pnpm-lock.yaml'], undefined, false, 'pnpm', 'pnpm install --frozen-lockfile'],
    [['yarn.lock'], undefined, false, 'yarn', 'yarn install --frozen-lockfile'],
    [['yarn.lock'], undefined, true, 'yarn', 'yarn install --immutable'],
    [['yarn.lock'], 'yarn@4.5.1+sha512.abc', false, 'yarn', 'yarn install --immutable'],
    [['yarn.lock'], 'yarn@1.22.22', false, 'yarn', 'yarn install --frozen-lockfile'],
    [['bun.lockb'], undefined, false, 'bun', 'bun install --frozen-lockfile'],
    [['bun.lock'], undefined, false, 'bun', 'bun install --frozen-lockfile'],
    [[], 'pnpm@9.15.0', false, 'pnpm', 'pnpm install'],
    [['package-lock.json', 'pnpm-lock.yaml'], 'npm@10.8.0', false, 'npm', 'npm ci'],
    [['package-lock.json', 'pnpm-lock.yaml'], undefined, false, 'pnpm', 'pnpm install --frozen-lockfile'],
    [['package-lock.json'], 'pnpm@9.15.0', false, 'npm', 'npm ci'],
  ] as const)('%j packageManager=%s yarnrc=%s → %s: %s', (lockfiles, pm, yarnrc, manager, command) => {
    expect(plan([...lockfiles], pm, yarnrc)).toMatchObject({ manager, command });
  });

  it('says why it chose what it chose', () => {
    expect(plan(['pnpm-lock.yaml'], 'pnpm@9.15.0+sha512.x').reason).toBe('pnpm-lock.yaml, packageManager pnpm@9.15.0');
    expect(plan([]).reason).toBe('no lockfile');
  });

  it('runs pnpm and yarn through corepack, enabled in the build\'s own folder only', () => {
    const pnpm = installShellCommand(plan(['pnpm-lock.yaml']));
    expect(pnpm).toContain('corepack enable --install-directory "$TMPDIR/.corepack-bin" pnpm');
    expect(pnpm).toContain('PATH="$TMPDIR/.corepack-bin:$PATH"');
    expect(pnpm.endsWith('&& pnpm install --frozen-lockfile')).toBe(true);
    expect(installShellCommand(plan(['package-lock.json']))).toBe('npm ci');
    expect(installShellCommand(plan(['bun.lock']))).toBe('bun install --frozen-lockfile');
  });
});

describe('readInstallInputs', () => {
  it('finds the nearest lockfile from the app up to the repository root, and packageManager', () => {
    const root = mkdtempSync(join(tmpdir(), 'install-inputs-'));
    const app = join(root, 'apps', 'web');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(root, 'pnpm-lock.yaml'), 'lockfileVersion: 9.0\n');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ packageManager: 'pnpm@9.15.0' }));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'web' }));
    expect(readInstallInputs(app, root)).toEqual({ lockfiles: ['pnpm-lock.yaml'], yarnrcYml: false, packageManager: 'pnpm@9.15.0' });
    const bare = mkdtempSync(join(tmpdir(), 'install-inputs-'));
    writeFileSync(join(bare, 'package.json'), '{}');
    expect(readInstallInputs(bare, bare)).toEqual({ lockfiles: [], yarnrcYml: false });
  });
});
