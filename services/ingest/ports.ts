import type { Commit, EnvVarRef, EventStore, Target } from '../../events/index.ts';

/**
 * Fresh ids (ULIDs from a monotonic factory): the shell takes them and hands them to the decider.
 *
 * @example
 * const ids: Ids = monotonicFactory();
 */
export type Ids = () => string;

/**
 * The current time.
 *
 * @example
 * const clock: Clock = () => new Date();
 */
export type Clock = () => Date;

/**
 * A stored secret value and the version it was stored under.
 *
 * @example
 * const { value, version } = (await secrets.get(secretScope.project('web'), 'push-token'))!;
 */
export interface SecretValue {
  value: string;
  version: number;
}

/**
 * Where secret values live, encrypted: env var values (per project and target) and the
 * credentials of each project. Values are addressed by scope, name and version; every version
 * is kept (a deployment resolves exactly the versions it was requested with), and `remove`
 * only takes a name out of `resolveEnv`.
 *
 * @example
 * await secrets.put(secretScope.env('web', 'production'), 'API_KEY', 3, 'sk_live_…');
 * await secrets.resolveEnv('web', 'production'); // { API_KEY: 'sk_live_…' }
 */
export interface SecretStore {
  /** Stores a version (overwrites the same version) and makes it current unless a newer one is. */
  put(scope: string, name: string, version: number, value: string): Promise<void>;
  /** One version, or the current one when `version` is omitted; undefined when absent or removed. */
  get(scope: string, name: string, version?: number): Promise<SecretValue | undefined>;
  /** Takes `name` out of the current set when `version` is still its current version. */
  remove(scope: string, name: string, version: number): Promise<void>;
  /** The current env of a project's target, for builds and runtimes. */
  resolveEnv(projectId: string, target: Target): Promise<Record<string, string>>;
  /** Exactly the versions a deployment was requested with; throws `SecretMissingError` for any it lacks. */
  resolveRefs(projectId: string, refs: readonly EnvVarRef[]): Promise<Record<string, string>>;
}

/**
 * The secret scopes: env vars per project and target, credentials per project.
 *
 * @example
 * secretScope.env('web', 'preview'); // 'env#web#preview'
 */
export const secretScope = {
  env: (projectId: string, target: Target): string => `env#${projectId}#${target}`,
  project: (projectId: string): string => `project#${projectId}`,
} as const;

/**
 * The names of a project's credentials in its `secretScope.project` scope.
 *
 * @example
 * await secrets.get(secretScope.project('web'), CredentialName.webhookSecret);
 */
export const CredentialName = { webhookSecret: 'webhook-secret', pushToken: 'push-token' } as const;

/**
 * The git repositories shiplog hosts itself (one bare repository per project).
 *
 * @example
 * await repos.create('web', 'main');
 * const commit = await repos.readCommit('web', sha);
 */
export interface GitRepos {
  /** Creates the project's repository if it does not exist; HEAD points at `defaultBranch`. */
  create(projectId: string, defaultBranch: string): Promise<void>;
  exists(projectId: string): Promise<boolean>;
  /** The sha a ref points at, or null when the ref does not exist. */
  resolveRef(projectId: string, ref: string): Promise<string | null>;
  /** Message (truncated to 4096 characters), author and author time of a commit. */
  readCommit(projectId: string, sha: string): Promise<Commit>;
  /** Whether `ancestor` is reachable from `descendant` (false when either is missing). */
  isAncestor(projectId: string, ancestor: string, descendant: string): Promise<boolean>;
  /** Where builds clone the repository from (no credentials in it: it goes into events). */
  cloneUrl(projectId: string): string;
  /**
   * Records an uploaded source (a zip of the files, `shiplog deploy`) as a commit of the project's
   * repository, on no branch (`refs/shiplog/uploads/<sha>`), and returns its sha. Absent where the
   * runtime keeps no repositories.
   */
  importArchive?(projectId: string, zip: Buffer, meta: { message: string; author: string }): Promise<string>;
}

/**
 * Where `shiplog deploy` puts a source archive on a runtime whose API cannot take it in a request
 * body (AWS: API Gateway takes 10 MB, Lambda 6 MB): the client PUTs the archive to a presigned
 * URL of object storage, then asks for its deployment by upload id.
 *
 * @example
 * const { url, headers } = await uploads.presign('web', uploadId, zip.length);
 * // the client: await fetch(url, { method: 'PUT', headers, body: zip });
 * const zip = await uploads.read('web', uploadId); // Buffer, or undefined when nothing was PUT
 */
export interface SourceUploads {
  /** Where to PUT an archive of exactly `bytes` bytes, and the headers to send with it; valid until `expiresAt`. */
  presign(projectId: string, uploadId: string, bytes: number): Promise<{ url: string; headers: Record<string, string>; expiresAt: string }>;
  /** The archive PUT under `uploadId`, or undefined when none was. */
  read(projectId: string, uploadId: string): Promise<Buffer | undefined>;
  /** Forgets an upload once its deployment is requested (idempotent). */
  remove(projectId: string, uploadId: string): Promise<void>;
}

/**
 * Finds the projects that track a repository, for webhooks that do not name their project.
 *
 * @example
 * await finder.findByRepository(['github.com/acme/web']); // ['web', 'web-docs']
 */
export interface ProjectFinder {
  findByRepository(keys: readonly string[]): Promise<string[]>;
}

/**
 * Everything the ingest commands need.
 *
 * @example
 * const deps: IngestDeps = { store, secrets, repos, finder, ids: monotonicFactory(), clock: () => new Date(), publicUrl: 'http://localhost:3000' };
 */
export interface IngestDeps {
  store: EventStore;
  secrets: SecretStore;
  repos: GitRepos;
  finder: ProjectFinder;
  ids: Ids;
  clock: Clock;
  /** The base URL of the API server, for webhook URLs and git remote URLs. */
  publicUrl: string;
  /** Generates a webhook secret or push token (default: 32 random bytes, base64url). */
  newSecret?: () => string;
  /** Presigned uploads for `shiplog deploy` (AWS); without them an archive comes in the request body. */
  uploads?: SourceUploads;
  /** Whether this runtime serves the shiplog git remote (`/git/<project>.git`); default true. */
  gitRemote?: boolean;
  /**
   * This process makes (almost) every append to project streams (the local runtime, where one
   * `shiplog dev` owns its data dir): a command decides on the project's kept state without
   * reading the stream's tail first. The append's expected version still catches any other
   * writer (then the command reads and decides again), and a command that would append nothing,
   * or is refused, on the kept state is decided again on a fresh read. Off (AWS: many Lambdas),
   * every command reads the tail first.
   */
  soleProjectWriter?: boolean;
}
