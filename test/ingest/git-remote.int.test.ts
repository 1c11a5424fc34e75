import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventData, StoredEvent } from '../../events/index.ts';
import { call, startIngest, type IngestHarness } from './harness.ts';

const exec = promisify(execFile);
let h: IngestHarness;
let work: string;
let remote: string;

// No credential helpers or prompts from the machine running the tests.
const gitEnv = { PATH: process.env.PATH!, HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false', LC_ALL: 'C' };
const git = async (args: string[], cwd = work) => exec('git', ['-c', 'credential.helper=', ...args], { cwd, env: gitEnv });
const gitFails = async (args: string[]) => {
  try {
    await git(args);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`git ${args.join(' ')} succeeded`);
};
const commit = async (file: string, message: string, author = 'Ada Lovelace <ada@example.com>') => {
  writeFileSync(join(work, file), `${message}\n`);
  await git(['add', '-A']);
  await git(['commit', '-q', '--author', author, '-m', message]);
  return (await git(['rev-parse', 'HEAD'])).stdout.trim();
};
const pushEvents = async (after: string): Promise<StoredEvent[]> => {
  const events = await h.allEvents();
  const received = events.filter((e) => e.type === 'PushReceived' && (e.data as EventData<'PushReceived'>).after === after);
  const ids = new Set(received.map((e) => (e.data as EventData<'PushReceived'>).deliveryId));
  return events.filter((e) => ids.has((e.data as { deliveryId?: string; pushDeliveryId?: string }).deliveryId ?? (e.data as { pushDeliveryId?: string }).pushDeliveryId ?? ''));
};

beforeAll(async () => {
  h = await startIngest(import.meta.url);
  const created = await call(h.url, 'POST', '/api/projects', { name: 'site' });
  expect(created.status).toBe(201);
  remote = created.body.gitRemoteUrl;
  work = mkdtempSync(join(tmpdir(), 'shiplog-ingest-work-'));
  await git(['init', '-q', '-b', 'main']);
  await git(['config', 'user.name', 'Committer']);
  await git(['config', 'user.email', 'c@example.com']);
});
afterAll(async () => {
  await h?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the shiplog git remote', () => {
  it('hands out a remote URL with the push token, and creates the bare repository with the project', async () => {
    expect(remote).toMatch(/^http:\/\/shiplog:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+\/git\/site\.git$/);
    expect(await h.ingest.gitRemoteUrl('site')).toBe(remote);
    expect((await git(['--git-dir', join(h.dataDir, 'git', 'site.git'), 'config', 'http.receivepack'])).stdout.trim()).toBe('true');
  });

  it('records a push to the production branch with sha, branch, message and author, and requests a production deployment', async () => {
    const sha = await commit('index.html', 'Initial page\n\nWith a body line.');
    const { stderr } = await git(['push', remote, 'main']);
    expect(stderr).toMatch(/remote: shiplog: production deployment \S+ requested for main/);
    const [received, requested] = await pushEvents(sha);
    expect(received).toMatchObject({
      type: 'PushReceived',
      data: {
        projectId: 'site', source: 'git', repository: 'site', ref: 'refs/heads/main', branch: 'main', before: '0'.repeat(40), after: sha, forced: false,
        headCommit: { sha, message: 'Initial page\n\nWith a body line.', author: { name: 'Ada Lovelace', email: 'ada@example.com' } },
      },
      metadata: { actor: { kind: 'git', id: 'shiplog' } },
    });
    expect(requested).toMatchObject({
      type: 'DeploymentRequested',
      data: { target: 'production', alias: 'production', trigger: 'push', branch: 'main', commit: { sha, message: 'Initial page\n\nWith a body line.' },
        repository: { source: 'git', fullName: 'site', cloneUrl: join(h.dataDir, 'git', 'site.git') } },
      metadata: { causationId: received!.metadata.eventId },
    });
  });

  it('deploys a push to another branch as a preview', async () => {
    await git(['checkout', '-q', '-b', 'feature/x']);
    const sha = await commit('about.html', 'About page', 'Grace Hopper <grace@example.com>');
    await git(['push', remote, 'feature/x']);
    const [, requested] = await pushEvents(sha);
    expect(requested).toMatchObject({ type: 'DeploymentRequested', data: { target: 'preview', alias: 'preview-feature-x', branch: 'feature/x', commit: { sha, author: { name: 'Grace Hopper' } } } });
  });

  it('accepts pushes larger than git buffers in one request (sent chunked, without a length)', async () => {
    writeFileSync(join(work, 'photo.bin'), randomBytes(3 * 1024 * 1024));
    const sha = await commit('notes.txt', 'Add a large file');
    await git(['push', remote, 'feature/x']);
    expect((await pushEvents(sha)).map((e) => e.type)).toEqual(['PushReceived', 'DeploymentRequested']);
  });

  it('records forced pushes, tags and deleted branches as a webhook would', async () => {
    await git(['commit', '-q', '--amend', '-m', 'About page, amended']);
    const amended = (await git(['rev-parse', 'HEAD'])).stdout.trim();
    await git(['push', '-f', remote, 'feature/x']);
    expect((await pushEvents(amended))[0]).toMatchObject({ data: { forced: true } });
    await git(['tag', '-a', 'v1', '-m', 'v1']);
    const { stderr } = await git(['push', remote, 'v1', ':feature/x']);
    expect(stderr).toMatch(/refs\/tags\/v1 not deployed \(tag/);
    expect(stderr).toMatch(/refs\/heads\/feature\/x not deployed \(branch-deleted/);
  });

  it('records nothing for a ref receive-pack refused', async () => {
    const bare = join(h.dataDir, 'git', 'site.git');
    await git(['--git-dir', bare, 'config', 'receive.denyNonFastForwards', 'true']);
    try {
      await git(['checkout', '-q', 'main']);
      await git(['commit', '-q', '--amend', '-m', 'Rewritten history']);
      const rewritten = (await git(['rev-parse', 'HEAD'])).stdout.trim();
      expect(await gitFails(['push', '-f', remote, 'main'])).toMatch(/rejected/);
      expect(await pushEvents(rewritten)).toEqual([]);
    } finally {
      await git(['--git-dir', bare, 'config', '--unset', 'receive.denyNonFastForwards']);
    }
  });

  it('refuses a wrong push token or none with 401 and records nothing', async () => {
    const before = (await h.allEvents()).length;
    await commit('evil.html', 'Should not land');
    expect(await gitFails(['push', remote.replace(/:[^:@]+@/, ':wrong-token@'), 'HEAD:refs/heads/evil'])).toMatch(/Authentication failed|401/);
    expect(await gitFails(['push', remote.replace(/shiplog:[^@]+@/, ''), 'HEAD:refs/heads/evil'])).toMatch(/could not read Username|Authentication failed|401/);
    const res = await fetch(`${h.url}/git/site.git/info/refs?service=git-receive-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="shiplog"');
    expect((await h.allEvents()).length).toBe(before);
  });

  it('serves clones, including gzip-encoded upload-pack requests', async () => {
    const clone = mkdtempSync(join(tmpdir(), 'shiplog-ingest-clone-'));
    try {
      await git(['clone', '-q', remote, clone], tmpdir());
      expect((await git(['log', '-1', '--format=%s'], clone)).stdout.trim()).toBe('Initial page');
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
    const sha = (await git(['--git-dir', join(h.dataDir, 'git', 'site.git'), 'rev-parse', 'main'])).stdout.trim();
    const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const res = await fetch(`${h.url}/git/site.git/git-upload-pack`, {
      method: 'POST',
      body: gzipSync(`${pkt(`want ${sha} ofs-delta\n`)}0000${pkt('done\n')}`),
      headers: { 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip', authorization: `Basic ${Buffer.from(`me:${new URL(remote).password}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    expect(Buffer.from(await res.arrayBuffer()).includes('PACK')).toBe(true);
  });

  it('serves only the smart protocol of existing projects', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`me:${new URL(remote).password}`).toString('base64')}` };
    expect((await fetch(`${h.url}/git/site.git/HEAD`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${h.url}/git/site.git/objects/info/packs`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${h.url}/git/other.git/info/refs?service=git-upload-pack`, { headers: auth })).status).toBe(401);
  });
});
