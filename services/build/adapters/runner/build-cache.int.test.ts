import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildJob } from '../../ports.ts';
import { localBuildRunner } from './local.ts';

// A monorepo with no Next app (npm workspaces: apps/web uses packages/lib), built by the real
// runner in its sandbox: install detection from the root's lockfile, the Node check, and the
// per-project build cache. The build command stands in for `next build`; packaging then fails
// (no Next output), which the cache does not care about: it keeps what succeeded.
let root: string;
let repo: string;

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=test@shiplog.dev', '-c', 'user.name=test', ...args], { cwd: repo, encoding: 'utf8' }).trim();
const write = (rel: string, text: string) => {
  mkdirSync(join(repo, rel, '..'), { recursive: true });
  writeFileSync(join(repo, rel), text);
};
const commit = (message: string) => {
  // The lockfile as npm writes it for these workspaces (no registry packages: offline).
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--package-lock-only'], { cwd: repo, stdio: 'pipe' });
  git('add', '-A');
  git('commit', '--quiet', '-m', message);
  return git('rev-parse', 'HEAD');
};

// Proves the restored tree is a working install: the app resolves its workspace dependency.
const buildCommand = [
  'node -e \'console.log("LIB " + require("lib").version)\'',
  'if [ -f .next/cache/marker ]; then echo "NEXT_CACHE $(cat .next/cache/marker)"; fi',
  'mkdir -p .next/cache && echo "$SHIPLOG_DEPLOYMENT_ID" > .next/cache/marker',
  // next build writes .next/trace: the folder the cache was restored into is the build's to write.
  'touch .next/trace && echo b1 > .next/BUILD_ID',
  // A second Next build output (as a custom distDir leaves it), whose standalone copy has a
  // node_modules the install did not make: the cache keeps none of it (one folder restored).
  'mkdir -p dist/standalone/node_modules/copied && echo b1 > dist/BUILD_ID',
].join(' && ');

const build = async (over: Partial<BuildJob>) => {
  const lines: string[] = [];
  const runner = localBuildRunner({ workRoot: join(root, 'work') });
  const job: BuildJob = {
    deploymentId: `d${Math.random().toString(36).slice(2, 10)}`, projectId: 'web', repo, sha: '', rootDir: 'apps/web',
    installCommand: '', buildCommand, env: { npm_config_audit: 'false', npm_config_fund: 'false' }, timeoutMs: 120_000, ...over,
  };
  const outcome = await runner.start(job, (line) => lines.push(line)).outcome;
  return { outcome, lines, job };
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-cache-'));
  repo = join(root, 'repo');
  execFileSync('git', ['init', '--quiet', repo]);
  write('package.json', JSON.stringify({ name: 'mono', private: true, workspaces: ['apps/*', 'packages/*'] }));
  write('packages/lib/package.json', JSON.stringify({ name: 'lib', version: '1.0.0', main: 'index.js' }));
  write('packages/lib/index.js', 'module.exports = { version: require("./package.json").version };\n');
  write('apps/web/package.json', JSON.stringify({ name: 'web', private: true, engines: { node: '>=18' }, dependencies: { lib: '*' } }));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the local build cache', () => {
  let sha: string;

  it('installs a monorepo app from the root with the lockfile, checks Node, and keeps the install for the next build', async () => {
    sha = commit('one');
    const { outcome, lines } = await build({ sha });
    expect(outcome).toMatchObject({ ok: false, reason: 'package-failed' });
    expect(lines).toContain(`node: ${process.version} (">=18" from engines.node in package.json)`);
    expect(lines).toContain('install: npm, detected from package-lock.json: npm ci (in .)');
    expect(lines).toContain('build cache: no node_modules for project web yet: full install');
    expect(lines).toContain('$ npm ci');
    expect(lines).toContain('LIB 1.0.0');
    expect(lines.find((l) => l.startsWith('build cache: saved'))).toMatch(/^build cache: saved package manager store, node_modules \(key [0-9a-f]{32}\), \.next\/cache for the next build of web$/);
  }, 150_000);

  it('restores node_modules and .next/cache on the next build of the same lockfile, and skips the install', async () => {
    const first = await build({ sha });
    const { outcome, lines } = await build({ sha });
    expect(outcome).toMatchObject({ ok: false, reason: 'package-failed' });
    expect(lines).toContain('build cache: package manager store restored (project web)');
    expect(lines.some((l) => /^build cache: node_modules restored \(1 folder, key [0-9a-f]{32}\)$/.test(l))).toBe(true);
    expect(lines).toContain('install: skipped, node_modules restored for this exact lockfile');
    expect(lines).not.toContain('$ npm ci');
    expect(lines).toContain('build cache: .next/cache restored');
    expect(lines).toContain(`NEXT_CACHE ${first.job.deploymentId}`);
    expect(lines).toContain('LIB 1.0.0');
  }, 150_000);

  it('never gives one project another\'s cache', async () => {
    const { lines } = await build({ sha, projectId: 'other' });
    expect(lines).toContain('build cache: no node_modules for project other yet: full install');
    expect(lines.some((l) => l.startsWith('build cache: no package manager store for project other yet'))).toBe(true);
    expect(lines).toContain('build cache: no .next/cache for this project yet');
    expect(lines).toContain('$ npm ci');
    expect(lines.some((l) => l.startsWith('NEXT_CACHE'))).toBe(false);
  }, 150_000);

  it('installs again when the lockfile changed, and says why', async () => {
    write('packages/lib/package.json', JSON.stringify({ name: 'lib', version: '2.0.0', main: 'index.js' }));
    const changed = commit('two');
    const { lines } = await build({ sha: changed });
    expect(lines.some((l) => /^build cache: node_modules not restored: cached for key [0-9a-f]{32}, this build is [0-9a-f]{32} \(lockfile/.test(l))).toBe(true);
    expect(lines).toContain('$ npm ci');
    expect(lines).toContain('LIB 2.0.0');
  }, 150_000);

  it('runs the project\'s own install command where rootDir is, without the node_modules cache', async () => {
    const { lines } = await build({ sha, installCommand: 'echo "INSTALL IN $PWD"' });
    expect(lines).toContain('install: the project\'s command: echo "INSTALL IN $PWD"');
    expect(lines.some((l) => l.startsWith('INSTALL IN ') && l.endsWith('/src/apps/web'))).toBe(true);
    expect(lines).toContain('build cache: node_modules are kept only for detected installs a lockfile pins (the project sets its install command)');
    expect(existsSync(join(root, 'work', '.cache', 'web', 'store'))).toBe(true);
  }, 150_000);
});
