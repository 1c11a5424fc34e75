import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Commit } from '../../../../events/index.ts';
import type { GitRepos } from '../../ports.ts';
import { ProjectName } from '../../rules.ts';

const exec = promisify(execFile);

/**
 * Runs git with a fixed environment (no user hooks or config can redirect it) and returns stdout.
 *
 * @example
 * await git(['--git-dir', path, 'rev-parse', 'HEAD']);
 */
export const git = async (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> => {
  const { stdout } = await exec('git', args, {
    cwd: opts.cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C', ...opts.env },
  });
  return stdout;
};

/**
 * The shiplog git remote's repositories on disk, one bare repository per project under `root`
 * (`<dataDir>/git/<project>.git`), with `http.receivepack` on for smart HTTP pushes.
 *
 * @example
 * const repos = localGitRepos({ root: join(dataDir, 'git') });
 * await repos.create('web', 'main');
 */
export const localGitRepos = ({ root }: { root: string }): GitRepos & { root: string; pathOf(projectId: string): string } => {
  const pathOf = (projectId: string): string => {
    // The id becomes a path: only a valid project name may.
    if (!ProjectName.safeParse(projectId).success) throw new Error(`not a project name: ${JSON.stringify(projectId)}`);
    return join(root, `${projectId}.git`);
  };
  const exists = async (projectId: string): Promise<boolean> => {
    try {
      await access(join(pathOf(projectId), 'HEAD'));
      return true;
    } catch {
      return false;
    }
  };
  const inRepo = (projectId: string, args: string[]) => git(['--git-dir', pathOf(projectId), ...args]);

  return {
    root,
    pathOf,
    exists,
    cloneUrl: pathOf,
    create: async (projectId, defaultBranch) => {
      if (await exists(projectId)) return;
      await mkdir(root, { recursive: true });
      await git(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, pathOf(projectId)]);
      await inRepo(projectId, ['config', 'http.receivepack', 'true']);
    },
    resolveRef: async (projectId, ref) => {
      try {
        return (await inRepo(projectId, ['rev-parse', '--verify', '--quiet', '--end-of-options', ref])).trim() || null;
      } catch {
        return null;
      }
    },
    readCommit: async (projectId, sha): Promise<Commit> => {
      const out = await inRepo(projectId, ['log', '-1', '--format=%an%x00%ae%x00%aI%x00%B', '--end-of-options', sha]);
      const [name = '', email = '', date = '', ...body] = out.split('\0');
      return {
        sha,
        message: body.join('\0').replace(/\s+$/, '').slice(0, 4096),
        author: { name, ...(email ? { email } : {}) },
        ...(date ? { timestamp: new Date(date).toISOString() } : {}),
      };
    },
    importArchive: async (projectId, zip, meta) => {
      const tmp = await mkdtemp(join(tmpdir(), 'shiplog-upload-'));
      try {
        const tree = join(tmp, 'tree');
        await mkdir(tree);
        await writeFile(join(tmp, 'source.zip'), zip);
        // unzip drops `..` components and absolute paths: nothing lands outside `tree`.
        await exec('unzip', ['-qq', join(tmp, 'source.zip'), '-d', tree], { maxBuffer: 16 * 1024 * 1024 });
        // A scratch index: the upload never touches the repository's branches or its own index.
        const who = { GIT_AUTHOR_NAME: meta.author, GIT_AUTHOR_EMAIL: 'deploy@shiplog', GIT_COMMITTER_NAME: 'shiplog', GIT_COMMITTER_EMAIL: 'deploy@shiplog' };
        const env = { GIT_INDEX_FILE: join(tmp, 'index'), GIT_WORK_TREE: tree, ...who };
        // Every file of the archive, .gitignore'd or not: the client already chose them.
        await git(['--git-dir', pathOf(projectId), 'add', '--all', '--force', '.'], { cwd: tree, env });
        const treeSha = (await git(['--git-dir', pathOf(projectId), 'write-tree'], { env })).trim();
        const sha = (await git(['--git-dir', pathOf(projectId), 'commit-tree', treeSha, '-m', meta.message], { env })).trim();
        await inRepo(projectId, ['update-ref', `refs/shiplog/uploads/${sha}`, sha]);
        return sha;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
    isAncestor: async (projectId, ancestor, descendant) => {
      try {
        await inRepo(projectId, ['merge-base', '--is-ancestor', ancestor, descendant]);
        return true;
      } catch {
        return false;
      }
    },
  };
};
