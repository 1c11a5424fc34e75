import { z } from 'zod';
import { Alias, Branch, EnvVarName, Id, MountPrefix, Target } from '../../events/index.ts';
import { CommandRejectedError } from './errors.ts';
import { ProjectName } from './rules.ts';

const Command = z.string().min(1).max(1000);
// git check-ref-format's rules for a branch name, so the branch can name a real ref.
const GitBranch = Branch.refine(
  (b) =>
    !/[\s~^:?*[\\]|\.\.|@\{|\/\/|^[-/.]|[/.]$|\.lock$|\/\./.test(b) && b !== '@' && ![...b].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
  'must be a valid git branch name',
);
const NodeVersion = z.enum(['20.x', '22.x']);
// A path (and query) on the deployment itself: what the health gate requests before go-live.
const HealthPath = z.string().max(500).regex(/^\/[\x21-\x7e]*$/, 'must be a path starting with / (no spaces)').refine((p) => !p.startsWith('//'), 'must be a path on the deployment, not another host');
const RootDir = z
  .string()
  .min(1)
  .max(500)
  .refine((d) => !d.startsWith('/') && !d.split('/').includes('..'), 'must be a path inside the repository (relative, without ..)');

/**
 * What `createProject` takes. `repo` is a GitHub URL or `owner/name`, another git URL, or an
 * absolute local path; omitted, the project uses shiplog's own git remote.
 *
 * @example
 * CreateProjectInput.parse({ name: 'web', repo: 'https://github.com/acme/web', buildCommand: 'npm run build' });
 */
export const CreateProjectInput = z.strictObject({
  name: ProjectName,
  repo: z
    .string()
    .min(1)
    .max(1000)
    .refine((r) => !/^(?:\.{1,2}\/|~)/.test(r), 'a local path must be absolute')
    .optional(),
  productionBranch: GitBranch.default('main'),
  previewBranches: z.enum(['all', 'none']).default('all'),
  autoDeploy: z.boolean().default(true),
  installCommand: Command.optional(),
  buildCommand: Command.optional(),
  rootDir: RootDir.optional(),
  nodeVersion: NodeVersion.default('20.x'),
  healthPath: HealthPath.optional(),
});
export type CreateProjectInput = z.input<typeof CreateProjectInput>;

/**
 * What `changeSettings` takes: any subset; `null` clears an install or build command.
 *
 * @example
 * SettingsInput.parse({ productionBranch: 'trunk', buildCommand: null });
 */
export const SettingsInput = z
  .strictObject({
    productionBranch: GitBranch.optional(),
    previewBranches: z.enum(['all', 'none']).optional(),
    autoDeploy: z.boolean().optional(),
    installCommand: Command.nullable().optional(),
    buildCommand: Command.nullable().optional(),
    rootDir: RootDir.optional(),
    nodeVersion: NodeVersion.optional(),
    healthPath: HealthPath.nullable().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'name at least one setting to change');
export type SettingsInput = z.input<typeof SettingsInput>;

/**
 * What `setEnvVar` takes. Values are limited to 64 KiB.
 *
 * @example
 * EnvVarInput.parse({ name: 'API_KEY', value: 'sk_live_…', target: 'production', sensitive: true });
 */
export const EnvVarInput = z.strictObject({
  name: EnvVarName,
  value: z.string().max(64 * 1024),
  target: Target,
  sensitive: z.boolean().default(false),
});
export type EnvVarInput = z.input<typeof EnvVarInput>;

/**
 * What `addMount` takes: the path prefix of the project's domain and the project that serves it
 * (built with that prefix as its `basePath`).
 *
 * @example
 * MountInput.parse({ prefix: '/outreach', project: 'outreach' });
 */
export const MountInput = z.strictObject({ prefix: MountPrefix, project: ProjectName });
export type MountInput = z.input<typeof MountInput>;

/**
 * What `requestRollback` takes besides the actor: the deployment to go back to (default: the
 * one live before the current), the alias (default: that deployment's, else `production`) and why.
 *
 * @example
 * RollbackInput.parse({ to: '01JD…', reason: '500s on /cart' });
 */
export const RollbackInput = z.strictObject({ to: Id.optional(), alias: Alias.optional(), reason: z.string().max(1000).optional() });
export type RollbackInput = z.input<typeof RollbackInput>;

/**
 * What a promote request body may carry.
 *
 * @example
 * PromoteInput.parse({ reason: 'ship it' });
 */
export const PromoteInput = z.strictObject({ reason: z.string().max(1000).optional() });

/**
 * What a redeploy request body may carry: rebuild with the project's `current` settings and env
 * (the default, as after changing an env var) or exactly the `source` deployment's.
 *
 * @example
 * RedeployInput.parse({ settings: 'source' });
 */
export const RedeployInput = z.strictObject({ settings: z.enum(['current', 'source']).default('current'), target: z.literal('production').optional() });

/**
 * Parses command input, turning zod's issues into a readable `invalid` refusal (HTTP 400).
 *
 * @example
 * const input = parseInput(EnvVarInput, body, 'env var');
 */
export const parseInput = <S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> => {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new CommandRejectedError('invalid', `invalid ${what}:\n${z.prettifyError(result.error)}`);
};
