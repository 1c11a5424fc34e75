import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeArtifactDir } from '../../service.ts';
import { routingLocalesScript, customDistDirMessage, emptyNextConfig, nextConfigNames, noNextBuildMessage, pagesFallbackEntriesScript, staticExportMessage, trailingSlashRedirectsScript } from '../runner/build-output.ts';
import {
  artifactUriFor, awsOpenNextConfig, buildspecFor, cacheUriFor, buildspecPhases, CHECKOUT_MARK, DEFAULT_OPENNEXT_VERSION, edgeRoutesWarningScript, manifestScript, type BuildspecInput,
} from './buildspec.ts';

const input: BuildspecInput = { rootDir: 'apps/web', installCommand: 'npm ci', buildCommand: 'npx next build', checkout: false };
const work = mkdtempSync(join(tmpdir(), 'shiplog-buildspec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The buildspec's commands, back from the YAML (every command is one JSON-quoted scalar). */
const commandsOf = (yaml: string, phase: string): string[] => {
  const block = yaml.split(`\n  ${phase}:\n`)[1]!.split(/\n {2}\w/)[0]!;
  return block.split('\n').filter((l) => l.startsWith('      - ')).map((l) => JSON.parse(l.slice(8)) as string);
};

describe('buildspecFor', () => {
  it('is a version 0.2 buildspec whose phases abort the build on failure', () => {
    const yaml = buildspecFor(input);
    expect(yaml.startsWith('version: 0.2\nenv:\n  shell: "bash"\nphases:\n')).toBe(true);
    for (const phase of ['install', 'pre_build', 'build', 'post_build']) {
      const runtime = phase === 'install' ? '    runtime-versions:\n      nodejs: "20"\n' : '';
      expect(yaml).toContain(`  ${phase}:\n${runtime}    on-failure: "ABORT"\n    commands:\n`);
      expect(commandsOf(yaml, phase)).toEqual(buildspecPhases(input)[phase as 'build']);
    }
  });

  it('installs, builds in standalone mode, packages with the pinned OpenNext and uploads the manifest last', () => {
    const p = buildspecPhases(input);
    expect(p.install[0]).toBe(`cd "$CODEBUILD_SRC_DIR/apps/web" ${CHECKOUT_MARK}`);
    expect(p.install.at(-1)).toBe('cd "$SHIPLOG_INSTALL_DIR" && if [ "$SHIPLOG_MODULES_RESTORED" != 1 ]; then eval "$SHIPLOG_INSTALL_COMMAND"; fi');
    expect(p.install).toContain(`export SHIPLOG_INSTALL_DIR="$PWD" SHIPLOG_INSTALL_COMMAND='npm ci' SHIPLOG_CACHE_KEY= && echo 'install: the project'\\''s command: npm ci'`);
    expect(p.build).toEqual(['cd "$CODEBUILD_SRC_DIR/apps/web"', 'export NODE_ENV="${NODE_ENV:-production}" NEXT_PRIVATE_STANDALONE=true', `echo 'build: the project'\\''s command: npx next build'`, 'npx next build']);
    // An app on a Next.js major past its support window still builds (OpenNext warns in the log).
    expect(p.post_build).toContain(`npx --yes @opennextjs/aws@${DEFAULT_OPENNEXT_VERSION} build --config-path open-next.shiplog.config.ts --dangerously-use-unsupported-next-version`);
    const uploads = p.post_build.filter((c) => c.startsWith('aws s3 cp'));
    expect(uploads).toHaveLength(3);
    expect(uploads[0]).toContain('--exclude ".build/*"');
    expect(uploads[2]).toContain('shiplog-build.json');
  });

  it('writes the AWS OpenNext config unless the app has its own, which it wraps', () => {
    const write = buildspecPhases(input).pre_build.find((c) => c.startsWith('if [ -f open-next.config.ts ]'))!;
    const [own, fallback] = [...write.matchAll(/echo (\S+) \| base64 -d/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    expect(own).toContain("import config from './open-next.config.ts'");
    expect(fallback).toBe(awsOpenNextConfig);
    expect(awsOpenNextConfig).toMatch(/incrementalCache: 's3-lite', tagCache: 'dynamodb-lite', queue: 'sqs-lite'/);
  });

  it('gives open-next build an empty next.config.mjs only when the app has no next.config', () => {
    const write = buildspecPhases(input).post_build.find((c) => c.startsWith('has_config=0'))!;
    const post = buildspecPhases(input).post_build;
    expect(post.indexOf(write)).toBe(post.findIndex((c) => c.includes('@opennextjs/aws@')) - 1);
    const run = (files: Record<string, string>, links: Record<string, string> = {}) => {
      const dir = mkdtempSync(join(work, 'config-'));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      for (const [name, to] of Object.entries(links)) symlinkSync(to, join(dir, name));
      const out = execFileSync('bash', ['-e', '-c', write], { cwd: dir, encoding: 'utf8' });
      return { out, files: readdirSync(dir).sort(), config: existsSync(join(dir, 'next.config.mjs')) ? readFileSync(join(dir, 'next.config.mjs'), 'utf8') : undefined };
    };
    const none = run({ 'package.json': '{}' });
    expect(none.config).toBe(emptyNextConfig);
    expect(none.out).toContain('no next.config in the app: an empty next.config.mjs');
    for (const name of nextConfigNames) {
      const own = run({ [name]: 'module.exports = { poweredByHeader: false };' });
      expect(own.files).toEqual([name]);
      expect(own.out).toBe('');
    }
    // A link at one of the names is the app's (even one that leads nowhere): nothing is written through it.
    expect(run({}, { 'next.config.mjs': join(work, 'nowhere.mjs') }).files).toEqual(['next.config.mjs']);
    expect(existsSync(join(work, 'nowhere.mjs'))).toBe(false);
  });

  it("runs the app's build script with its package manager when the project sets no build command, else next build", () => {
    const phases = buildspecPhases({ ...input, buildCommand: '', installCommand: '' });
    const writeDetect = phases.install.find((c) => c.includes('detect.mjs') && c.startsWith('mkdir -p'))!;
    // npx as a stand-in on PATH: it says what it was asked to run (next build, where the app's own would run).
    const bin = mkdtempSync(join(work, 'bin-'));
    writeFileSync(join(bin, 'npx'), '#!/bin/sh\necho "npx $*"\n', { mode: 0o755 });
    // Each command as CodeBuild runs it: what one exports and the folder it ends in carry to the next, nothing else.
    const asCodeBuild = (commands: string[]) => ['set -e', 'S="$(mktemp -d)"', ...commands.map((c) =>
      `( trap 'export -p > "$S/env"; pwd > "$S/cwd"' EXIT; eval ${JSON.stringify(c).replace(/\$/g, '\\$').replace(/`/g, '\\`')} ); . "$S/env"; cd "$(cat "$S/cwd")"`)].join('\n');
    /** The build phase, after the install phase wrote detect.mjs. */
    const run = (pkg: Record<string, unknown>) => {
      const src = mkdtempSync(join(work, 'build-'));
      mkdirSync(join(src, 'apps', 'web'), { recursive: true });
      writeFileSync(join(src, 'package-lock.json'), '{}');
      writeFileSync(join(src, 'apps', 'web', 'package.json'), JSON.stringify(pkg));
      const id = `b-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const r = spawnSync('bash', ['-c', asCodeBuild([writeDetect, ...phases.build])], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CODEBUILD_SRC_DIR: src, SHIPLOG_DEPLOYMENT_ID: id }, encoding: 'utf8',
      });
      rmSync(`/tmp/shiplog/${id}`, { recursive: true, force: true });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.split('\n');
    };
    const scripted = run({ name: 'web', scripts: { build: 'echo "standalone=$NEXT_PRIVATE_STANDALONE" && echo built by the script' } });
    expect(scripted[0]).toBe('build: the build script of package.json ("echo \\"standalone=$NEXT_PRIVATE_STANDALONE\\" && echo built by the script"), run with npm: npm run build');
    expect(scripted).toContain('standalone=true');
    expect(scripted).toContain('built by the script');
    expect(run({ name: 'web' }).slice(0, 2)).toEqual(['build: no build script in package.json: npx next build', 'npx next build']);
  });

  it('names the edge runtime routes, which AWS does not serve yet, in the build log', () => {
    const post = buildspecPhases(input).post_build;
    expect(post.some((c) => c.includes(Buffer.from(edgeRoutesWarningScript, 'utf8').toString('base64')))).toBe(true);
    const dir = mkdtempSync(join(work, 'edge-'));
    const run = () => execFileSync('node', ['-e', edgeRoutesWarningScript], { cwd: dir, encoding: 'utf8' });
    expect(run()).toBe('');
    mkdirSync(join(dir, '.next', 'server'), { recursive: true });
    writeFileSync(join(dir, '.next', 'server', 'middleware-manifest.json'), JSON.stringify({ middleware: {}, functions: {} }));
    expect(run()).toBe('');
    writeFileSync(join(dir, '.next', 'server', 'middleware-manifest.json'), JSON.stringify({ functions: { '/api/e/route': { name: 'app/api/e/route' } } }));
    expect(run()).toBe("warning: edge runtime routes are not served on AWS yet (they answer 500 there): app/api/e/route. Without export const runtime = 'edge' they run in the server function.\n");
  });

  // The fixes of the output open-next build made (build-output.ts), each before the output is zipped and uploaded.
  it.each([
    ["hands Next's trailing-slash redirects to OpenNext's routing", trailingSlashRedirectsScript],
    ['types Pages Router fallback shells as Pages entries in the cache', pagesFallbackEntriesScript],
    ["localizes paths in OpenNext's routing as Next does", routingLocalesScript],
  ])('%s in the output open-next build made, before it is zipped and uploaded', (_, script) => {
    const post = buildspecPhases(input).post_build;
    const step = post.findIndex((c) => c.includes(Buffer.from(script, 'utf8').toString('base64')));
    expect(step).toBeGreaterThan(post.findIndex((c) => c.includes('@opennextjs/aws@')));
    expect(post[step]).toMatch(/ \.open-next$/);
    expect(step).toBeLessThan(post.findIndex((c) => c.includes('zip -qry')));
    expect(step).toBeLessThan(post.findIndex((c) => c.startsWith('aws s3 cp .open-next')));
  });

  it('refuses a static export before open-next build, with why and what to change', () => {
    const post = buildspecPhases(input).post_build;
    const check = post.find((c) => c.includes('.next/export-detail.json'))!;
    expect(post.indexOf(check)).toBeLessThan(post.findIndex((c) => c.includes('@opennextjs/aws@')));
    const dir = mkdtempSync(join(work, 'export-'));
    expect(execFileSync('bash', ['-e', '-c', check], { cwd: dir, encoding: 'utf8' })).toBe('');
    mkdirSync(join(dir, '.next'));
    writeFileSync(join(dir, '.next', 'export-detail.json'), '{"version":1,"success":true}');
    const r = spawnSync('bash', ['-e', '-c', check], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`build failed: ${staticExportMessage}\n`);
  });

  it('refuses a build in a custom distDir, or none in .next, with why, before open-next build', () => {
    const post = buildspecPhases(input).post_build;
    const check = post.find((c) => c.includes('.next/BUILD_ID'))!;
    expect(post.indexOf(check)).toBeLessThan(post.findIndex((c) => c.includes('@opennextjs/aws@')));
    const run = (files: string[]) => {
      const dir = mkdtempSync(join(work, 'dist-'));
      for (const f of files) {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        writeFileSync(join(dir, f), '{}');
      }
      return spawnSync('bash', ['-e', '-c', check], { cwd: dir, encoding: 'utf8' });
    };
    expect(run(['.next/BUILD_ID', 'build/BUILD_ID', 'build/required-server-files.json'])).toMatchObject({ status: 0, stdout: '' });
    for (const distDir of ['build', '.out']) {
      const r = run(['.next/cache/x', `${distDir}/BUILD_ID`, `${distDir}/required-server-files.json`, 'other/BUILD_ID']);
      expect([r.status, r.stdout]).toEqual([1, `build failed: ${customDistDirMessage.replaceAll('<distDir>', distDir)}\n`]);
    }
    expect(run(['.next/cache/x', 'other/BUILD_ID'])).toMatchObject({ status: 1, stdout: `build failed: ${noNextBuildMessage}\n` });
  });

  it('fetches the commit itself only when CodeBuild has no source', () => {
    const install = buildspecPhases({ ...input, checkout: true }).install;
    expect(install[0]).toMatch(/^git init -q "\$CODEBUILD_SRC_DIR" .*git checkout -q --detach FETCH_HEAD # shiplog:checkout$/);
    expect(buildspecPhases(input).install.some((c) => c.startsWith('git '))).toBe(false);
  });

  it('fails the install phase, as a checkout failure, for a rootDir outside the repository', () => {
    for (const rootDir of ['../other', '/etc', 'a/$(id)']) {
      const [first] = buildspecPhases({ ...input, rootDir }).install;
      expect(first).toMatch(/is not a directory inside the repository' >&2; exit 1 # shiplog:checkout$/);
    }
  });

  it('detects the install in the checkout when the project sets none, and logs the command it runs', () => {
    const src = mkdtempSync(join(work, 'src-'));
    mkdirSync(join(src, 'apps', 'web'), { recursive: true });
    writeFileSync(join(src, 'pnpm-lock.yaml'), 'lockfileVersion: 9.0\n');
    writeFileSync(join(src, 'package.json'), JSON.stringify({ private: true, packageManager: 'pnpm@9.15.0' }));
    writeFileSync(join(src, 'apps', 'web', 'package.json'), JSON.stringify({ name: 'web', engines: { node: '>=18' } }));
    const p = buildspecPhases({ ...input, installCommand: '' });
    // Every install command up to the install itself, in one bash as CodeBuild runs them (no cache configured).
    const script = p.install.slice(0, -1).join('\n') + '\nprintf "dir=%s\\ncommand=%s\\n" "$SHIPLOG_INSTALL_DIR" "$SHIPLOG_INSTALL_COMMAND"';
    const id = `t${Date.now()}`;
    const out = execFileSync('bash', ['-e', '-c', script], { encoding: 'utf8', env: { ...process.env, CODEBUILD_SRC_DIR: src, SHIPLOG_DEPLOYMENT_ID: id, SHIPLOG_CACHE_URI: '' } });
    rmSync(`/tmp/shiplog/${id}`, { recursive: true, force: true });
    expect(out).toContain(`node: ${process.version} (">=18" from engines.node in package.json)`);
    expect(out).toContain('install: pnpm, detected from pnpm-lock.yaml, packageManager pnpm@9.15.0: pnpm install --frozen-lockfile (in .)');
    expect(out).toContain('build cache: off');
    expect(out).toContain(`dir=${src}\n`);
    expect(out).toMatch(/command=export COREPACK_HOME=.* corepack enable --install-directory "\$TMPDIR\/\.corepack-bin" pnpm && pnpm install --frozen-lockfile/);
  });

  it("carries the project's Node.js setting into the Node check when the app names no version", () => {
    const src = mkdtempSync(join(work, 'src-'));
    mkdirSync(join(src, 'apps', 'web'), { recursive: true });
    writeFileSync(join(src, 'apps', 'web', 'package.json'), JSON.stringify({ name: 'web' }));
    const major = process.version.slice(1).split('.')[0];
    const p = buildspecPhases({ ...input, installCommand: '', nodeVersion: `${major}.x` });
    const check = p.install.findIndex((c) => c.includes('node-check.mjs" switch'));
    expect(p.install[check]).toContain(`SHIPLOG_PROJECT_NODE_VERSION='${major}.x' node `);
    const id = `t${Date.now()}`;
    const out = execFileSync('bash', ['-e', '-c', p.install.slice(0, check + 1).join('\n')], { encoding: 'utf8', env: { ...process.env, CODEBUILD_SRC_DIR: src, SHIPLOG_DEPLOYMENT_ID: id, SHIPLOG_CACHE_URI: '' } });
    rmSync(`/tmp/shiplog/${id}`, { recursive: true, force: true });
    expect(out).toContain(`node: ${process.version} ("${major}.x" from the project's Node.js setting)`);
    expect(buildspecPhases(input).install.join('\n')).not.toContain('SHIPLOG_PROJECT_NODE_VERSION');
  });

  it('restores the project\'s node_modules and .next/cache from its own prefix, and saves them after the artifact', () => {
    const p = buildspecPhases({ ...input, installCommand: '' });
    const all = [...p.install, ...p.pre_build, ...p.post_build].join('\n');
    expect(all).toContain('"${SHIPLOG_CACHE_URI}modules-$SHIPLOG_CACHE_KEY.tgz"');
    expect(all).toContain('"${SHIPLOG_CACHE_URI}next-cache.tgz"');
    const manifest = p.post_build.findIndex((c) => c.includes('shiplog-build.json" --only-show-errors'));
    const saves = p.post_build.map((c, i) => [c, i] as const).filter(([c]) => c.includes('build cache:')).map(([, i]) => i);
    expect(saves.length).toBe(2);
    expect(Math.min(...saves)).toBeGreaterThan(manifest);
    expect(cacheUriFor('b', 'web')).toBe('s3://b/cache/web/');
  });

  it('quotes commands so YAML takes them verbatim', () => {
    const yaml = buildspecFor({ ...input, buildCommand: 'echo "a: b" # not a comment' });
    expect(commandsOf(yaml, 'build').at(-1)).toBe('echo "a: b" # not a comment');
  });
});

describe('the artifact manifest', () => {
  it('pins the OpenNext version shiplog ships', () => {
    // The package's exports hide package.json; it sits next to dist/ (as the local runner reads it).
    const cli = createRequire(import.meta.url).resolve('@opennextjs/aws/index.js');
    const pkg = JSON.parse(readFileSync(join(dirname(cli), '..', 'package.json'), 'utf8')) as { version: string };
    expect(DEFAULT_OPENNEXT_VERSION).toBe(pkg.version);
  });

  it('digests the output exactly as describeArtifactDir does, minus .build', async () => {
    const out = join(work, '.open-next');
    mkdirSync(join(out, 'assets', '_next', 'static'), { recursive: true });
    mkdirSync(join(out, '.build'), { recursive: true });
    writeFileSync(join(out, 'assets', '_next', 'static', 'a.js'), 'console.log(1)');
    writeFileSync(join(out, 'assets', 'a-b.txt'), 'x');
    writeFileSync(join(out, 'open-next.output.json'), '{}');
    const expected = await describeArtifactDir(out);
    writeFileSync(join(out, '.build', 'scratch'), 'ignored');
    const file = join(work, 'manifest.json');
    execFileSync(process.execPath, ['--input-type=module', '-e', manifestScript, out, file, '4.1.12'], { cwd: work });
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(manifest).toEqual({ ...expected, files: 3, versions: { next: null, openNext: '4.1.12' } });
  });

  it('lives next to the output in the deployment artifact prefix', () => {
    expect(artifactUriFor('shiplog-artifacts', 'web', 'd1')).toBe('s3://shiplog-artifacts/artifacts/web/d1/');
  });
});
