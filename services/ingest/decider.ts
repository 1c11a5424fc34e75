import { MountPrefix, type Actor, type EventData, type IngestEvent, type NewEvent, type ProjectSettings, type Repository, type Target } from '../../events/index.ts';
import type { Decider } from '../shell/index.ts';
import { reject } from './errors.ts';
import { MAX_MOUNTS, overlappingMount, sortMounts } from './mounts.ts';
import { aliasFor, ignoreReason, isZeroSha, ProjectName } from './rules.ts';
import { activeEnv, envKey, evolve, initialState, type ProjectState, type PushRecord } from './state.ts';

type IngestType = IngestEvent['type'];
/**
 * An ingest event ready to append: type, data and metadata.
 *
 * @example
 * await store.append(streams.project('web'), decision.project satisfies IngestNewEvent[], { expectedVersion });
 */
export type IngestNewEvent = { [T in IngestType]: NewEvent<T, EventData<T>> }[IngestType];
type Requested = EventData<'DeploymentRequested'>;
type RequestData = Omit<Requested, 'projectId' | 'deploymentId' | 'requestedBy' | 'requestedAt'>;

/**
 * A change to a project's settings; `null` clears an optional build command.
 *
 * @example
 * const patch: SettingsPatch = { productionBranch: 'trunk', build: { buildCommand: null } };
 */
export interface SettingsPatch {
  productionBranch?: string;
  previewBranches?: 'all' | 'none';
  autoDeploy?: boolean;
  build?: { rootDirectory?: string; nodeVersion?: '20.x' | '22.x'; installCommand?: string | null; buildCommand?: string | null; healthPath?: string | null };
}

/**
 * A push as a webhook or the git remote reports it (the `PushReceived` data without the project).
 *
 * @example
 * const push: PushInput = pushFromGithub(payload, deliveryId);
 */
export type PushInput = Omit<EventData<'PushReceived'>, 'projectId'>;

/**
 * What the ingest service can be asked. Every command carries the time and fresh ids (`ids`,
 * taken in order, as many as the decision needs: a list in tests, the shell's lazy supply
 * from the `Ids` port in the service) so the decider needs neither a clock nor randomness.
 *
 * @example
 * decide({ type: 'SetEnvVar', projectId: 'web', name: 'API_KEY', target: 'production', sensitive: true, now, ids, actor }, state);
 */
export type IngestCommand = { projectId: string; now: string; ids: Iterable<string>; actor: Actor } & (
  | { type: 'CreateProject'; repository: Repository; settings: ProjectSettings }
  | { type: 'ChangeSettings'; patch: SettingsPatch }
  | { type: 'SetEnvVar'; name: string; target: Target; sensitive: boolean }
  | { type: 'RemoveEnvVar'; name: string; target: Target }
  | { type: 'AddMount'; prefix: string; mounted: { projectId: string; exists: boolean } }
  | { type: 'RemoveMount'; prefix: string }
  | { type: 'ReceivePush'; push: PushInput; repository: Repository }
  | { type: 'RequestRollback'; alias: string; to?: Requested; reason: string }
  | { type: 'RequestPromote'; source: Requested; reason?: string }
  | { type: 'RequestRedeploy'; source: Requested; settings: 'current' | 'source'; target?: 'production' }
  | { type: 'RequestUploadDeployment'; target: Target; branch?: string; commit: EventData<'DeploymentRequested'>['commit']; repository: Repository }
);

/**
 * What a command decided, split by stream: events for the project stream (appended at the
 * folded version) and `DeploymentRequested` events, each the first of its own
 * `deployment#<id>` stream. `duplicate` is set when a push delivery was seen before;
 * `deployments` then re-requests the deployment it made, with the same id, in case that
 * append was lost.
 *
 * @example
 * const { project, deployments } = decisionOf(cmd, state, decide(cmd, state));
 */
export interface Decision {
  project: IngestNewEvent[];
  deployments: RequestedEvent[];
  duplicate?: PushRecord;
}

const idSupply = (ids: Iterable<string>) => {
  const it = ids[Symbol.iterator]();
  let taken = 0;
  return (): string => {
    const next = it.next();
    if (next.done) throw new Error(`the command carries ${taken} ids; the decider needs more`);
    taken++;
    return next.value;
  };
};

const existing = (s: ProjectState, projectId: string) => s.project ?? reject('project-not-found', `no project "${projectId}"`);

const ownedBy = (d: Requested, projectId: string): Requested =>
  d.projectId === projectId ? d : reject('deployment-not-found', `deployment ${d.deploymentId} is not a deployment of project "${projectId}"`);

const changedFields = (a: ProjectSettings, b: ProjectSettings): EventData<'ProjectSettingsChanged'>['changed'] =>
  (['productionBranch', 'previewBranches', 'autoDeploy', 'build'] as const).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));

const applyPatch = (s: ProjectSettings, p: SettingsPatch): ProjectSettings => {
  const build = { ...s.build };
  for (const [k, v] of Object.entries(p.build ?? {}) as [keyof typeof build, string | null | undefined][]) {
    if (v === null) delete build[k];
    else if (v !== undefined) Object.assign(build, { [k]: v });
  }
  return {
    productionBranch: p.productionBranch ?? s.productionBranch,
    previewBranches: p.previewBranches ?? s.previewBranches,
    autoDeploy: p.autoDeploy ?? s.autoDeploy,
    build,
  };
};

type Cmd<T extends IngestCommand['type']> = Extract<IngestCommand, { type: T }>;

interface Tools {
  nextId: () => string;
  meta: (m?: { correlationId?: string; causationId?: string | null; deploymentId?: string }) => IngestNewEvent['metadata'];
  request: (data: RequestData, deploymentId: string, causationId?: string | null, requestedAt?: string) => RequestedEvent;
}
type RequestedEvent = NewEvent<'DeploymentRequested', Requested>;

const tools = (cmd: IngestCommand): Tools => {
  const nextId = idSupply(cmd.ids);
  const { projectId, now: occurredAt, actor } = cmd;
  const meta: Tools['meta'] = (m = {}) => {
    const eventId = nextId();
    const { deploymentId, correlationId = deploymentId ?? eventId, causationId = null } = m;
    return { eventId, occurredAt, correlationId, causationId, projectId, actor, ...(deploymentId ? { deploymentId } : {}) };
  };
  const request: Tools['request'] = (data, deploymentId, causationId = null, requestedAt = occurredAt) => ({
    type: 'DeploymentRequested',
    data: { projectId, deploymentId, ...data, requestedBy: actor, requestedAt },
    metadata: meta({ deploymentId, causationId }),
  });
  return { nextId, meta, request };
};

const createProject = (cmd: Cmd<'CreateProject'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId } = cmd;
  const valid = ProjectName.safeParse(projectId);
  if (!valid.success) reject('invalid', `project name "${projectId}" ${valid.error.issues[0]?.message}`);
  if (s.project) reject('project-exists', `project "${projectId}" already exists: choose another name`);
  return [{ type: 'ProjectCreated', data: { projectId, name: projectId, repository: cmd.repository, settings: cmd.settings }, metadata: t.meta() }];
};

const changeSettings = (cmd: Cmd<'ChangeSettings'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId } = cmd;
  const p = existing(s, projectId);
  const settings = applyPatch(p.settings, cmd.patch);
  const changed = changedFields(p.settings, settings);
  if (changed.length === 0) return [];
  return [{ type: 'ProjectSettingsChanged', data: { projectId, settings, changed }, metadata: t.meta() }];
};

const setEnvVar = (cmd: Cmd<'SetEnvVar'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId } = cmd;
  existing(s, projectId);
  const version = (s.env.get(envKey(cmd.target, cmd.name))?.version ?? 0) + 1;
  const data = { projectId, name: cmd.name, target: cmd.target, version, sensitive: cmd.sensitive };
  return [{ type: 'EnvVarSet', data, metadata: t.meta() }];
};

const removeEnvVar = (cmd: Cmd<'RemoveEnvVar'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId } = cmd;
  existing(s, projectId);
  const v = s.env.get(envKey(cmd.target, cmd.name));
  if (!v) return reject('env-var-not-found', `project "${projectId}" has no ${cmd.target} env var ${cmd.name}`);
  if (!v.active) return [];
  return [{ type: 'EnvVarRemoved', data: { projectId, name: cmd.name, target: cmd.target, version: v.version }, metadata: t.meta() }];
};

// Multi-zone: another project serves a path prefix of this one's domain. The mounted project's
// existence is a fact the caller reads from its stream (`mounted.exists`).
const addMount = (cmd: Cmd<'AddMount'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId, prefix, mounted } = cmd;
  existing(s, projectId);
  const valid = MountPrefix.safeParse(prefix);
  if (!valid.success) reject('invalid', `mount prefix "${prefix}" ${valid.error.issues[0]?.message}`);
  if (mounted.projectId === projectId) reject('invalid', `project "${projectId}" cannot mount itself`);
  if (!mounted.exists) reject('project-not-found', `no project "${mounted.projectId}" to mount`);
  const same = s.mounts.find((m) => m.prefix === prefix);
  if (same?.project === mounted.projectId) return [];
  const clash = overlappingMount(s.mounts, prefix);
  if (clash) reject('mount-conflict', `${prefix} overlaps ${clash.prefix}, where "${projectId}" already mounts "${clash.project}": remove that mount first`);
  if (s.mounts.length >= MAX_MOUNTS) reject('invalid', `project "${projectId}" has ${MAX_MOUNTS} mounts, the most it may have`);
  const change = { prefix, project: mounted.projectId };
  const data = { projectId, mounts: sortMounts([...s.mounts, change]), change: { op: 'add' as const, ...change } };
  return [{ type: 'ProjectMountsChanged', data, metadata: t.meta() }];
};

const removeMount = (cmd: Cmd<'RemoveMount'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId, prefix } = cmd;
  existing(s, projectId);
  const mount = s.mounts.find((m) => m.prefix === prefix) ?? reject('mount-not-found', `project "${projectId}" mounts nothing at ${prefix}`);
  const data = { projectId, mounts: s.mounts.filter((m) => m !== mount), change: { op: 'remove' as const, ...mount } };
  return [{ type: 'ProjectMountsChanged', data, metadata: t.meta() }];
};

const requestRollback = (cmd: Cmd<'RequestRollback'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId } = cmd;
  existing(s, projectId);
  const toDeploymentId = cmd.to && ownedBy(cmd.to, projectId).deploymentId;
  const data = { projectId, alias: cmd.alias, reason: cmd.reason, requestedBy: cmd.actor, ...(toDeploymentId ? { toDeploymentId } : {}) };
  return [{ type: 'RollbackRequested', data, metadata: t.meta() }];
};

const requestPromote = (cmd: Cmd<'RequestPromote'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const { projectId } = cmd;
  existing(s, projectId);
  const src = ownedBy(cmd.source, projectId);
  // Promote only moves the production alias; it never rebuilds. A preview was built with the
  // preview env, so serving it as production would be wrong: rebuilding it is a redeploy.
  if (src.target !== 'production') {
    reject('not-promotable', `deployment ${src.deploymentId} was built for ${src.target}; promote never rebuilds: use \`shiplog redeploy ${src.deploymentId} --prod\` to build it for production`);
  }
  const data = { projectId, deploymentId: src.deploymentId, alias: 'production', requestedBy: cmd.actor, ...(cmd.reason ? { reason: cmd.reason } : {}) };
  return [{ type: 'PromoteRequested', data, metadata: t.meta({ deploymentId: src.deploymentId }) }];
};

const requestRedeploy = (cmd: Cmd<'RequestRedeploy'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const p = existing(s, cmd.projectId);
  const src = ownedBy(cmd.source, cmd.projectId);
  const asBefore = cmd.settings === 'source';
  const { branch, commit, repository } = src;
  // `--prod` builds the source's commit for production (what promoting a preview used to do).
  const forProduction = cmd.target === 'production' && src.target !== 'production';
  const target = forProduction ? 'production' : src.target;
  const alias = forProduction ? 'production' : src.alias;
  const buildSettings = asBefore ? src.buildSettings : p.settings.build;
  const env = asBefore && !forProduction ? src.env : activeEnv(s, target);
  return [t.request({ target, alias, trigger: 'redeploy', branch, commit, repository, buildSettings, env, sourceDeploymentId: src.deploymentId }, t.nextId())];
};

// `shiplog deploy`: an uploaded source, recorded as a commit of the project's own repository, is
// requested like a push (trigger `manual`): production on the production branch, a preview on the
// branch the client names (default `upload`). Nothing goes to the project stream.
const requestUploadDeployment = (cmd: Cmd<'RequestUploadDeployment'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const p = existing(s, cmd.projectId);
  const branch = cmd.target === 'production' ? p.settings.productionBranch : (cmd.branch ?? 'upload');
  const { commit, repository, target } = cmd;
  return [t.request({ target, alias: aliasFor(target, branch), trigger: 'manual', branch, commit, repository, buildSettings: p.settings.build, env: activeEnv(s, target) }, t.nextId())];
};

// PushReceived, then DeploymentRequested (its own stream) or PushIgnored. The deployment id is
// decided first and recorded on the PushReceived, so a redelivery can re-request it.
const receivePush = (cmd: Cmd<'ReceivePush'>, s: ProjectState, t: Tools): IngestNewEvent[] => {
  const p = existing(s, cmd.projectId);
  const { push, projectId } = cmd;
  const seen = s.pushes.get(push.deliveryId);
  if (seen) {
    return seen.deploymentId ? [t.request(requestFor(seen.data, p.settings, cmd.repository, s), seen.deploymentId, seen.eventId, seen.occurredAt)] : [];
  }
  const correlationId = push.deliveryId;
  const ignored = ignoreReason(push, p.settings, s.lastPushByRef.get(push.ref));
  if (ignored) {
    const received = { type: 'PushReceived' as const, data: { projectId, ...push }, metadata: t.meta({ correlationId }) };
    const sha = isZeroSha(push.after) ? push.before : push.after;
    const data = { projectId, deliveryId: push.deliveryId, ref: push.ref, sha, ...ignored };
    return [received, { type: 'PushIgnored', data, metadata: t.meta({ correlationId, causationId: received.metadata.eventId }) }];
  }
  const deploymentId = t.nextId();
  const received = { type: 'PushReceived' as const, data: { projectId, ...push }, metadata: t.meta({ correlationId, deploymentId }) };
  return [received, t.request(requestFor(push, p.settings, cmd.repository, s), deploymentId, received.metadata.eventId)];
};

const requestFor = (push: PushInput, settings: ProjectSettings, repository: Repository, s: ProjectState): RequestData => {
  const branch = push.branch ?? reject('invalid', `${push.ref} is not a branch`);
  const target: Target = branch === settings.productionBranch ? 'production' : 'preview';
  const commit = push.headCommit ?? { sha: push.after, message: '', author: push.pusher };
  const env = activeEnv(s, target);
  return { target, alias: aliasFor(target, branch), trigger: 'push', branch, commit, repository, buildSettings: settings.build, env, pushDeliveryId: push.deliveryId };
};

/**
 * The ingest rules for one project stream. Pure: refusals throw `CommandRejectedError`
 * (only the caller needs to know), everything else is events, with their metadata: the
 * project stream's, then any `DeploymentRequested` (each for its own stream).
 *
 * @example
 * const state = fold(ingestDecider, history);
 * const events = decide({ type: 'ReceivePush', projectId: 'web', push, repository, now, ids, actor }, state);
 */
export const decide = (cmd: IngestCommand, s: ProjectState): IngestNewEvent[] => {
  const t = tools(cmd);
  switch (cmd.type) {
    case 'CreateProject':
      return createProject(cmd, s, t);
    case 'ChangeSettings':
      return changeSettings(cmd, s, t);
    case 'SetEnvVar':
      return setEnvVar(cmd, s, t);
    case 'RemoveEnvVar':
      return removeEnvVar(cmd, s, t);
    case 'AddMount':
      return addMount(cmd, s, t);
    case 'RemoveMount':
      return removeMount(cmd, s, t);
    case 'ReceivePush':
      return receivePush(cmd, s, t);
    case 'RequestRollback':
      return requestRollback(cmd, s, t);
    case 'RequestPromote':
      return requestPromote(cmd, s, t);
    case 'RequestRedeploy':
      return requestRedeploy(cmd, s, t);
    case 'RequestUploadDeployment':
      return requestUploadDeployment(cmd, s, t);
  }
};

const isRequest = (e: IngestNewEvent): e is RequestedEvent => e.type === 'DeploymentRequested';

/**
 * The events of a decision that belong to the project stream (all but `DeploymentRequested`).
 *
 * @example
 * await store.append(streams.project('web'), projectEvents(decide(cmd, state)), { expectedVersion });
 */
export const projectEvents = (events: IngestNewEvent[]): IngestNewEvent[] => events.filter((e) => !isRequest(e));

/**
 * A decision split by stream, with the push it duplicates (seen in `before`, the state it was
 * decided on).
 *
 * @example
 * const { project, deployments, duplicate } = decisionOf(cmd, state, decide(cmd, state));
 */
export const decisionOf = (cmd: IngestCommand, before: ProjectState, events: IngestNewEvent[]): Decision => {
  const duplicate = cmd.type === 'ReceivePush' ? before.pushes.get(cmd.push.deliveryId) : undefined;
  return { project: projectEvents(events), deployments: events.filter(isRequest), ...(duplicate ? { duplicate } : {}) };
};

/**
 * The ingest decider (one `project#<id>` stream), as the shell runs it.
 *
 * @example
 * await execute(store, streams.project('web'), ingestDecider, (s) => cmd, projectEvents, 2);
 */
export const ingestDecider: Decider<ProjectState, IngestCommand, IngestNewEvent> = { decide, evolve, initialState };
