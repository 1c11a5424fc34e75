import {
  streams, VersionConflictError, type EnvVarRef, type EventData, type EventStore, type StoredEvent,
} from '../../events/index.ts';
import { decide, type Decision, type IngestCommand } from './decider.ts';
import { reject } from './errors.ts';
import type { Clock, Ids } from './ports.ts';
import { evolve, initialState, type ProjectState } from './state.ts';

/** The most ids one command can use (PushReceived, DeploymentRequested, deployment id, spare). */
const IDS_PER_COMMAND = 4;

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
 * Loads and folds a project stream.
 *
 * @example
 * const state = await loadProject(store, 'web');
 */
export const loadProject = async (store: EventStore, projectId: string): Promise<ProjectState> =>
  (await store.readStream(streams.project(projectId))).reduce(evolve, initialState());

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

/**
 * The command shell: load the project stream, fold, decide, append at the folded version
 * (reloading and deciding again once on a version conflict), then append each requested
 * deployment as the first event of its own stream.
 *
 * @example
 * const run = commandRunner({ store, ids, clock });
 * await run('web', (now, ids, state) => ({ type: 'ChangeSettings', projectId: 'web', patch, now, ids, actor }));
 */
export const commandRunner =
  ({ store, ids, clock }: { store: EventStore; ids: Ids; clock: Clock }) =>
  async (projectId: string, command: (now: string, ids: string[], state: ProjectState) => IngestCommand): Promise<RunResult> => {
    const stream = streams.project(projectId);
    for (let attempt = 0; ; attempt++) {
      // 1. load and fold
      const before = await loadProject(store, projectId);
      // 2. decide
      const fresh = Array.from({ length: IDS_PER_COMMAND }, () => ids());
      const decision = decide(command(clock().toISOString(), fresh, before), before);
      // 3. append, with the version we decided on
      let stored: StoredEvent[] = [];
      try {
        if (decision.project.length > 0) stored = (await store.append(stream, decision.project, { expectedVersion: before.version })).events;
      } catch (err) {
        if (err instanceof VersionConflictError && attempt === 0) continue;
        throw err;
      }
      // 4. the deployments, once the push that asked for them is recorded
      await appendDeployments(store, decision);
      return { decision, before, after: stored.reduce(evolve, before), stored };
    }
  };

const appendDeployments = async (store: EventStore, decision: Decision): Promise<void> => {
  for (const request of decision.deployments) {
    const stream = streams.deployment(request.data.deploymentId);
    // A redelivered push re-requests its deployment only when the first attempt never got it stored.
    if (decision.duplicate && (await store.streamVersion(stream)) > 0) continue;
    try {
      await store.append(stream, [request], { expectedVersion: 0 });
    } catch (err) {
      if (!(decision.duplicate && err instanceof VersionConflictError)) throw err;
    }
  }
};

/**
 * The env var references of a state, for views.
 *
 * @example
 * envRefs(state); // [{ name: 'API_KEY', target: 'production', version: 2, sensitive: true }]
 */
export const envRefs = (s: ProjectState): (EnvVarRef & { sensitive: boolean })[] =>
  [...s.env.values()].filter((v) => v.active).map(({ name, target, version, sensitive }) => ({ name, target, version, sensitive }));
