import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// `shiplog deploy` on the local runtime: a directory that is not a git working copy is zipped
// (minus what its .gitignore excludes), uploaded through the API, recorded as a commit of the
// project's own repository and deployed to production by a real build; one build for the file.
const fixture = new URL('../fixtures/next-app/', import.meta.url).pathname;

describe('shiplog deploy (local runtime): a directory to a live deployment', () => {
  let sl: LocalShiplog;
  let dir: string;
  let deployed: { deploymentId: string; target: string; alias: string; sha: string; files: number };

  beforeAll(async () => {
    sl = await startShiplog();
    dir = mkdtempSync(join(tmpdir(), 'shiplog-deploy-app-'));
    cpSync(fixture, dir, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    const marker = join(dir, 'app', 'marker.js');
    writeFileSync(marker, readFileSync(marker, 'utf8').replace(/BUILD_MARKER = '[^']*'/, "BUILD_MARKER = 'deployed-by-cli'"));
    appendFileSync(join(dir, '.gitignore'), 'notes.local\n');
    writeFileSync(join(dir, 'notes.local'), 'not for the build');
    expect(sl.json<{ projectId: string }>(['projects', 'create', 'web']).projectId).toBe('web');
  }, 120_000);

  afterAll(async () => {
    await sl?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the deployment it requested, production with --prod', () => {
    deployed = sl.json(['deploy', dir, '--project', 'web', '--prod']);
    expect(deployed).toMatchObject({ target: 'production', alias: 'production', deploymentId: expect.stringMatching(/^[0-9A-Z]{26}$/), sha: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const plain = sl.cli(['deployments', 'get', deployed.deploymentId, '--json']);
    expect(JSON.parse(plain.stdout)).toMatchObject({ id: deployed.deploymentId, target: 'production', sha: deployed.sha });
  });

  it("uploaded the directory minus its .gitignore'd files, as a commit on no branch of the project's repository", () => {
    const bare = join(sl.dataDir, 'git', 'web.git');
    const tree = spawnSync('git', ['--git-dir', bare, 'ls-tree', '-r', '--name-only', deployed.sha], { encoding: 'utf8' });
    expect(tree.status, tree.stderr).toBe(0);
    const files = tree.stdout.trim().split('\n');
    expect(files).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'app/marker.js', '.gitignore']));
    expect(files).not.toContain('notes.local');
    expect(files).toHaveLength(deployed.files);
    expect(spawnSync('git', ['--git-dir', bare, 'branch', '--list'], { encoding: 'utf8' }).stdout.trim()).toBe('');
  });

  it('builds it and serves it on the production URL', async () => {
    const wait = sl.cli(['deployments', 'wait', deployed.deploymentId, '--timeout', '600'], 660_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.output().slice(-3000)}`).toBe(0);
    const home = await sl.site('web.localhost', '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('deployed-by-cli');
  }, 700_000);

  it('refuses a directory deploy to a project that does not exist, and --prod with --preview', () => {
    const missing = sl.cli(['deploy', dir, '--project', 'nope']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('404');
    const both = sl.cli(['deploy', dir, '--project', 'web', '--prod', '--preview']);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain('--prod or --preview');
  });

  it("refuses, before uploading, a directory without the folder a monorepo project builds, naming the repository's root when it is inside it", () => {
    sl.json(['projects', 'create', 'mono', '--root-dir', './apps/web/']);
    const repo = mkdtempSync(join(tmpdir(), 'shiplog-deploy-mono-'));
    mkdirSync(join(repo, 'apps', 'web'), { recursive: true });
    writeFileSync(join(repo, 'apps', 'web', 'package.json'), '{}');
    try {
      const inside = sl.cli(['deploy', join(repo, 'apps', 'web'), '--project', 'mono']);
      expect(inside.status).not.toBe(0);
      expect(inside.stderr).toContain(`project mono builds apps/web/ of its repository, and ${join(repo, 'apps', 'web')} has no apps/web/: deploy the repository's root directory (`);
      expect(inside.stderr).toContain(`${repo}), or change the project's root directory`);
      const elsewhere = sl.cli(['deploy', dir, '--project', 'mono']);
      expect(elsewhere.stderr).toContain(`has no apps/web/: deploy the repository's root directory, or change`);
      expect(sl.json<unknown[]>(['deployments', 'list', 'mono'])).toEqual([]);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
