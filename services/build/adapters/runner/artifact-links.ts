import { readdirSync, realpathSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * Whether path `p` is `root` or below it, as written (no link resolved).
 *
 * @example
 * isInside('/builds/01J/src', '/builds/01J/src/app'); // true
 * isInside('/builds/01J/src', '/builds/01J/src2'); // false
 */
export const isInside = (root: string, p: string): boolean => p === root || p.startsWith(root + sep);

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
    return isInside(r, p);
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
  if ((await lstat(dir)).isSymbolicLink()) return '.';
  // Synchronous on purpose, like the site host's walks of the same tree: one walk per build over
  // 1,000–2,000 entries, where an awaited readdir per folder and realpath per link waited for the
  // thread pool and the event loop at each step (15–30 ms of a warm push's package step).
  const root = realpathSync(dir);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isSymbolicLink()) continue;
    const p = join(entry.parentPath, entry.name);
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      return relative(dir, p);
    }
    if (!isInside(root, real)) return relative(dir, p);
  }
  return undefined;
};
