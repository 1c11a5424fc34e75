import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_CREDENTIALS, BOX_REGION } from '../../infra/aws-box/moto.ts';
import { deploymentOfHead, gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// Builds as users push them, on the AWS box (`npm run start:aws-box`): the real buildspec on the
// CodeBuild stand-in decides the install in the checkout (pnpm through corepack; no lockfile →
// a plain npm install), and keeps each project's build cache under its own prefix of the
// artifacts bucket in moto S3, so a second push of the same lockfile skips the install.
const fixtures = new URL('../fixtures/', import.meta.url).pathname;

describe('the AWS box builds pnpm and lockfile-less apps, and a second push of the same lockfile warm', () => {
  let sl: LocalShiplog;
  let s3: S3Client;
  const apps = new Map<string, { work: string; remote: string }>();
  const logsOf = (id: string) => sl.cli(['logs', id]).stdout;

  const push = async (project: string, message: string) => {
    const { work, remote } = apps.get(project)!;
    gitCommitAll(work, message);
    gitPush(work, remote);
    const id = await deploymentOfHead(sl, project, work, 120_000);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 960_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${logsOf(id).slice(-4000)}`).toBe(0);
    return id;
  };
  const serves = async (project: string, path: string, text: string) => {
    const res = await sl.site(`${project}.localhost`, path);
    return res.status === 200 && res.body.includes(text);
  };

  beforeAll(async () => {
    sl = await startShiplog({ runtime: 'aws-box' });
    const endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())?.[1];
    expect(endpoint, sl.output()).toBeDefined();
    s3 = new S3Client({ endpoint: endpoint!, region: BOX_REGION, credentials: BOX_CREDENTIALS, forcePathStyle: true });
    for (const [project, fixture] of [['pnpm', 'pnpm-app'], ['nolock', 'no-lockfile-app']] as const) {
      const work = mkdtempSync(join(tmpdir(), `shiplog-box-${project}-`));
      cpSync(join(fixtures, fixture), work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
      expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
      const { gitRemote } = sl.json<{ gitRemote: string }>(['projects', 'create', project]);
      apps.set(project, { work, remote: gitRemote });
    }
  }, 180_000);

  afterAll(async () => {
    await sl?.stop();
    s3?.destroy();
    for (const { work } of apps.values()) rmSync(work, { recursive: true, force: true });
  });

  it('builds a pnpm app with pnpm through corepack, detected from its lockfile, and serves it', async () => {
    const id = await push('pnpm', 'pnpm app');
    await expect.poll(() => serves('pnpm', '/', 'Installed with pnpm'), { timeout: 30_000 }).toBe(true);
    const logs = logsOf(id);
    expect(logs).toContain('install: pnpm, detected from pnpm-lock.yaml, packageManager pnpm@9.15.9: pnpm install --frozen-lockfile (in .)');
    // The app names no version: the project's Node.js setting (20.x by default) is what the build asks for.
    expect(logs).toMatch(/node: v\d+\.\d+\.\d+ \("20\.x" from the project's Node\.js setting\)|warning: node: the app asks for "20\.x" \(the project's Node\.js setting\)/);
    expect(logs).toMatch(/build cache: no node_modules for key [0-9a-f]{32} \(first build/);
    expect(logs).toMatch(/build cache: node_modules saved \(\S+, key [0-9a-f]{32}\)/);
    expect(logs).toMatch(/^build cache: \.next\/cache saved$/m);
    expect((await sl.site('pnpm.localhost', '/api/time?who=box')).status).toBe(200);
  }, 1_000_000);

  it('builds an app without a lockfile with a plain npm install, and serves both its routers', async () => {
    const id = await push('nolock', 'no lockfile');
    const logs = logsOf(id);
    expect(logs).toContain('install: npm, detected from no lockfile: npm install (in .)');
    expect(logs).toMatch(/^build cache: node_modules are kept only for detected installs a lockfile pins$/m);
    // It has no next.config either: open-next build gets an empty one (next build needs none).
    expect(logs).toContain('no next.config in the app: an empty next.config.mjs');
    await expect.poll(async () => (await sl.site('nolock.localhost', '/')).status, { timeout: 30_000 }).toBe(200);
    expect((await sl.site('nolock.localhost', '/legacy')).status).toBe(200);
    expect((await sl.site('nolock.localhost', '/api/ping')).status).toBe(200);
  }, 1_000_000);

  it('restores node_modules and .next/cache on the next push of the same lockfile, skips the install, and goes live', async () => {
    const { work } = apps.get('pnpm')!;
    const page = join(work, 'app', 'page.jsx');
    writeFileSync(page, readFileSync(page, 'utf8').replace('Installed with pnpm', 'Installed with pnpm, warm'));
    const id = await push('pnpm', 'warm push');
    await expect.poll(() => serves('pnpm', '/', 'Installed with pnpm, warm'), { timeout: 30_000 }).toBe(true);
    const logs = logsOf(id);
    expect(logs).toMatch(/^build cache: node_modules restored \(\S+ compressed, key [0-9a-f]{32}\): install skipped$/m);
    expect(logs).toMatch(/^build cache: \.next\/cache restored \(\S+\)$/m);
    // (the log also shows each command as it runs: only output lines count)
    expect(logs).not.toMatch(/^build cache: node_modules saved/m);
  }, 1_000_000);

  it('keeps each project\'s cache under its own prefix of the artifacts bucket', async () => {
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    const bucket = Buckets.map((b) => b.Name!).find((n) => n.includes('artifacts'));
    expect(bucket).toBeDefined();
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'cache/' }));
    const keys = Contents.map((c) => c.Key!).sort();
    expect(keys.filter((k) => k.startsWith('cache/pnpm/'))).toEqual([expect.stringMatching(/^cache\/pnpm\/modules-[0-9a-f]{32}\.tgz$/), 'cache/pnpm/next-cache.tgz']);
    expect(keys.filter((k) => k.startsWith('cache/nolock/'))).toEqual(['cache/nolock/next-cache.tgz']);
    expect(keys.every((k) => /^cache\/(pnpm|nolock)\//.test(k))).toBe(true);
  }, 60_000);
});
