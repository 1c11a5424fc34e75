import { z } from 'zod';
import { Sha } from '../../events/index.ts';
import type { PushInput } from './decider.ts';
import { branchOf, repositoryKey } from './rules.ts';

const Person = z.object({ name: z.string(), email: z.string().nullish(), username: z.string().nullish() });

/**
 * The parts of a GitHub `push` webhook payload shiplog reads (the rest is ignored).
 *
 * @example
 * GithubPushPayload.parse(JSON.parse(body));
 */
export const GithubPushPayload = z.object({
  ref: z.string().min(1),
  before: Sha,
  after: Sha,
  forced: z.boolean().default(false),
  repository: z.object({
    full_name: z.string().min(1),
    clone_url: z.string().optional(),
    html_url: z.string().optional(),
    ssh_url: z.string().optional(),
    git_url: z.string().optional(),
  }),
  pusher: Person,
  sender: z.object({ login: z.string() }).nullish(),
  head_commit: z.object({ id: Sha, message: z.string(), timestamp: z.string().optional(), author: Person }).nullish(),
});
export type GithubPushPayload = z.infer<typeof GithubPushPayload>;

/**
 * The repository keys of a webhook payload's repository, to find the projects tracking it.
 *
 * @example
 * payloadRepositoryKeys(payload); // ['github.com/codertocat/hello-world']
 */
export const payloadRepositoryKeys = (repository: { full_name?: unknown; clone_url?: unknown; html_url?: unknown; ssh_url?: unknown; git_url?: unknown }): string[] => {
  const urls = [repository.clone_url, repository.html_url, repository.ssh_url, repository.git_url].filter((u): u is string => typeof u === 'string' && u.length > 0);
  const keys = urls.map(repositoryKey);
  if (typeof repository.full_name === 'string' && keys.length === 0) keys.push(`github.com/${repository.full_name.toLowerCase()}`);
  return [...new Set(keys)];
};

const person = (p: z.infer<typeof Person>, login?: string | null) => ({
  name: p.name,
  ...(p.email ? { email: p.email } : {}),
  ...((p.username ?? login) ? { username: (p.username ?? login)! } : {}),
});

const isoOrUndefined = (t: string | undefined): string | undefined => {
  const ms = t ? Date.parse(t) : Number.NaN;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};

/**
 * A GitHub push payload as the push the decider takes. GitHub's commit timestamps carry the
 * committer's offset; events hold UTC.
 *
 * @example
 * const push = pushFromGithub(payload, req.headers['x-github-delivery']);
 */
export const pushFromGithub = (p: GithubPushPayload, deliveryId: string): PushInput => {
  const timestamp = isoOrUndefined(p.head_commit?.timestamp);
  return {
    deliveryId,
    source: 'github',
    repository: p.repository.full_name,
    ref: p.ref,
    branch: branchOf(p.ref),
    before: p.before,
    after: p.after,
    headCommit: p.head_commit
      ? { sha: p.head_commit.id, message: p.head_commit.message.slice(0, 4096), author: person(p.head_commit.author), ...(timestamp ? { timestamp } : {}) }
      : null,
    pusher: person(p.pusher, p.sender?.login),
    forced: p.forced,
  };
};
