import { lstat, readdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * Whether `path`, with every symlink resolved, is `root` or inside it (false when it does not
 * exist). For paths in a tree user code wrote, before shiplog's own user reads or writes there.
 *
 * @example
 * await insideReal('/builds/01J/src', '/builds/01J/src/app'); // false if app -> /etc
 */
export const insideReal = async (root: string, path: string): Promise<boolean> => {
  try {
    const [r, p] = await Promise.all([realpath(root), realpath(path)]);
    return p === r || p.startsWith(r + sep);
  } catch {
    return false;
  }
};

/**
 * The first symlink in `dir` (relative path) that resolves outside it or nowhere, or
 * `undefined` when every link stays inside. A build's output is copied and served by shiplog's
 * own user, following links: a link to `/…/.shiplog/secrets.key` would publish the key.
 *
 * @example
 * await checkArtifactLinks(artifactDir); // undefined, or 'assets/leak.txt'
 */
export const checkArtifactLinks = async (dir: string): Promise<string | undefined> => {
  const walk = async (d: string): Promise<string | undefined> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isSymbolicLink()) {
        if (!(await insideReal(dir, p))) return relative(dir, p);
      } else if (entry.isDirectory()) {
        const found = await walk(p);
        if (found) return found;
      }
    }
    return undefined;
  };
  if ((await lstat(dir)).isSymbolicLink()) return '.';
  return walk(dir);
};
