import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArtifactLinks, insideReal } from './artifact-links.ts';

// A build's output is written by user code and then copied (links followed) by shiplog's own user.
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-links-'));
  await writeFile(join(root, 'secrets.key'), 'key');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const artifact = async (name: string) => {
  const dir = join(root, name);
  await mkdir(join(dir, 'assets', 'sub'), { recursive: true });
  await writeFile(join(dir, 'assets', 'a.txt'), 'a');
  return dir;
};

describe('checkArtifactLinks', () => {
  it('accepts links that stay inside the artifact', async () => {
    const dir = await artifact('inside');
    await symlink('../a.txt', join(dir, 'assets', 'sub', 'rel.txt'));
    await symlink(join(dir, 'assets'), join(dir, 'abs-inside'));
    expect(await checkArtifactLinks(dir)).toBeUndefined();
  });

  it('names a link out of the artifact, absolute or relative, and a dangling one', async () => {
    const abs = await artifact('absolute');
    await symlink(join(root, 'secrets.key'), join(abs, 'assets', 'sub', 'leak.txt'));
    expect(await checkArtifactLinks(abs)).toBe(join('assets', 'sub', 'leak.txt'));
    const rel = await artifact('relative');
    await symlink('../../secrets.key', join(rel, 'assets', 'leak.txt'));
    expect(await checkArtifactLinks(rel)).toBe(join('assets', 'leak.txt'));
    const dangling = await artifact('dangling');
    await symlink('/nonexistent/later', join(dangling, 'assets', 'later.txt'));
    expect(await checkArtifactLinks(dangling)).toBe(join('assets', 'later.txt'));
  });

  it('tells whether a path resolves inside a root', async () => {
    const dir = await artifact('paths');
    await symlink(root, join(dir, 'up'));
    expect(await insideReal(dir, join(dir, 'assets'))).toBe(true);
    expect(await insideReal(dir, join(dir, 'up'))).toBe(false);
    expect(await insideReal(dir, join(dir, 'missing'))).toBe(false);
  });
});
