import { randomBytes } from 'node:crypto';
import {
  EventType, MountPrefix, streams, VersionConflictError, type Actor, type EnvVarRef, type EventData, type EventStore, type Mount, type ProjectSettings, type Repository, type StoredEvent, type Target,
} from '../../events/index.ts';
import { execute, keepRecent, streamStates, type Loaded, type StreamStates } from '../shell/index.ts';
import { decisionOf, ingestDecider, projectEvents, type Decision, type IngestCommand, type PushInput, type SettingsPatch } from './decider.ts';
import { reject } from './errors.ts';
import {
  CreateProjectInput, EnvVarInput, MountInput, parseInput, RollbackInput, SettingsInput, type CreateProjectInput as CreateInput, type EnvVarInput as EnvInput,
  type MountInput as MountIn, type RollbackInput as RollbackIn, type SettingsInput as SettingsIn,
} from './inputs.ts';
import { CredentialName, secretScope, type Clock, type IngestDeps, type Ids } from './ports.ts';
import { repositoryFrom } from './rules.ts';
import { envRefs, type ProjectState } from './state.ts';
import { checkZip, MAX_UPLOAD_BYTES, UploadDeploymentInput, UploadId, UploadRequestInput, type UploadDeploymentInput as UploadIn, type UploadRequestInput as UploadRequestIn } from './upload.ts';

/**
 * The actor of commands that name none: the local runtime's single user.
 *
 * @example
 * await ingest.requestRedeploy(id, localUser);
 */
export const localUser: Actor = { kind: 'user', id: 'local' };

/**
 * A project as the API shows it, folded from its stream (never any secret).
 *
 * @example
 * (await ingest.getProject('web'))?.settings.productionBranch; // 'main'
 */
export interface ProjectView {
  projectId: string;
  name: string;
  repository: Repository;
  settings: ProjectSettings;
  env: (EnvVarRef & { sensitive: boolean })[];
  /** Projects served at path prefixes of this one's domain (multi-zone), by prefix. */
  mounts: Mount[];
  createdAt: string;
  version: number;
  webhookUrl: string;
  /** The shiplog git remote, where this runtime serves one (not on AWS). */
  gitUrl?: string;
}

/**
 * A project's credentials. Returned once, when created or rotated; stored encrypted.
 *
 * @example
 * const { webhookSecret, pushToken } = await ingest.rotateCredentials('web');
 */
export interface Credentials {
  webhookSecret: string;
  pushToken: string;
}

/**
 * What became of a push: a deployment was requested, it was ignored (and why), or the
 * delivery was seen before and nothing new happened.
 *
 * @example
 * if (outcome.status === 'deploying') outcome.deploymentId;
 */
export type PushOutcome =
  | { status: 'deploying'; deliveryId: string; deploymentId: string; target: Target; alias: string; branch: string; sha: string }
  | { status: 'ignored'; deliveryId: string; reason: EventData<'PushIgnored'>['reason']; detail?: string }
  | { status: 'duplicate'; deliveryId: string; deploymentId?: string };

/**
 * The result of running a command: what was decided, the state before and after, and the
 * project events as stored.
 *
 * @example
 * const { decision, after } = await run(projectId, (now, ids) => ({ type: 'SetEnvVar', … }));
 */
export interface RunResult {
  decision: Decision;
  before: ProjectState;
  after: ProjectState;
  stored: StoredEvent[];
}

/**
 * The `DeploymentRequested` of a deployment (the first event of its `deployment#` stream),
 * or a `deployment-not-found` refusal.
 *
 * @example
 * const request = await loadRequest(store, '01JD…');
 */
export const loadRequest = async (store: EventStore, deploymentId: string): Promise<EventData<'DeploymentRequested'>> => {
  const [first] = await store.readStream(streams.deployment(deploymentId));
  if (first?.type !== 'DeploymentRequested') return reject('deployment-not-found', `no deployment ${deploymentId}`);
  return first.data as EventData<'DeploymentRequested'>;
};

/** An endless supply of fresh ids from the port, taken lazily: the decider takes what it needs. */
const idsFrom = (ids: Ids): Iterable<string> => ({
  *[Symbol.iterator]() {
    for (;;) yield ids();
  },
});

/**
 * Runs an ingest command in the shell every service runs in (`execute`): load the project
 * stream, fold, decide, append at the folded version (deciding again once on a version
 * conflict); then append each requested deployment as the first event of its own stream.
 *
 * @example
 * const run = commandRunner({ store, ids, clock });
 * await run('web', (now, ids, state) => ({ type: 'ChangeSettings', projectId: 'web', patch, now, ids, actor }));
 */
export const commandRunner =
  ({ store, ids, clock, states, trustKept = false }: { store: EventStore; ids: Ids; clock: Clock; states?: StreamStates<ProjectState>; trustKept?: boolean }) =>
  async (
    projectId: string,
    command: (now: string, ids: Iterable<string>, state: ProjectState) => IngestCommand,
    /** The project stream's state, loaded by the caller beside other reads: the first decision uses it. */
    loaded?: Loaded<ProjectState>,
  ): Promise<RunResult> => {
    let cmd: IngestCommand | undefined;
    const decide = (state: ProjectState) => (cmd = command(clock().toISOString(), idsFrom(ids), state));
    const run = await execute(store, streams.project(projectId), ingestDecider, decide, projectEvents, { attempts: 2, trustKept, ...(states ? { states } : {}), ...(loaded ? { loaded } : {}) });
    const decision = decisionOf(cmd!, run.before, run.decided);
    // The deployments, once the push that asked for them is recorded.
    await appendDeployments(store, decision);
    return { decision, before: run.before, after: run.state, stored: run.appended };
  };

const appendDeployments = async (store: EventStore, decision: Decision): Promise<void> => {
  for (const request of decision.deployments) {
    const stream = streams.deployment(request.data.deploymentId);
    // A redelivered push re-requests its deployment only when the first attempt never got it stored.
    if (decision.duplicate && (await store.streamVersion(stream)) > 0) continue;
    try {
      await store.append(stream, [request], { expectedVersion: 0 });
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
      // A deployment id is new with the push that asked for it: only a copy of that push (which
      // found it recorded, and stored its deployment first) writes this stream too.
      const [first] = await store.readStream(stream);
      if (first?.type !== EventType.DeploymentRequested) throw err;
    }
  }
};

/**
 * The ingest commands, bound to their ports.
 *
 * @example
 * const ingest = ingestCommands(deps);
 * const { pushToken } = await ingest.createProject({ name: 'web' });
 * await ingest.setEnvVar('web', { name: 'API_KEY', value: 's3cret', target: 'production', sensitive: true });
 */
export const ingestCommands = (deps: IngestDeps) => {
  const { store, secrets, repos } = deps;
  // Project streams grow with every push and request: their folded states are kept, and each
  // command reads only what came after the kept version.
  const states = streamStates(store, ingestDecider);
  const trustKept = deps.soleProjectWriter === true;
  const run = commandRunner({ ...deps, states, trustKept });
  // A deployment's request (the first event of its stream) never changes: kept once read (the last 1,000).
  const requests = new Map<string, EventData<'DeploymentRequested'>>();
  const requestOf = async (deploymentId: string) => {
    const known = requests.get(deploymentId);
    if (known) return known;
    const request = await loadRequest(store, deploymentId);
    keepRecent(requests, deploymentId, request, 1000);
    return request;
  };
  const projectState = async (projectId: string): Promise<ProjectState> => (await states.load(streams.project(projectId))).state;
  const newSecret = deps.newSecret ?? (() => randomBytes(32).toString('base64url'));
  const base = deps.publicUrl.replace(/\/+$/, '');
  const gitRemote = deps.gitRemote ?? true;

  const view = (s: ProjectState): ProjectView | undefined =>
    s.project && {
      ...s.project,
      env: envRefs(s),
      mounts: s.mounts,
      version: s.version,
      webhookUrl: `${base}/webhooks/github/${s.project.projectId}`,
      ...(gitRemote ? { gitUrl: `${base}/git/${s.project.projectId}.git` } : {}),
    };
  const mustView = (s: ProjectState): ProjectView => view(s) ?? reject('project-not-found', 'no such project');

  const credentials = async (projectId: string): Promise<Credentials | undefined> => {
    const scope = secretScope.project(projectId);
    const [webhookSecret, pushToken] = await Promise.all([secrets.get(scope, CredentialName.webhookSecret), secrets.get(scope, CredentialName.pushToken)]);
    return webhookSecret && pushToken ? { webhookSecret: webhookSecret.value, pushToken: pushToken.value } : undefined;
  };

  const remoteUrl = (projectId: string, token: string): string => {
    const url = new URL(`${base}/git/${projectId}.git`);
    url.username = 'shiplog';
    url.password = token;
    return url.toString();
  };

  /** New credentials (version after the current) and the bare repository, if missing. */
  const rotateCredentials = async (projectId: string): Promise<Credentials> => {
    const state = await projectState(projectId);
    const project = state.project ?? reject('project-not-found', `no project "${projectId}"`);
    const scope = secretScope.project(projectId);
    const version = ((await secrets.get(scope, CredentialName.pushToken))?.version ?? 0) + 1;
    const creds = { webhookSecret: newSecret(), pushToken: newSecret() };
    await secrets.put(scope, CredentialName.webhookSecret, version, creds.webhookSecret);
    await secrets.put(scope, CredentialName.pushToken, version, creds.pushToken);
    await repos.create(projectId, project.settings.productionBranch);
    return creds;
  };

  const commands = {
    /** Registers a project; its credentials are generated, stored encrypted and returned once. */
    createProject: async (raw: CreateInput, actor: Actor = localUser) => {
      const input = parseInput(CreateProjectInput, raw, 'project');
      const projectId = input.name;
      const own: Repository = { source: 'git', fullName: projectId, cloneUrl: repos.cloneUrl(projectId) };
      const { installCommand, buildCommand, healthPath } = input;
      const settings: ProjectSettings = {
        productionBranch: input.productionBranch,
        previewBranches: input.previewBranches,
        autoDeploy: input.autoDeploy,
        build: { framework: 'nextjs', rootDirectory: input.rootDir ?? '.', nodeVersion: input.nodeVersion, ...(installCommand ? { installCommand } : {}), ...(buildCommand ? { buildCommand } : {}), ...(healthPath ? { healthPath } : {}) },
      };
      const repository = repositoryFrom(input.repo, own);
      // The append decides who owns the name; only then are credentials written.
      const { after } = await run(projectId, (now, ids) => ({ type: 'CreateProject', projectId, repository, settings, now, ids, actor }));
      const creds = await rotateCredentials(projectId);
      return { project: mustView(after), ...creds, ...(gitRemote ? { gitRemoteUrl: remoteUrl(projectId, creds.pushToken) } : {}) };
    },

    changeSettings: async (projectId: string, raw: SettingsIn, actor: Actor = localUser): Promise<ProjectView> => {
      const { rootDir, nodeVersion, installCommand, buildCommand, healthPath, ...top } = parseInput(SettingsInput, raw, 'settings');
      const build = { rootDirectory: rootDir, nodeVersion, installCommand, buildCommand, healthPath };
      const patch: SettingsPatch = { ...top, build: Object.fromEntries(Object.entries(build).filter(([, v]) => v !== undefined)) };
      return mustView((await run(projectId, (now, ids) => ({ type: 'ChangeSettings', projectId, patch, now, ids, actor }))).after);
    },

    getProject: async (projectId: string): Promise<ProjectView | undefined> => view(await projectState(projectId)),

    /** Records a new version of an env var, then stores its value encrypted; returns the reference. */
    setEnvVar: async (projectId: string, raw: EnvInput, actor: Actor = localUser) => {
      const { name, value, target, sensitive } = parseInput(EnvVarInput, raw, 'env var');
      const { decision } = await run(projectId, (now, ids) => ({ type: 'SetEnvVar', projectId, name, target, sensitive, now, ids, actor }));
      const { version } = decision.project[0]!.data as EventData<'EnvVarSet'>;
      // After the append: the event store decides the version, so no two writers share one.
      await secrets.put(secretScope.env(projectId, target), name, version, value);
      return { name, target, version, sensitive };
    },

    /** Removes an env var from one target, or from every target that has it. Idempotent. */
    removeEnvVar: async (projectId: string, name: string, target?: Target, actor: Actor = localUser): Promise<EnvVarRef[]> => {
      const state = await projectState(projectId);
      const targets = target ? [target] : (['production', 'preview'] as const).filter((t) => [...state.env.values()].some((v) => v.name === name && v.target === t));
      if (targets.length === 0) reject('env-var-not-found', `project "${projectId}" has no env var ${name}`);
      const removed: EnvVarRef[] = [];
      for (const t of targets) {
        const { before } = await run(projectId, (now, ids) => ({ type: 'RemoveEnvVar', projectId, name, target: t, now, ids, actor }));
        const version = [...before.env.values()].find((v) => v.name === name && v.target === t)!.version;
        await secrets.remove(secretScope.env(projectId, t), name, version);
        removed.push({ name, target: t, version });
      }
      return removed;
    },

    /** Serves another project (its production deployment) at a path prefix of this one's domain; answers every mount after. */
    addMount: async (projectId: string, raw: MountIn, actor: Actor = localUser): Promise<{ mounts: Mount[]; changed: boolean }> => {
      const { prefix, project } = parseInput(MountInput, raw, 'mount');
      const exists = project === projectId || (await projectState(project)).project !== undefined;
      const { after, decision } = await run(projectId, (now, ids) => ({ type: 'AddMount', projectId, prefix, mounted: { projectId: project, exists }, now, ids, actor }));
      return { mounts: after.mounts, changed: decision.project.length > 0 };
    },

    /** Stops serving a prefix from another project; the project's own deployment serves it again. */
    removeMount: async (projectId: string, raw: string, actor: Actor = localUser): Promise<{ mounts: Mount[]; removed: Mount }> => {
      const prefix = parseInput(MountPrefix, raw, 'mount prefix');
      const { after, before } = await run(projectId, (now, ids) => ({ type: 'RemoveMount', projectId, prefix, now, ids, actor }));
      return { mounts: after.mounts, removed: before.mounts.find((m) => m.prefix === prefix)! };
    },

    /** The project's mounts, folded from its stream (read-your-writes). */
    listMounts: async (projectId: string): Promise<Mount[]> => {
      const state = await projectState(projectId);
      return state.project ? state.mounts : reject('project-not-found', `no project "${projectId}"`);
    },

    /** Records a push and what it leads to; never waits for a build. */
    receivePush: async (projectId: string, push: PushInput, opts: { actor: Actor; repository?: Repository }): Promise<PushOutcome> => {
      const { decision } = await run(projectId, (now, ids, state) => ({
        type: 'ReceivePush', projectId, push, now, ids, actor: opts.actor,
        repository: opts.repository ?? state.project?.repository ?? { source: 'git', fullName: projectId, cloneUrl: repos.cloneUrl(projectId) },
      }));
      const { deliveryId } = push;
      if (decision.duplicate) return { status: 'duplicate', deliveryId, ...(decision.duplicate.deploymentId ? { deploymentId: decision.duplicate.deploymentId } : {}) };
      const requested = decision.deployments[0]?.data;
      if (requested) {
        const { deploymentId, target, alias, branch, commit } = requested;
        return { status: 'deploying', deliveryId, deploymentId, target, alias, branch, sha: commit.sha };
      }
      const ignored = decision.project.find((e) => e.type === 'PushIgnored')!.data as EventData<'PushIgnored'>;
      return { status: 'ignored', deliveryId, reason: ignored.reason, ...(ignored.detail ? { detail: ignored.detail } : {}) };
    },

    requestRollback: async (projectId: string, raw: RollbackIn & { actor?: Actor }) => {
      const { actor = localUser, ...rest } = raw;
      const input = parseInput(RollbackInput, rest, 'rollback');
      // The target's request and the project stream are read at once (a rollback is waited for);
      // a sole writer decides on the project's kept state, unread, when it has one.
      const stream = streams.project(projectId);
      const [to, loaded] = await Promise.all([
        input.to ? requestOf(input.to) : undefined,
        trustKept && states.peek(stream) ? undefined : states.load(stream),
      ]);
      const alias = input.alias ?? to?.alias ?? 'production';
      const { decision } = await run(projectId, (now, ids) => ({ type: 'RequestRollback', projectId, alias, reason: input.reason ?? '', now, ids, actor, ...(to ? { to } : {}) }), loaded);
      return { eventId: decision.project[0]!.metadata.eventId, alias, ...(to ? { toDeploymentId: to.deploymentId } : {}) };
    },

    /** A production deployment becomes live again, with no rebuild; a preview is refused (`redeploy --prod` builds it). */
    requestPromote: async (deploymentId: string, actor: Actor = localUser, reason?: string) => {
      const source = await requestOf(deploymentId);
      const { decision } = await run(source.projectId, (now, ids) => ({ type: 'RequestPromote', projectId: source.projectId, source, now, ids, actor, ...(reason ? { reason } : {}) }));
      return { kind: 'promote' as const, projectId: source.projectId, deploymentId, eventId: decision.project[0]!.metadata.eventId };
    },

    requestRedeploy: async (deploymentId: string, actor: Actor = localUser, settings: 'current' | 'source' = 'current', target?: 'production') => {
      const source = await requestOf(deploymentId);
      const { decision } = await run(source.projectId, (now, ids) => ({ type: 'RequestRedeploy', projectId: source.projectId, source, settings, now, ids, actor, ...(target ? { target } : {}) }));
      const { data } = decision.deployments[0]!;
      return { projectId: data.projectId, deploymentId: data.deploymentId, sourceDeploymentId: deploymentId, target: data.target, alias: data.alias };
    },

    /**
     * `shiplog deploy`: records an uploaded source (a zip) as a commit of the project's own
     * repository and requests a deployment of it; never waits for the build.
     */
    deployUpload: async (projectId: string, archive: Buffer, raw: UploadIn, actor: Actor = localUser) => {
      const input = parseInput(UploadDeploymentInput, raw, 'deployment');
      if (archive.length === 0 || archive.length > MAX_UPLOAD_BYTES) reject('invalid', `the source archive must hold 1 to ${MAX_UPLOAD_BYTES} bytes`);
      const problem = checkZip(archive);
      if (problem) reject('invalid', `the source archive is not a zip shiplog can build: ${problem}`);
      const project = (await projectState(projectId)).project ?? reject('project-not-found', `no project "${projectId}"`);
      if (!repos.importArchive) return reject('invalid', 'this shiplog takes no uploaded sources yet');
      await repos.create(projectId, project.settings.productionBranch);
      const sha = await repos.importArchive(projectId, archive, { message: input.message, author: actor.id });
      const commit = await repos.readCommit(projectId, sha);
      const repository: Repository = { source: 'git', fullName: projectId, cloneUrl: repos.cloneUrl(projectId) };
      const { target, branch } = input;
      const { decision } = await run(projectId, (now, ids) => ({ type: 'RequestUploadDeployment', projectId, target, commit, repository, now, ids, actor, ...(branch ? { branch } : {}) }));
      const { deploymentId, alias } = decision.deployments[0]!.data;
      return { projectId, deploymentId, target, alias, sha };
    },

    /**
     * `shiplog deploy`'s first step: how to send an archive of `bytes` bytes. Where the API takes
     * no archive in its body (AWS), a URL to PUT it to (presigned) under a fresh upload id that
     * `deployUploaded` takes; elsewhere `inline`: the archive goes in the deployment request.
     */
    requestUpload: async (projectId: string, raw: UploadRequestIn) => {
      const { bytes } = parseInput(UploadRequestInput, raw, 'upload');
      if (!(await projectState(projectId)).project) reject('project-not-found', `no project "${projectId}"`);
      if (!deps.uploads) return { method: 'inline' as const, bytes };
      const uploadId = deps.ids();
      return { method: 'PUT' as const, upload: uploadId, bytes, ...(await deps.uploads.presign(projectId, uploadId, bytes)) };
    },

    /**
     * The deployment of an archive PUT through `requestUpload`: as `deployUpload`, then the upload
     * is forgotten. An archive that is not there yet, or not a zip, is refused and kept.
     */
    deployUploaded: async (projectId: string, upload: string, raw: UploadIn, actor: Actor = localUser) => {
      const uploadId = parseInput(UploadId, upload, 'upload id');
      if (!deps.uploads) return reject('invalid', 'this shiplog takes the archive in the request: POST it (base64) to /api/projects/<project>/deployments');
      const archive = (await deps.uploads.read(projectId, uploadId)) ?? reject('invalid', `nothing was uploaded as ${uploadId} for "${projectId}" (PUT the archive to the URL requestUpload gave first)`);
      const requested = await commands.deployUpload(projectId, archive, raw, actor);
      await deps.uploads.remove(projectId, uploadId);
      return requested;
    },

    rotateCredentials,
    /** The current credentials, for verifying webhooks and git pushes. */
    credentials,
    /** The project's shiplog git remote with its push token embedded (undefined where none is served). */
    gitRemoteUrl: async (projectId: string): Promise<string | undefined> => {
      const creds = (await credentials(projectId)) ?? reject('project-not-found', `no credentials for project "${projectId}"`);
      return gitRemote ? remoteUrl(projectId, creds.pushToken) : undefined;
    },
  };
  return commands;
};

/**
 * The ingest commands object.
 *
 * @example
 * const ingest: Ingest = ingestCommands(deps);
 */
export type Ingest = ReturnType<typeof ingestCommands>;
