import type { Actor, EventData, IngestEvent, NewEvent, ProjectSettings, Repository, Target } from '../../events/index.ts';
import { reject } from './errors.ts';
import { aliasFor, ignoreReason, isZeroSha, ProjectName } from './rules.ts';
import { activeEnv, envKey, type ProjectState, type PushRecord } from './state.ts';

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
  build?: { rootDirectory?: string; nodeVersion?: '20.x' | '22.x'; installCommand?: string | null; buildCommand?: string | null };
}

/**
 * A push as a webhook or the git remote reports it (the `PushReceived` data without the project).
 *
 * @example
 * const push: PushInput = pushFromGithub(payload, deliveryId);
 */
export type PushInput = Omit<EventData<'PushReceived'>, 'projectId'>;

/**
 * What the ingest service can be asked. Every command carries the time and enough fresh ids
 * (`ids`, consumed in order) so the decider needs neither a clock nor randomness.
 *
 * @example
 * decide({ type: 'SetEnvVar', projectId: 'web', name: 'API_KEY', target: 'production', sensitive: true, now, ids, actor }, state);
 */
export type IngestCommand = { projectId: string; now: string; ids: readonly string[]; actor: Actor } & (
  | { type: 'CreateProject'; repository: Repository; settings: ProjectSettings }
  | { type: 'ChangeSettings'; patch: SettingsPatch }
  | { type: 'SetEnvVar'; name: string; target: Target; sensitive: boolean }
  | { type: 'RemoveEnvVar'; name: string; target: Target }
  | { type: 'ReceivePush'; push: PushInput; repository: Repository }
  | { type: 'RequestRollback'; alias: string; to?: Requested; reason: string }
  | { type: 'RequestPromote'; source: Requested; reason?: string }
  | { type: 'RequestRedeploy'; source: Requested; settings: 'current' | 'source' }
);

/**
 * What a command decided: events for the project stream (appended at the folded version) and
 * `DeploymentRequested` events, each the first of its own `deployment#<id>` stream.
 * `duplicate` is set when a push delivery was seen before; `deployments` then re-requests the
 * deployment it made, with the same id, in case that append was lost.
 *
 * @example
 * const { project, deployments } = decide(cmd, state);
 */
export interface Decision {
  project: IngestNewEvent[];
  deployments: NewEvent<'DeploymentRequested', Requested>[];
  duplicate?: PushRecord;
}

const idSupply = (ids: readonly string[]) => {
  let i = 0;
  return (): string => {
    const id = ids[i++];
    if (id === undefined) throw new Error(`the command carries ${ids.length} ids; the decider needs more`);
    return id;
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

/**
 * The ingest rules for one project stream. Pure: refusals throw `CommandRejectedError`
 * (only the caller needs to know), everything else is events.
 *
 * @example
 * const state = history.reduce(evolve, initialState());
 * const { project, deployments } = decide({ type: 'ReceivePush', projectId: 'web', push, repository, now, ids, actor }, state);
 */
export const decide = (cmd: IngestCommand, s: ProjectState): Decision => {
  const nextId = idSupply(cmd.ids);
  const { projectId, now: occurredAt, actor } = cmd;
  const meta: Tools['meta'] = (m = {}) => {
    const eventId = nextId();
    const { deploymentId, correlationId = deploymentId ?? eventId, causationId = null } = m;
    return { eventId, occurredAt, correlationId, causationId, projectId, actor, ...(deploymentId ? { deploymentId } : {}) };
  };
  const none: Decision = { project: [], deployments: [] };
  const request: Tools['request'] = (data, deploymentId, causationId = null, requestedAt = occurredAt) => ({
    type: 'DeploymentRequested',
    data: { projectId, deploymentId, ...data, requestedBy: actor, requestedAt },
    metadata: meta({ deploymentId, causationId }),
  });

  switch (cmd.type) {
    case 'CreateProject': {
      const valid = ProjectName.safeParse(projectId);
      if (!valid.success) reject('invalid', `project name "${projectId}" ${valid.error.issues[0]?.message}`);
      if (s.project) reject('project-exists', `project "${projectId}" already exists: choose another name`);
      return { ...none, project: [{ type: 'ProjectCreated', data: { projectId, name: projectId, repository: cmd.repository, settings: cmd.settings }, metadata: meta() }] };
    }
    case 'ChangeSettings': {
      const p = existing(s, projectId);
      const settings = applyPatch(p.settings, cmd.patch);
      const changed = changedFields(p.settings, settings);
      if (changed.length === 0) return none;
      return { ...none, project: [{ type: 'ProjectSettingsChanged', data: { projectId, settings, changed }, metadata: meta() }] };
    }
    case 'SetEnvVar': {
      existing(s, projectId);
      const version = (s.env.get(envKey(cmd.target, cmd.name))?.version ?? 0) + 1;
      const data = { projectId, name: cmd.name, target: cmd.target, version, sensitive: cmd.sensitive };
      return { ...none, project: [{ type: 'EnvVarSet', data, metadata: meta() }] };
    }
    case 'RemoveEnvVar': {
      existing(s, projectId);
      const v = s.env.get(envKey(cmd.target, cmd.name));
      if (!v) return reject('env-var-not-found', `project "${projectId}" has no ${cmd.target} env var ${cmd.name}`);
      if (!v.active) return none;
      return { ...none, project: [{ type: 'EnvVarRemoved', data: { projectId, name: cmd.name, target: cmd.target, version: v.version }, metadata: meta() }] };
    }
    case 'ReceivePush':
      return decidePush(cmd, s, { nextId, meta, request });
    case 'RequestRollback': {
      existing(s, projectId);
      const toDeploymentId = cmd.to && ownedBy(cmd.to, projectId).deploymentId;
      const data = { projectId, alias: cmd.alias, reason: cmd.reason, requestedBy: actor, ...(toDeploymentId ? { toDeploymentId } : {}) };
      return { ...none, project: [{ type: 'RollbackRequested', data, metadata: meta() }] };
    }
    case 'RequestPromote': {
      const p = existing(s, projectId);
      const src = ownedBy(cmd.source, projectId);
      if (src.target === 'production') {
        const data = { projectId, deploymentId: src.deploymentId, alias: 'production', requestedBy: actor, ...(cmd.reason ? { reason: cmd.reason } : {}) };
        return { ...none, project: [{ type: 'PromoteRequested', data, metadata: meta({ deploymentId: src.deploymentId }) }] };
      }
      // A preview becomes production by a new build with the production settings and env.
      const { branch, commit, repository } = src;
      const env = activeEnv(s, 'production');
      const d = request({ target: 'production', alias: 'production', trigger: 'promote', branch, commit, repository, buildSettings: p.settings.build, env, sourceDeploymentId: src.deploymentId }, nextId());
      return { ...none, deployments: [d] };
    }
    case 'RequestRedeploy': {
      const p = existing(s, projectId);
      const src = ownedBy(cmd.source, projectId);
      const asBefore = cmd.settings === 'source';
      const { target, alias, branch, commit, repository } = src;
      const buildSettings = asBefore ? src.buildSettings : p.settings.build;
      const env = asBefore ? src.env : activeEnv(s, target);
      return { ...none, deployments: [request({ target, alias, trigger: 'redeploy', branch, commit, repository, buildSettings, env, sourceDeploymentId: src.deploymentId }, nextId())] };
    }
  }
};

interface Tools {
  nextId: () => string;
  meta: (m?: { correlationId?: string; causationId?: string | null; deploymentId?: string }) => IngestNewEvent['metadata'];
  request: (data: RequestData, deploymentId: string, causationId?: string | null, requestedAt?: string) => Decision['deployments'][number];
}

// PushReceived, then DeploymentRequested (its own stream) or PushIgnored. The deployment id is
// decided first and recorded on the PushReceived, so a redelivery can re-request it.
const decidePush = (cmd: Extract<IngestCommand, { type: 'ReceivePush' }>, s: ProjectState, t: Tools): Decision => {
  const p = existing(s, cmd.projectId);
  const { push, projectId } = cmd;
  const seen = s.pushes.get(push.deliveryId);
  if (seen) {
    const redo = seen.deploymentId ? [t.request(requestFor(seen.data, p.settings, cmd.repository, s), seen.deploymentId, seen.eventId, seen.occurredAt)] : [];
    return { project: [], deployments: redo, duplicate: seen };
  }
  const correlationId = push.deliveryId;
  const ignored = ignoreReason(push, p.settings, s.lastPushByRef.get(push.ref));
  if (ignored) {
    const received = { type: 'PushReceived' as const, data: { projectId, ...push }, metadata: t.meta({ correlationId }) };
    const sha = isZeroSha(push.after) ? push.before : push.after;
    const data = { projectId, deliveryId: push.deliveryId, ref: push.ref, sha, ...ignored };
    return { project: [received, { type: 'PushIgnored', data, metadata: t.meta({ correlationId, causationId: received.metadata.eventId }) }], deployments: [] };
  }
  const deploymentId = t.nextId();
  const received = { type: 'PushReceived' as const, data: { projectId, ...push }, metadata: t.meta({ correlationId, deploymentId }) };
  return { project: [received], deployments: [t.request(requestFor(push, p.settings, cmd.repository, s), deploymentId, received.metadata.eventId)] };
};

const requestFor = (push: PushInput, settings: ProjectSettings, repository: Repository, s: ProjectState): RequestData => {
  const branch = push.branch ?? reject('invalid', `${push.ref} is not a branch`);
  const target: Target = branch === settings.productionBranch ? 'production' : 'preview';
  const commit = push.headCommit ?? { sha: push.after, message: '', author: push.pusher };
  const env = activeEnv(s, target);
  return { target, alias: aliasFor(target, branch), trigger: 'push', branch, commit, repository, buildSettings: settings.build, env, pushDeliveryId: push.deliveryId };
};
