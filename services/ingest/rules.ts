import { z } from 'zod';
import type { PushIgnored, PushReceived, ProjectSettings, Repository, Target } from '../../events/index.ts';

/**
 * A project name: a DNS label of 1 to 40 characters (it becomes a host name part and a path
 * segment). The project id is the name.
 *
 * @example
 * ProjectName.parse('web-shop');
 */
export const ProjectName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be a DNS label: 1-40 characters, lowercase a-z, 0-9 and -, not starting or ending with -');

/**
 * Whether a sha is the all-zero "no commit" sha (SHA-1 or SHA-256 length).
 *
 * @example
 * isZeroSha('0000000000000000000000000000000000000000'); // true
 */
export const isZeroSha = (sha: string): boolean => /^0+$/.test(sha);

/**
 * The branch of a ref, or null when the ref is not a branch (a tag, a note).
 *
 * @example
 * branchOf('refs/heads/feature/x'); // 'feature/x'
 */
export const branchOf = (ref: string): string | null => (ref.startsWith('refs/heads/') && ref.length > 11 ? ref.slice(11) : null);

const fnv1a = (s: string): string => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
};

/**
 * The release alias a branch deploys to: `production`, or `preview-<slug>` where the slug is
 * the branch lowercased with every other run of characters turned into `-`. Long branch names
 * are cut and get a short hash, so the alias stays a DNS label.
 *
 * @example
 * aliasFor('preview', 'feature/Login'); // 'preview-feature-login'
 */
export const aliasFor = (target: Target, branch: string): string => {
  if (target === 'production') return 'production';
  const slug = branch.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'branch';
  return slug.length <= 40 ? `preview-${slug}` : `preview-${slug.slice(0, 32).replace(/-+$/, '')}-${fnv1a(branch).slice(0, 6)}`;
};

const SKIP = /\[(?:skip ci|ci skip|no ci|skip deploy|deploy skip)\]/i;

type PushData = Omit<PushReceived['data'], 'projectId'>;
type Ignore = Pick<PushIgnored['data'], 'reason' | 'detail'>;

/**
 * Why a push should not deploy under the project's settings, or undefined when it deploys.
 * `lastOnRef` is the previous push recorded on the same ref: a ref cannot move from `before`
 * to `after` twice in a row, so the same transition again is the same push delivered twice
 * (two webhooks on one repository, or a replayed request).
 *
 * @example
 * ignoreReason(push, settings); // { reason: 'tag' } for refs/tags/v1
 */
export const ignoreReason = (
  push: PushData,
  settings: ProjectSettings,
  lastOnRef?: { before: string; after: string; deliveryId: string },
): Ignore | undefined => {
  if (lastOnRef && lastOnRef.before === push.before && lastOnRef.after === push.after) {
    return { reason: 'duplicate-delivery', detail: `same push (${push.ref} ${push.before.slice(0, 7)}..${push.after.slice(0, 7)}) as delivery ${lastOnRef.deliveryId}` };
  }
  if (push.ref.startsWith('refs/tags/')) return { reason: 'tag', detail: `tag ${push.ref.slice(10)}` };
  if (isZeroSha(push.after)) return { reason: 'branch-deleted', detail: `${push.ref} was deleted` };
  if (push.branch === null) return { reason: 'branch-not-tracked', detail: `${push.ref} is not a branch` };
  if (push.branch !== settings.productionBranch && settings.previewBranches === 'none') {
    return { reason: 'branch-not-tracked', detail: `previews are off; only ${settings.productionBranch} deploys` };
  }
  if (!settings.autoDeploy) return { reason: 'auto-deploy-disabled' };
  const skip = push.headCommit?.message.match(SKIP);
  if (skip) return { reason: 'skip-ci-in-message', detail: `commit message contains ${skip[0]}` };
  return undefined;
};

/**
 * A normalized identity of a git URL: host and path, lowercase, without credentials, port,
 * scheme or `.git`. `https://github.com/Acme/Web.git`, `git@github.com:acme/web` and
 * `ssh://git@github.com/acme/web.git` all give `github.com/acme/web`.
 *
 * @example
 * repositoryKey('git@github.com:Acme/web.git'); // 'github.com/acme/web'
 */
export const repositoryKey = (url: string): string => {
  let s = url.trim().toLowerCase();
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(s);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//.test(s)) s = `${scp[1]}/${scp[2]}`;
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^[^@/]*@/, '').replace(/^([^/:]+):\d+\//, '$1/');
  return s.replace(/\/+$/, '').replace(/\.git$/, '');
};

const GITHUB = /^github\.com\/([^/]+\/[^/]+)$/;

/**
 * The `Repository` a project's `repo` setting describes: a GitHub repository (webhooks), any
 * other git URL or an absolute local path, or, when omitted, shiplog's own git remote.
 *
 * @example
 * repositoryFrom('https://github.com/acme/web', own); // { source: 'github', fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' }
 */
export const repositoryFrom = (repo: string | undefined, ownRemote: Repository): Repository => {
  if (repo === undefined || repo.trim() === '') return ownRemote;
  const raw = repo.trim();
  if (raw.startsWith('/') || raw.startsWith('file://')) {
    const path = raw.replace(/^file:\/\//, '');
    return { source: 'git', fullName: path.replace(/\/+$/, '').split('/').pop()!.replace(/\.git$/, '') || path, cloneUrl: raw };
  }
  const key = repositoryKey(raw);
  const onGithub = GITHUB.test(key);
  if (onGithub || /^[\w.-]+\/[\w.-]+$/.test(raw)) {
    const fullName = onGithub ? rawFullName(raw) : raw.replace(/\.git$/, '');
    return { source: 'github', fullName, cloneUrl: `https://github.com/${fullName}.git` };
  }
  return { source: 'git', fullName: key.split('/').slice(1).join('/') || key, cloneUrl: raw };
};

// Keeps the owner/name casing the user typed (GitHub shows it that way).
const rawFullName = (raw: string): string => {
  const m = /github\.com[:/]+([^/]+\/[^/]+?)(?:\.git)?\/*$/i.exec(raw);
  return m ? m[1]! : repositoryKey(raw).slice('github.com/'.length);
};

/**
 * The identity keys of a project's repository, as `repositoryKey` computes them.
 *
 * @example
 * repositoryKeys({ source: 'github', fullName: 'acme/web', cloneUrl }); // ['github.com/acme/web']
 */
export const repositoryKeys = (r: Repository): string[] =>
  [...new Set([repositoryKey(r.cloneUrl), ...(r.source === 'github' ? [`github.com/${r.fullName.toLowerCase()}`] : [])])];
