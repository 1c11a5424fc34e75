import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve, sep } from 'node:path';
import { Command } from 'commander';
import { api, CliError, output } from '../client.ts';

/** Never uploaded, ignored or not (what `vercel deploy` leaves out too). */
const ALWAYS_LEFT_OUT = /(^|\/)(\.git|node_modules|\.next|\.open-next|\.vercel)(\/|$)/;

const gitOut = (dir: string, args: string[], env: NodeJS.ProcessEnv = process.env): string | undefined => {
  try {
    return execFileSync('git', args, { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
};
const nulList = (out: string) => out.split('\0').filter(Boolean);

/**
 * The files `shiplog deploy` uploads from a directory, relative to it: in a git working copy its
 * tracked files (as they are on disk, deleted ones left out), otherwise every file the
 * directory's `.gitignore` files do not exclude; never `.git`, `node_modules`, `.next`.
 *
 * @example
 * sourceFiles('/work/web'); // ['app/page.tsx', 'package-lock.json', 'package.json', …]
 */
export const sourceFiles = (dir: string): string[] => {
  const tracked = gitOut(dir, ['ls-files', '-z', '--cached']);
  let files: string[];
  if (tracked !== undefined) {
    const deleted = new Set(nulList(gitOut(dir, ['ls-files', '-z', '--deleted']) ?? ''));
    files = nulList(tracked).filter((f) => !deleted.has(f));
  } else {
    // Not a git working copy: git's own reading of the .gitignore files, through a scratch repository.
    const scratch = mkdtempSync(join(tmpdir(), 'shiplog-deploy-'));
    try {
      execFileSync('git', ['init', '--quiet', '--bare', scratch], { stdio: 'ignore' });
      const out = gitOut(dir, ['--git-dir', scratch, '--work-tree', dir, 'ls-files', '-z', '--others', '--exclude-standard']);
      if (out === undefined) throw new CliError(`cannot list the files of ${dir}`);
      files = nulList(out);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return files.filter((f) => !ALWAYS_LEFT_OUT.test(f)).sort();
};

/**
 * A zip of `files` under `dir` (symlinks kept as links), as bytes.
 *
 * @example
 * const zip = zipFiles('/work/web', sourceFiles('/work/web'));
 */
export const zipFiles = (dir: string, files: string[]): Buffer => {
  if (files.length === 0) throw new CliError(`${dir} has no files to deploy`);
  try {
    return execFileSync('zip', ['-q', '-X', '-y', '-@', '-'], { cwd: dir, input: files.join('\n'), maxBuffer: 256 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    throw new CliError(`could not zip ${dir}: ${(err as Error).message.split('\n')[0]} (is \`zip\` installed?)`);
  }
};

/** How the API takes the archive (`POST /api/projects/:p/uploads`). */
type Transport = { method: 'inline' } | { method: 'PUT'; upload: string; url: string; headers: Record<string, string>; expiresAt: string };

/**
 * PUTs the archive to the presigned URL the API gave (S3 on AWS), with exactly the headers signed into it.
 *
 * @example
 * await putArchive({ method: 'PUT', upload, url, headers, expiresAt }, zip);
 */
const putArchive = async (to: Extract<Transport, { method: 'PUT' }>, zip: Buffer): Promise<void> => {
  let res: Response;
  try {
    // fetch sets content-length from the body itself (it is a forbidden header to give).
    const headers = Object.fromEntries(Object.entries(to.headers).filter(([k]) => k.toLowerCase() !== 'content-length'));
    res = await fetch(to.url, { method: 'PUT', headers, body: zip });
  } catch (err) {
    throw new CliError(`could not upload the source to ${new URL(to.url).host}: ${(err as Error).message}`);
  }
  if (!res.ok) {
    const text = (await res.text()).slice(0, 500);
    throw new CliError(`the source upload was refused (${res.status}): ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text}`);
  }
};

interface Requested {
  projectId: string;
  deploymentId: string;
  target: string;
  alias: string;
  sha: string;
}

/**
 * `shiplog deploy [dir] --project <p> [--prod|--preview] [--json]`: uploads the directory's source
 * (see {@link sourceFiles}) and deploys it, a preview unless `--prod`, as `vercel deploy` does.
 * Prints the deployment's id (the object with `--json`); `shiplog deployments wait <id>` follows it.
 */
export const deployCommand = (): Command =>
  new Command('deploy')
    .argument('[dir]', 'the directory to deploy', '.')
    .description("upload a directory's source and deploy it (a preview unless --prod); prints the deployment id")
    .requiredOption('--project <project>', 'the project to deploy to')
    .option('--prod', 'deploy to production')
    .option('--preview', 'deploy a preview (the default)')
    .option('--json', 'print JSON')
    .action(async (dirArg: string, o: { project: string; prod?: boolean; preview?: boolean; json?: boolean }) => {
      if (o.prod && o.preview) throw new CliError('choose --prod or --preview, not both');
      const dir = resolve(dirArg);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${dirArg} is not a directory`);
      const project = encodeURIComponent(o.project);
      // A project in a monorepo builds a folder of its repository: the upload must hold it.
      const settings = (await api<{ settings: { build?: { rootDirectory?: string } } | null }>('GET', `/api/projects/${project}`)).settings;
      // As the buildspec reads it (posix.normalize): `./apps/web/` and `apps/./web` are `apps/web`.
      const rootDir = posix.normalize(settings?.build?.rootDirectory || '.').replace(/\/+$/, '') || '.';
      if (rootDir !== '.' && !existsSync(join(dir, rootDir))) {
        const inside = dir.split(sep).join('/').endsWith(`/${rootDir}`);
        throw new CliError(`project ${o.project} builds ${rootDir}/ of its repository, and ${dirArg} has no ${rootDir}/: deploy the repository's root directory`
          + (inside ? ` (${dir.slice(0, dir.length - rootDir.length - 1) || '/'})` : '') + ', or change the project\'s root directory');
      }
      const files = sourceFiles(dir);
      const zip = zipFiles(dir, files);
      // A preview's alias follows the branch the directory is on, as for a push.
      const branch = o.prod ? undefined : gitOut(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD'])?.trim() || undefined;
      const head = gitOut(dir, ['rev-parse', '--short', 'HEAD'])?.trim();
      // The API says how the archive travels: a presigned PUT to S3 on AWS, in the request locally.
      const how = await api<Transport>('POST', `/api/projects/${project}/uploads`, { bytes: zip.length });
      if (how.method === 'PUT') await putArchive(how, zip);
      const res = await api<Requested>('POST', `/api/projects/${project}/deployments`, {
        ...(how.method === 'PUT' ? { upload: how.upload } : { archive: zip.toString('base64') }),
        target: o.prod ? 'production' : 'preview',
        ...(branch ? { branch } : {}),
        message: `shiplog deploy of ${files.length} files${head ? ` (at ${head}${gitOut(dir, ['status', '--porcelain'])?.trim() ? ', with changes' : ''})` : ''}`,
      });
      if (!o.json) process.stderr.write(`shiplog: deploying ${files.length} files (${zip.length} bytes) to ${res.target} (${res.alias}); follow: shiplog deployments wait ${res.deploymentId}\n`);
      output({ ...res, files: files.length, bytes: zip.length }, o.json, () => res.deploymentId);
    });
