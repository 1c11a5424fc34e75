import { z } from 'zod';

/**
 * An ISO 8601 UTC timestamp with a `Z` suffix, the only time format inside event data.
 *
 * @example
 * Timestamp.parse('2026-11-22T10:00:00.000Z');
 */
export const Timestamp = z.iso.datetime();

/**
 * An opaque identifier (deployment, build, subscription, delivery, alarm…). ULIDs in practice,
 * but consumers must not parse them.
 *
 * @example
 * Id.parse('01JD2Z8J6X3Q4R5S6T7V8W9XYZ');
 */
export const Id = z.string().min(1).max(128);

/**
 * A project id: a lowercase slug, also used in URLs and stream ids (`project#web`).
 *
 * @example
 * ProjectId.parse('web');
 */
export const ProjectId = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase slug (a-z, 0-9, -), at most 63 chars');

/**
 * A full git commit sha (SHA-1, or SHA-256 for repositories using it), lowercase hex.
 * The all-zero sha stands for "no commit" (branch created or deleted), as in git.
 *
 * @example
 * Sha.parse('9fceb02d0ae598e95dc970b74767f19372d61af8');
 */
export const Sha = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'must be a full lowercase hex commit sha');

/**
 * Where a deployment goes: `production` (the production alias) or `preview` (a branch alias).
 *
 * @example
 * Target.parse('preview');
 */
export const Target = z.enum(['production', 'preview']);
export type Target = z.infer<typeof Target>;

/**
 * A release alias name, mapped one to one onto a Lambda alias: `production`, or
 * `preview-<branch-slug>` for a branch. Lambda's rule: letters, digits, `-`, `_`, not only digits.
 *
 * @example
 * Alias.parse('production');
 */
export const Alias = z
  .string()
  .regex(/^(?!\d+$)[A-Za-z0-9_-]{1,128}$/, 'must be a Lambda alias name ([A-Za-z0-9_-], not only digits)');

/**
 * A git branch name (without `refs/heads/`).
 *
 * @example
 * Branch.parse('feature/login');
 */
export const Branch = z.string().min(1).max(255);

/**
 * A host name (apex or subdomain), lowercase, no scheme, no port.
 *
 * @example
 * Host.parse('www.example.com');
 */
export const Host = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/, 'must be a lowercase host name');

/**
 * A non-negative duration in milliseconds.
 *
 * @example
 * DurationMs.parse(1250);
 */
export const DurationMs = z.number().int().min(0);

/**
 * The person behind a commit or a push, as git or GitHub reports it.
 *
 * @example
 * GitPerson.parse({ name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' });
 */
export const GitPerson = z.object({
  name: z.string(),
  email: z.string().optional(),
  username: z.string().optional().describe('GitHub login when known'),
});
export type GitPerson = z.infer<typeof GitPerson>;

/**
 * A commit as deployments show it: sha, message and author.
 *
 * @example
 * Commit.parse({ sha: '9fceb02d0ae598e95dc970b74767f19372d61af8', message: 'Fix nav', author: { name: 'Ada' } });
 */
export const Commit = z.object({
  sha: Sha,
  message: z.string().max(4096).describe('Full commit message, truncated to 4096 characters'),
  author: GitPerson,
  timestamp: Timestamp.optional(),
});
export type Commit = z.infer<typeof Commit>;

/**
 * Where a project's code comes from: a GitHub repository (webhook) or shiplog's own git remote.
 *
 * @example
 * Repository.parse({ source: 'github', fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' });
 */
export const Repository = z.object({
  source: z.enum(['github', 'git']),
  fullName: z.string().min(1).describe('owner/name on GitHub, the repository name on the shiplog remote'),
  cloneUrl: z.string().min(1),
});
export type Repository = z.infer<typeof Repository>;

/**
 * An environment variable name, as a shell would accept it.
 *
 * @example
 * EnvVarName.parse('DATABASE_URL');
 */
export const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, 'must be a valid environment variable name');
