import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, readlink, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { aliasHostLabel } from '../../aliases.ts';
import type { Published, SiteHost } from '../../ports.ts';

const projectIdPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const namePattern = /^[A-Za-z0-9_-]{1,128}$/;
/** Written last into a version directory: its presence means "completely published". */
const markerFile = '.shiplog-version.json';

const check = (what: string, value: string, pattern: RegExp): string => {
  if (!pattern.test(value)) throw new Error(`invalid ${what} "${value}"`);
  return value;
};

/**
 * Where the local site host keeps things, shared with the local router:
 * `<dataDir>/sites/<projectId>/<deploymentId>/` holds a deployment's `.open-next` output, and
 * `<dataDir>/sites/<projectId>/.aliases/<alias>` holds the deployment id an alias points at.
 * Deployment ids and aliases never start with a dot, so neither can shadow the other.
 *
 * @example
 * const layout = siteLayout('.shiplog');
 * layout.versionDir('web', '01JD2Z8J6X3Q4R5S6T7V8W9XYZ'); // '.shiplog/sites/web/01JD2Z8J6X3Q4R5S6T7V8W9XYZ'
 */
export const siteLayout = (dataDir: string) => {
  const projectDir = (projectId: string) => join(dataDir, 'sites', check('projectId', projectId, projectIdPattern));
  const aliasFile = (projectId: string, alias: string) => join(projectDir(projectId), '.aliases', check('alias', alias, namePattern));
  return {
    projectDir,
    versionDir: (projectId: string, deploymentId: string) => join(projectDir(projectId), check('deploymentId', deploymentId, namePattern)),
    aliasFile,
    /**
     * The deployment an alias points at, or undefined. Read synchronously: the file is a few bytes
     * (a read takes tens of microseconds, where an asynchronous one makes four trips through the
     * thread pool, 0.5 ms or more while it is busy), and the router reads it on every request. A
     * shift is a rename, so this is the old target or the new one, never a torn write.
     */
    aliasTarget: (projectId: string, alias: string): string | undefined => {
      try {
        return readFileSync(aliasFile(projectId, alias), 'utf8').trim() || undefined;
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return undefined;
        throw e;
      }
    },
    isPublished: (versionDir: string) => existsSync(join(versionDir, markerFile)),
  };
};

/**
 * Options of {@link localSiteHost}; `port` and `domain` only shape the URLs it reports.
 *
 * @example
 * localSiteHost({ dataDir: '.shiplog', port: 3001 });
 */
export interface LocalSiteHostOptions {
  dataDir: string;
  port: number;
  /** The domain under which the router answers; `localhost` resolves to 127.0.0.1 in browsers. */
  domain?: string;
  /**
   * Artifacts inside this directory (the local runner's `builds/work`) are the build's to give
   * away: removed once published, so no artifact is kept twice.
   */
  removeArtifactsUnder?: string;
}

// The walks below are synchronous: one per publish, over the artifact's 1,000–2,000 entries. On a
// tree of 1,532 entries they took 11.5 ms together, where awaiting each entry's call in turn took 68 ms.
const countFiles = (dir: string): number => {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
};

/** Replaces every absolute symlink under `dir` with a copy of what it points at. */
const dereferenceAbsoluteLinks = async (dir: string): Promise<void> => {
  const links = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isSymbolicLink());
  for (const e of links) {
    const link = join(e.parentPath, e.name);
    const target = await readlink(link);
    if (!isAbsolute(target)) continue;
    await rm(link);
    await cp(target, link, { recursive: true, dereference: true });
  }
};

/**
 * Makes the artifact at `dir` fit to be published where it is, before it is renamed into place:
 * OpenNext's scratch (`skip`) removed, and, as root, every entry given to shiplog's own user, as a
 * copy would be: the build's files belong to the sandbox's user, who must not be able to change a
 * published version. A file with other links (a package store's file) is replaced by a copy of
 * it: its owner is not ours to change, nor its content to share. Safe to run again on the same
 * artifact (a publish retried after a failure).
 */
const adoptTree = (dir: string, skip: string): void => {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const asRoot = uid === 0 && gid !== undefined;
  rmSync(skip, { recursive: true, force: true });
  const walk = (d: string) => {
    if (asRoot) chownSync(d, uid, gid);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) {
        if (asRoot) lchownSync(p, uid, gid);
      } else if (lstatSync(p).nlink > 1) {
        const copy = p + tmpSuffix();
        copyFileSync(p, copy);
        renameSync(copy, p);
      } else if (asRoot) chownSync(p, uid, gid);
    }
  };
  walk(dir);
};

const isErrno = (e: unknown, ...codes: string[]) => e instanceof Error && codes.includes((e as NodeJS.ErrnoException).code ?? '');
const tmpSuffix = () => `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Removes what an interrupted publish or alias shift left behind (`.tmp-*` version dirs and
 * pointer files). Call at start, before anything publishes.
 *
 * @example
 * await sweepInterrupted('.shiplog'); // 1
 */
export const sweepInterrupted = async (dataDir: string): Promise<number> => {
  const sites = join(dataDir, 'sites');
  if (!existsSync(sites)) return 0;
  let removed = 0;
  for (const project of await readdir(sites, { withFileTypes: true })) {
    if (!project.isDirectory()) continue;
    for (const dir of [join(sites, project.name), join(sites, project.name, '.aliases')]) {
      if (!existsSync(dir)) continue;
      for (const name of await readdir(dir)) {
        if (!/\.tmp-\d+-[0-9a-f]+$/.test(name)) continue;
        await rm(join(dir, name), { recursive: true, force: true });
        removed++;
      }
    }
  }
  return removed;
};

/**
 * The site host of the embedded runtime. `publish` copies the artifact into a temporary
 * directory and renames it into place (an artifact the build gives away is made ready where it
 * is and renamed into place itself), so a version directory is either absent or complete;
 * `shiftAlias` replaces the pointer file by rename, so the router reads the old or the new
 * target, never a torn write. The router resolves the alias once per request, which is what
 * makes a shift atomic for requests.
 *
 * Only the version's `cache/` changes after publishing: it is the deployment's own ISR cache
 * (OpenNext's `fs-dev` incremental cache), the local counterpart of the S3 cache prefix.
 *
 * @example
 * const host = localSiteHost({ dataDir: '.shiplog', port: 3001 });
 * await host.publish({ projectId: 'web', deploymentId: d1, artifactDir });
 * await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
 * host.urls({ projectId: 'web', deploymentId: d1 }).production; // 'http://web.localhost:3001'
 * host.urls({ projectId: 'web', deploymentId: d2, alias: 'preview-login' }).alias; // 'http://login--web.localhost:3001'
 */
export const localSiteHost = (opts: LocalSiteHostOptions): SiteHost => {
  const layout = siteLayout(opts.dataDir);
  const domain = opts.domain ?? 'localhost';
  const readMarker = async (dir: string) => JSON.parse(await readFile(join(dir, markerFile), 'utf8')) as Published;
  const consumable = opts.removeArtifactsUnder ? resolve(opts.removeArtifactsUnder) + sep : undefined;
  // Once the version dir is complete the build's copy is garbage (a retried publish finds the
  // version published and never needs it). Its now-empty work dir goes too.
  const dropArtifact = async (artifactDir: string) => {
    const abs = resolve(artifactDir);
    if (!consumable || !abs.startsWith(consumable)) return;
    await rm(abs, { recursive: true, force: true });
    await rmdir(dirname(abs)).catch(() => undefined);
  };

  return {
    async publish({ projectId, deploymentId, artifactDir }) {
      const dir = layout.versionDir(projectId, deploymentId);
      if (layout.isPublished(dir)) {
        await dropArtifact(artifactDir);
        return readMarker(dir);
      }
      if (!existsSync(join(artifactDir, 'open-next.output.json'))) throw new Error(`${artifactDir} is not an OpenNext output (no open-next.output.json)`);
      await mkdir(layout.projectDir(projectId), { recursive: true });
      // `.build` is OpenNext's scratch space. Relative links stay links: a pnpm layout needs
      // them (`node_modules/next` → `.pnpm/…/node_modules/next`, whose own dependencies are
      // its siblings there; a copy in place of the link finds none of them). The runner refused
      // any link leading out of the artifact; an absolute one is replaced by what it points at.
      const skip = join(artifactDir, '.build');
      const complete = async (tree: string): Promise<Published> => {
        await dereferenceAbsoluteLinks(tree);
        const published: Published = { assets: countFiles(join(tree, 'assets')), functionVersion: deploymentId };
        await writeFile(join(tree, markerFile), JSON.stringify(published));
        return published;
      };
      // An artifact the build gives away (removed once published) becomes the version itself:
      // made ours where it is, then renamed into place (about 0.3 s less than linking a small
      // app's 1,300 files into a new tree and removing the old one). Until that rename it stays
      // where the build left it, so a publish that fails or is cut short can run again.
      if (consumable !== undefined && resolve(artifactDir).startsWith(consumable)) {
        try {
          adoptTree(artifactDir, skip);
          const published = await complete(artifactDir);
          await rename(artifactDir, dir);
          await dropArtifact(artifactDir);
          return published;
        } catch (e) {
          // A concurrent publish of the same deployment won: same artifact, same result.
          if (layout.isPublished(dir)) return readMarker(dir);
          // Anything else (the versions on another file system, say): copied below, as any artifact.
          if (!existsSync(join(artifactDir, 'open-next.output.json'))) throw e;
        }
      }
      const tmp = dir + tmpSuffix();
      try {
        await cp(artifactDir, tmp, { recursive: true, verbatimSymlinks: true, filter: (src) => src !== skip });
        const published = await complete(tmp);
        await rename(tmp, dir);
        await dropArtifact(artifactDir);
        return published;
      } catch (e) {
        await rm(tmp, { recursive: true, force: true });
        // A concurrent publish of the same deployment won the rename: same artifact, same result.
        if (isErrno(e, 'EEXIST', 'ENOTEMPTY') && layout.isPublished(dir)) return readMarker(dir);
        throw e;
      }
    },

    async shiftAlias({ projectId, alias, deploymentId }) {
      if (!layout.isPublished(layout.versionDir(projectId, deploymentId))) {
        throw new Error(`cannot point ${projectId}/${alias} at ${deploymentId}: it is not published`);
      }
      // Written and renamed synchronously, as the router reads it: a pointer of a few bytes costs
      // microseconds, where three thread-pool round trips each waited for a turn of an event loop
      // that a rollback's own work (read models, the next request) keeps busy.
      const file = layout.aliasFile(projectId, alias);
      mkdirSync(dirname(file), { recursive: true });
      const tmp = file + tmpSuffix();
      writeFileSync(tmp, `${deploymentId}\n`);
      renameSync(tmp, file);
    },

    async aliasTarget(projectId, alias) {
      return layout.aliasTarget(projectId, alias);
    },

    urls: ({ projectId, deploymentId, alias }) => {
      const production = `http://${projectId}.${domain}:${opts.port}`;
      const label = alias === undefined ? undefined : aliasHostLabel(projectId, alias);
      return {
        deployment: `http://${deploymentId.toLowerCase()}-${projectId}.${domain}:${opts.port}`,
        production,
        ...(alias === 'production' ? { alias: production } : label ? { alias: `http://${label}.${domain}:${opts.port}` } : {}),
      };
    },
  };
};
