import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/**
 * Where a build's package managers keep their downloads, under the build's own HOME (writable in
 * the sandbox): the variables that point npm, pnpm (through the XDG folders), yarn (1 and 2+), bun
 * and corepack there.
 *
 * @example
 * storeEnv('/var/lib/shiplog/builds/01JD…/home/.store').npm_config_cache; // '…/home/.store/npm'
 */
export const storeEnv = (store: string): Record<string, string> => ({
  npm_config_cache: join(store, 'npm'),
  // pnpm's store (`$XDG_DATA_HOME/pnpm/store`, same file system as the checkout: hard links) and metadata cache.
  XDG_DATA_HOME: join(store, 'data'),
  XDG_CACHE_HOME: join(store, 'cache'),
  YARN_CACHE_FOLDER: join(store, 'yarn'),
  YARN_GLOBAL_FOLDER: join(store, 'berry'),
  BUN_INSTALL_CACHE_DIR: join(store, 'bun'),
  COREPACK_HOME: join(store, 'corepack'),
});

/** What the node_modules key covers, wherever it sits in the install directory. */
const keyFiles = new Set([
  'package.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package-lock.json', 'npm-shrinkwrap.json',
  '.npmrc', '.yarnrc.yml', '.yarnrc', 'pnpm-workspace.yaml', '.pnpmfile.cjs',
]);
const skipped = new Set(['node_modules', '.git', '.next', '.open-next']);

// A folder with a BUILD_ID is a Next.js build (a custom distDir): its standalone copy holds a
// package.json and a node_modules the install did not make. Restored as the install's, that
// node_modules made the folder shiplog's and the sandboxed next build could not write it.
const walk = (root: string, onDir: (rel: string, names: string[]) => void, dir = root): void => {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  if (dir !== root && entries.some((e) => e.isFile() && e.name === 'BUILD_ID')) return;
  onDir(relative(root, dir), entries.filter((e) => e.isFile()).map((e) => e.name));
  for (const e of entries) if (e.isDirectory() && !skipped.has(e.name)) walk(root, onDir, join(dir, e.name));
};

/**
 * The key of an install's `node_modules`: the install's shell line, Node's version, the platform
 * and every lockfile, package.json and package-manager config under the install directory
 * (outside `node_modules`). The same key means the same install.
 *
 * @example
 * installKey('/b/src', 'npm ci'); // 'c0ffee…' (32 hex digits)
 */
export const installKey = (installDir: string, installLine: string): string => {
  const hash = createHash('sha256').update(`${installLine}\n${process.version}\n${process.platform}-${process.arch}\n`);
  const files: string[] = [];
  walk(installDir, (rel, names) => {
    for (const n of names) if (keyFiles.has(n)) files.push(join(rel, n));
  });
  for (const f of files.sort()) hash.update(`${f}\0`).update(readFileSync(join(installDir, f))).update('\0');
  return hash.digest('hex').slice(0, 32);
};

/** Every `node_modules` folder of an install directory (the root's and its workspaces'), relative to it. */
const modulesDirs = (installDir: string): string[] => {
  const out: string[] = [];
  walk(installDir, (rel) => {
    if (existsSync(join(installDir, rel, 'node_modules'))) out.push(join(rel, 'node_modules'));
  });
  return out;
};

/** Moves `from` to `to`, replacing what is there; false when `from` is missing. */
const move = async (from: string, to: string): Promise<boolean> => {
  if (!existsSync(from)) return false;
  await mkdir(dirname(to), { recursive: true });
  await rm(to, { recursive: true, force: true });
  await rename(from, to);
  return true;
};

interface ModulesRecord { key: string; dirs: string[] }

/**
 * One project's build cache on this machine, `<root>/<projectId>/`: the package managers' store
 * (`store/`), the `node_modules` of its last install with the key it was made for (`modules/`),
 * and the app's `.next/cache` (`next-cache/`). Entries move (rename, same file system) into a
 * build and back out when it ends, so two concurrent builds of a project never share one: the
 * second simply starts cold. Nothing is shared between projects.
 *
 * @example
 * const cache = projectCache('/var/lib/shiplog/builds/.cache', 'web')!;
 * log(await cache.restoreStore(join(home, '.store')));
 */
export interface ProjectCache {
  /** Moves the store into the build. Returns the log line. */
  restoreStore(store: string): Promise<string>;
  /** Moves the `node_modules` of the last install into `installDir` when `key` matches. */
  restoreModules(installDir: string, key: string): Promise<{ restored: boolean; line: string }>;
  /** Moves `.next/cache` into the app. */
  restoreNextCache(appDir: string): Promise<string>;
  /** Moves what the build leaves (store, node_modules under `key` when given, `.next/cache`) back into the cache. */
  save(parts: { store: string; installDir?: string; key?: string; appDir?: string }): Promise<string>;
}

/**
 * The cache of one project under `root`, or undefined when the project id cannot name a folder.
 *
 * @example
 * projectCache(join(workRoot, '.cache'), job.projectId);
 */
export const projectCache = (root: string, projectId: string): ProjectCache | undefined => {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(projectId)) return undefined;
  const dir = join(root, projectId);
  const modules = join(dir, 'modules');
  const readRecord = async (): Promise<ModulesRecord | undefined> => {
    try {
      return JSON.parse(await readFile(join(modules, 'record.json'), 'utf8')) as ModulesRecord;
    } catch {
      return undefined;
    }
  };
  return {
    restoreStore: async (store) =>
      (await move(join(dir, 'store'), store))
        ? `build cache: package manager store restored (project ${projectId})`
        : `build cache: no package manager store for project ${projectId} yet (its first build, or another build of it holds the store): downloads start cold`,
    restoreModules: async (installDir, key) => {
      const record = await readRecord();
      if (!record) return { restored: false, line: `build cache: no node_modules for project ${projectId} yet: full install` };
      if (record.key !== key) {
        return { restored: false, line: `build cache: node_modules not restored: cached for key ${record.key}, this build is ${key} (lockfile, a package.json, Node or the install command changed): full install` };
      }
      // Taken out of the cache first: a concurrent build of the project finds none rather than half.
      const taken = `${modules}.${process.pid}.${Date.now()}`;
      await rename(modules, taken).catch(() => undefined);
      if (!existsSync(taken)) return { restored: false, line: 'build cache: node_modules held by another build of this project: full install' };
      for (const rel of record.dirs) await move(join(taken, 'tree', rel), join(installDir, rel));
      await rm(taken, { recursive: true, force: true });
      return { restored: true, line: `build cache: node_modules restored (${record.dirs.length} folder${record.dirs.length === 1 ? '' : 's'}, key ${key})` };
    },
    restoreNextCache: async (appDir) =>
      (await move(join(dir, 'next-cache'), join(appDir, '.next', 'cache')))
        ? 'build cache: .next/cache restored'
        : 'build cache: no .next/cache for this project yet',
    save: async ({ store, installDir, key, appDir }) => {
      const saved: string[] = [];
      await mkdir(dir, { recursive: true });
      if (await move(store, join(dir, 'store'))) saved.push('package manager store');
      if (installDir && key) {
        const dirs = modulesDirs(installDir);
        if (dirs.length > 0) {
          const staging = `${modules}.${process.pid}.${Date.now()}`;
          for (const rel of dirs) {
            // Tools' scratch inside node_modules is not part of the install.
            await rm(join(installDir, rel, '.cache'), { recursive: true, force: true });
            await move(join(installDir, rel), join(staging, 'tree', rel));
          }
          await writeFile(join(staging, 'record.json'), JSON.stringify({ key, dirs } satisfies ModulesRecord));
          await move(staging, modules);
          saved.push(`node_modules (key ${key})`);
        }
      }
      if (appDir && (await move(join(appDir, '.next', 'cache'), join(dir, 'next-cache')))) saved.push('.next/cache');
      return saved.length > 0 ? `build cache: saved ${saved.join(', ')} for the next build of ${projectId}` : `build cache: nothing to save for ${projectId}`;
    },
  };
};
