import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBuild, chooseInstall, installDetectScript, installShellCommand, readBuildScript, readInstallInputs, readInstallSite } from './install-command.ts';

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
const detect = (mode: 'json' | 'sh' | 'build' | 'build-json', dir: string, root: string) =>
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

describe('chooseBuild (the build a project without its own build command runs)', () => {
  it.each([
    [['package-lock.json'], undefined, 'npm run build'],
    [['pnpm-lock.yaml'], 'pnpm@9.15.0', 'pnpm run build'],
    [['yarn.lock'], undefined, 'yarn run build'],
    [['yarn.lock'], 'yarn@4.5.1', 'yarn run build'],
    [['bun.lock'], undefined, 'bun run build'],
    [[], undefined, 'npm run build'],
  ] as const)('%j packageManager=%s with a build script → %s', (lockfiles, pm, command) => {
    const p = plan([...lockfiles], pm);
    const b = chooseBuild(p, 'node gen.mjs && next build --webpack');
    expect(b).toEqual({ command, line: installShellCommand({ ...p, command }), reason: `the build script of package.json ("node gen.mjs && next build --webpack"), run with ${p.manager}` });
  });

  it('builds with next build when package.json has no build script, or an empty one', () => {
    const root = mkdtempSync(join(tmpdir(), 'build-script-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ scripts: { build: '  ', start: 'next start' } }));
    expect(readBuildScript(root)).toBeUndefined();
    expect(chooseBuild(plan(['pnpm-lock.yaml']), readBuildScript(root))).toEqual({ command: 'npx next build', line: 'npx next build', reason: 'no build script in package.json' });
    writeFileSync(join(root, 'package.json'), '{ not json');
    expect(readBuildScript(root)).toBeUndefined();
    writeFileSync(join(root, 'package.json'), JSON.stringify({ scripts: { build: 'next build' } }));
    expect(readBuildScript(root)).toBe('next build');
  });

  it('runs the script with the bun the install brought into the build\'s folder, without installing it again', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'build-bun-'));
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    // The install's bun, where the install line puts it; npm fails if anything asks it for bun again.
    mkdirSync(join(tmp, '.bun', 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(tmp, '.bun', 'node_modules', '.bin', 'bun'), '#!/bin/sh\necho "bun $*"\n', { mode: 0o755 });
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm was asked for bun" >&2\nexit 1\n', { mode: 0o755 });
    const r = spawnSync('/bin/sh', ['-c', chooseBuild(plan(['bun.lock']), 'next build').line], { env: { PATH: `${bin}:/usr/bin:/bin`, TMPDIR: tmp }, encoding: 'utf8' });
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, 'bun run build', '']);
  });
});

describe('installDetectScript build modes (the same build decision, on CodeBuild)', () => {
  it.each(cases)('%j packageManager=%s yarnrc=%s: decides the build as chooseBuild', (lockfiles, pm, yarnrc) => {
    const { root, dir } = checkout(lockfiles, pm, yarnrc, 'apps/web');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'web', ...(pm ? { packageManager: pm } : {}), scripts: { build: "next build --webpack && echo 'done'" } }));
    expect(JSON.parse(detect('build-json', dir, root))).toEqual(chooseBuild(chooseInstall(readInstallInputs(dir, root)), readBuildScript(dir)));
  });

  it('says the build line and why in shell the buildspec sources; next build without a script', () => {
    const { root, dir } = checkout(['pnpm-lock.yaml'], 'pnpm@9.15.0', false);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', packageManager: 'pnpm@9.15.0', scripts: { build: 'next build' } }));
    const vars = () => execFileSync('bash', ['-c', `${detect('build', dir, root)}\nprintf '%s\\n' "$SHIPLOG_BUILD_COMMAND" "$SHIPLOG_BUILD_LOG"`], { encoding: 'utf8' }).split('\n');
    const expected = chooseBuild(chooseInstall(readInstallInputs(dir, root)), 'next build');
    expect(vars().slice(0, 2)).toEqual([expected.line, 'build: the build script of package.json ("next build"), run with pnpm: pnpm run build']);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app' }));
    expect(vars().slice(0, 2)).toEqual(['npx next build', 'build: no build script in package.json: npx next build']);
  });
});
