import { chownSync, existsSync, rmSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, linkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localSiteHost, siteLayout } from './local.ts';

// publish: an artifact of the build's work root becomes the version dir (made ours in place,
// then renamed); any other is copied. Both give the same tree.
const artifact = (root: string) => {
  const dir = join(root, 'builds', 'work', 'b1', 'artifact');
  mkdirSync(join(dir, 'assets', '_next'), { recursive: true });
  mkdirSync(join(dir, 'server-functions', 'default', 'node_modules', '.pnpm', 'next@16', 'node_modules', 'next'), { recursive: true });
  mkdirSync(join(dir, '.build'), { recursive: true });
  writeFileSync(join(dir, 'open-next.output.json'), '{"origins":{}}');
  writeFileSync(join(dir, 'assets', '_next', 'a.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'logo.svg'), '<svg/>');
  writeFileSync(join(dir, 'server-functions', 'default', 'index.mjs'), 'export const handler = 1;');
  chmodSync(join(dir, 'server-functions', 'default', 'index.mjs'), 0o750);
  writeFileSync(join(dir, 'server-functions', 'default', 'node_modules', '.pnpm', 'next@16', 'node_modules', 'next', 'package.json'), '{"name":"next"}');
  symlinkSync('.pnpm/next@16/node_modules/next', join(dir, 'server-functions', 'default', 'node_modules', 'next'));
  writeFileSync(join(root, 'outside.txt'), 'absolute target');
  symlinkSync(join(root, 'outside.txt'), join(dir, 'server-functions', 'default', 'absolute.txt'));
  writeFileSync(join(dir, '.build', 'scratch'), 'x');
  // A file that is also linked elsewhere (a package store's copy)
  const store = join(root, 'builds', 'work', 'b1', 'home', 'store-file');
  mkdirSync(join(store, '..'), { recursive: true });
  writeFileSync(store, 'shared');
  linkSync(store, join(dir, 'server-functions', 'default', 'shared.txt'));
  return { dir, store };
};

const expectPublished = (version: string) => {
  const read = (p: string) => readFileSync(join(version, p), 'utf8');
  expect(read('assets/_next/a.js')).toBe('console.log(1)');
  expect(read('assets/logo.svg')).toBe('<svg/>');
  expect(statSync(join(version, 'server-functions/default/index.mjs')).mode & 0o777).toBe(0o750);
  expect(readlinkSync(join(version, 'server-functions/default/node_modules/next'))).toBe('.pnpm/next@16/node_modules/next');
  expect(read('server-functions/default/node_modules/next/package.json')).toBe('{"name":"next"}');
  // an absolute link is replaced by what it points at
  expect(lstatSync(join(version, 'server-functions/default/absolute.txt')).isSymbolicLink()).toBe(false);
  expect(read('server-functions/default/absolute.txt')).toBe('absolute target');
  expect(read('server-functions/default/shared.txt')).toBe('shared');
  expect(existsSync(join(version, '.build'))).toBe(false);
  expect(JSON.parse(read('.shiplog-version.json'))).toEqual({ assets: 2, functionVersion: 'd1' });
};

describe('local site host: publish', () => {
  it('moves an artifact the build gives away into place: same tree, our own files and folders, the artifact gone, a shared file copied', async () => {
    const root = mkdtempSync(join(tmpdir(), 'shiplog-publish-'));
    const { dir, store } = artifact(root);
    const storeInode = statSync(store).ino;
    const logoInode = statSync(join(dir, 'assets', 'logo.svg')).ino;
    // The build's files belong to the sandbox's user when shiplog runs as root (as in CI).
    const asRoot = process.getuid!() === 0;
    if (asRoot) for (const p of ['server-functions/default/index.mjs', 'assets', 'server-functions/default']) chownSync(join(dir, p), 65534, 65534);
    const host = localSiteHost({ dataDir: root, port: 3001, removeArtifactsUnder: join(root, 'builds', 'work') });
    const published = await host.publish({ projectId: 'web', deploymentId: 'd1', artifactDir: dir });
    expect(published).toEqual({ assets: 2, functionVersion: 'd1' });
    const version = siteLayout(root).versionDir('web', 'd1');
    expectPublished(version);
    expect(existsSync(dir)).toBe(false);
    // Moved, not copied: the published file is the artifact's inode (its only link).
    expect(statSync(join(version, 'assets', 'logo.svg')).ino).toBe(logoInode);
    expect(statSync(join(version, 'assets', 'logo.svg')).nlink).toBe(1);
    // Ours, as a copy would be: files and folders.
    for (const p of ['server-functions/default/index.mjs', 'assets', 'server-functions/default']) expect(statSync(join(version, p)).uid).toBe(process.getuid!());
    expect(existsSync(join(root, 'builds', 'work', 'b1'))).toBe(true);
    // The store's file keeps its inode and owner: the version has a copy.
    expect(statSync(join(version, 'server-functions/default/shared.txt')).ino).not.toBe(storeInode);
    expect(statSync(store).nlink).toBe(1);
  });

  it('leaves the artifact where it was when a publish fails, and a retry publishes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'shiplog-publish-'));
    const { dir } = artifact(root);
    const version = siteLayout(root).versionDir('web', 'd1');
    // Something unpublished in the version's place: neither the move nor the copy can land.
    mkdirSync(join(version, 'in-the-way'), { recursive: true });
    const host = localSiteHost({ dataDir: root, port: 3001, removeArtifactsUnder: join(root, 'builds', 'work') });
    await expect(host.publish({ projectId: 'web', deploymentId: 'd1', artifactDir: dir })).rejects.toThrow(/ENOTEMPTY|EEXIST/);
    expect(existsSync(join(dir, 'open-next.output.json'))).toBe(true);
    rmSync(version, { recursive: true });
    expect(await host.publish({ projectId: 'web', deploymentId: 'd1', artifactDir: dir })).toEqual({ assets: 2, functionVersion: 'd1' });
    expectPublished(version);
    expect(existsSync(dir)).toBe(false);
  });

  it('copies any other artifact and leaves it in place', async () => {
    const root = mkdtempSync(join(tmpdir(), 'shiplog-publish-'));
    const { dir } = artifact(root);
    const host = localSiteHost({ dataDir: root, port: 3001 });
    await host.publish({ projectId: 'web', deploymentId: 'd1', artifactDir: dir });
    expectPublished(siteLayout(root).versionDir('web', 'd1'));
    expect(readFileSync(join(dir, 'assets', 'logo.svg'), 'utf8')).toBe('<svg/>');
  });
});
