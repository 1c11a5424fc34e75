import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseInstall, installDetectScript, installShellCommand, readInstallInputs, readInstallSite } from './install-command.ts';

const cases = [
    [['package-lock.json'], undefined, false, 'npm', 'npm ci'],
    [['npm-shrinkwrap.json'], undefined, false, 'npm', 'npm ci'],
    [[], undefined, false, 'npm', 'npm install'],
    [['pnpm-lock.yaml'], undefined, false, 'pnpm', 'pnpm install --frozen-lockfile'],
    [['yarn.lock'], undefined, false, 'yarn', 'yarn install --frozen-lockfile'],
    [['yarn.lock'], undefined, true, 'yarn', 'YARN_NODE_LINKER=node-modules yarn install --immutable'],
    [['yarn.lock'], 'yarn@4.5.1+sha512.abc', false, 'yarn', 'YARN_NODE_LINKER=node-modules yarn install --immutable'],
    [['yarn.lock'], 'yarn@1.22.22', false, 'yarn', 'yarn install --frozen-lockfile'],
    [['bun.lockb'], undefined, false, 'bun', 'bun install --frozen-lockfile'],
    [['bun.lock'], undefined, false, 'bun', 'bun install --frozen-lockfile'],
    [['bun.lock'], 'bun@1.4.5', false, 'bun', 'bun install --frozen-lockfile'],
    [[], 'pnpm@9.15.0', false, 'pnpm', 'pnpm install'],
    [['package-lock.json', 'pnpm-lock.yaml'], 'npm@10.8.0', false, 'npm', 'npm ci'],
    [['package-lock.json', 'pnpm-lock.yaml'], undefined, false, 'pnpm', 'pnpm install --frozen-lockfile'],
    [['package-lock.json'], 'pnpm@9.15.0', false, 'npm', 'npm ci'],
] as const;

const plan = (lockfiles: string[], packageManager?: string, yarnrcYml = false) =>
  chooseInstall({ lockfiles, yarnrcYml, ...(packageManager ? { packageManager } : {}) });

describe('chooseInstall (as Vercel detects the package manager)', () => {
  it.each(cases)('%j packageManager=%s yarnrc=%s → %s: %s', (lockfiles, pm, yarnrc, manager, command) => {
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
  });

  it('brings bun from the npm registry into the build\'s own folder when the machine has none, at the pinned version', () => {
    expect(plan(['bun.lock'])).toMatchObject({ fromNpm: 'bun@1' });
    expect(plan(['bun.lock'], 'bun@1.4.5+sha512.x')).toMatchObject({ fromNpm: 'bun@1.4.5' });
    // Only a version goes into the shell line.
    expect(plan(['bun.lock'], 'bun@1.2;touch x')).toMatchObject({ fromNpm: 'bun@1.2' });
    expect(plan(['package-lock.json']).fromNpm).toBeUndefined();
    const bun = installShellCommand(plan(['bun.lock'], 'bun@1.4.5'));
    expect(bun).toContain('command -v bun >/dev/null 2>&1 ||');
    expect(bun).toContain('npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix "$TMPDIR/.bun" bun@1.4.5');
    expect(bun.endsWith('&& bun install --frozen-lockfile')).toBe(true);
  });

  it('fails the bun line with a clear message when bun is neither on the machine nor installable, and runs nothing after', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'install-bun-'));
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    // A machine without bun whose npm cannot reach a registry.
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm error network unreachable" >&2\nexit 1\n', { mode: 0o755 });
    const line = installShellCommand(plan(['bun.lock'], 'bun@1.4.5')).replace('bun install --frozen-lockfile', 'echo installed');
    const r = spawnSync('/bin/sh', ['-c', line], { env: { PATH: `${bin}:/usr/bin:/bin`, TMPDIR: tmp }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('bun is not on this machine and bun@1.4.5 could not be installed from the npm registry');
    expect(r.stdout).not.toContain('installed');
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

/** A checkout holding what one case describes: the lockfiles and `.yarnrc.yml` at the root, `packageManager` in the app's package.json. */
const checkout = (lockfiles: readonly string[], pm: string | undefined, yarnrc: boolean, app = '.') => {
  const root = mkdtempSync(join(tmpdir(), 'install-detect-'));
  const dir = join(root, app);
  mkdirSync(dir, { recursive: true });
  for (const f of lockfiles) writeFileSync(join(root, f), '\n');
  if (yarnrc) writeFileSync(join(root, '.yarnrc.yml'), 'nodeLinker: node-modules\n');
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pm ? { name: 'app', packageManager: pm } : { name: 'app' }));
  return { root, dir };
};
const detect = (mode: 'json' | 'sh', dir: string, root: string) =>
  execFileSync(process.execPath, ['--input-type=module', '-e', installDetectScript, '--', mode, dir, root], { encoding: 'utf8' });

describe('installDetectScript (the same decision, run in the checkout on CodeBuild)', () => {
  it.each(cases)('%j packageManager=%s yarnrc=%s: decides as chooseInstall', (lockfiles, pm, yarnrc) => {
    const { root, dir } = checkout(lockfiles, pm, yarnrc);
    expect(JSON.parse(detect('json', dir, root))).toEqual({ ...chooseInstall(readInstallInputs(dir, root)), dir: readInstallSite(dir, root).dir });
  });

  it('installs a monorepo app from the root with the lockfile, and says so in shell the buildspec sources', () => {
    const { root, dir } = checkout(['pnpm-lock.yaml'], 'pnpm@9.15.0', false, 'apps/web');
    const expected = chooseInstall(readInstallInputs(dir, root));
    expect(JSON.parse(detect('json', dir, root))).toMatchObject({ manager: 'pnpm', dir: root });
    const sh = detect('sh', dir, root);
    const vars = execFileSync('bash', ['-c', `${sh}\nprintf '%s\\n' "$SHIPLOG_INSTALL_DIR" "$SHIPLOG_INSTALL_COMMAND" "$SHIPLOG_INSTALL_LOG"`], { encoding: 'utf8' }).split('\n');
    expect(vars.slice(0, 3)).toEqual([root, installShellCommand(expected), 'install: pnpm, detected from pnpm-lock.yaml, packageManager pnpm@9.15.0: pnpm install --frozen-lockfile (in .)']);
  });

  it('installs an app without a lockfile in its own directory, with a plain install', () => {
    const { root, dir } = checkout([], undefined, false, 'site');
    expect(JSON.parse(detect('json', dir, root))).toMatchObject({ manager: 'npm', command: 'npm install', reason: 'no lockfile', dir });
  });
});
