import type { EnvVarRef, EventData, Mount, ProjectSettings, Repository, Target } from '../../events/index.ts';
import type { IngestNewEvent } from './decider.ts';

/**
 * One env var of a project, per name and target: its latest version (versions keep counting
 * after a removal, so a version number is never reused) and whether it is set now.
 *
 * @example
 * const v: EnvVarState = { name: 'API_KEY', target: 'production', version: 2, sensitive: true, active: true };
 */
export interface EnvVarState {
  name: string;
  target: Target;
  version: number;
  sensitive: boolean;
  active: boolean;
}

/**
 * A push the project has recorded, by delivery id: what it was, when, and the deployment it
 * requested (from `metadata.deploymentId` of its `PushReceived`).
 *
 * @example
 * state.pushes.get('gh-1')?.deploymentId;
 */
export interface PushRecord {
  eventId: string;
  occurredAt: string;
  deploymentId?: string;
  data: EventData<'PushReceived'>;
}

/**
 * The state of one `project#<id>` stream, folded by `evolve`.
 *
 * @example
 * const state = history.reduce(evolve, initialState());
 * state.project?.settings.productionBranch; // 'main'
 */
export interface ProjectState {
  /** The stream version folded so far (0 for a new stream). */
  version: number;
  project?: { projectId: string; name: string; repository: Repository; settings: ProjectSettings; createdAt: string };
  /** Env vars by `envKey(target, name)`. */
  env: Map<string, EnvVarState>;
  /** Pushes by delivery id. */
  pushes: Map<string, PushRecord>;
  /** The last push recorded per ref. */
  lastPushByRef: Map<string, { before: string; after: string; deliveryId: string }>;
  /** Other projects this one serves at path prefixes of its domain, by prefix. */
  mounts: Mount[];
}

/**
 * The key of an env var in `ProjectState.env`.
 *
 * @example
 * envKey('production', 'API_KEY'); // 'production:API_KEY'
 */
export const envKey = (target: Target, name: string): string => `${target}:${name}`;

/**
 * How many recent deliveries the state remembers for duplicate detection.
 *
 * @example
 * state.pushes.size <= PUSH_WINDOW; // true
 */
export const PUSH_WINDOW = 1000;

/**
 * The state of a stream with no events.
 *
 * @example
 * decide(cmd, initialState());
 */
export const initialState = (): ProjectState => ({ version: 0, env: new Map(), pushes: new Map(), lastPushByRef: new Map(), mounts: [] });

/**
 * Applies one event of a project stream. Pure; unknown types only advance the version
 * (versions have no gaps, so the number of events folded is the stream's version).
 *
 * @example
 * const state = fold({ evolve, initialState }, await store.readStream(streams.project('web')));
 */
export const evolve = (s: ProjectState, e: IngestNewEvent): ProjectState => {
  const next: ProjectState = { ...s, version: s.version + 1 };
  switch (e.type) {
    case 'ProjectCreated':
      return { ...next, project: { ...e.data, createdAt: e.metadata.occurredAt } };
    case 'ProjectSettingsChanged':
      return s.project ? { ...next, project: { ...s.project, settings: e.data.settings } } : next;
    case 'ProjectMountsChanged':
      return { ...next, mounts: e.data.mounts };
    case 'EnvVarSet': {
      const env = new Map(s.env);
      env.set(envKey(e.data.target, e.data.name), { name: e.data.name, target: e.data.target, version: e.data.version, sensitive: e.data.sensitive, active: true });
      return { ...next, env };
    }
    case 'EnvVarRemoved': {
      const key = envKey(e.data.target, e.data.name);
      const prev = s.env.get(key);
      if (!prev || prev.version !== e.data.version) return next;
      const env = new Map(s.env);
      env.set(key, { ...prev, active: false });
      return { ...next, env };
    }
    case 'PushReceived': {
      const pushes = new Map(s.pushes);
      const { deploymentId, eventId, occurredAt } = e.metadata;
      pushes.set(e.data.deliveryId, { eventId, occurredAt, data: e.data, ...(deploymentId ? { deploymentId } : {}) });
      // TODO(when project streams get snapshots): keep every delivery; until then the fold copies this map per push.
      if (pushes.size > PUSH_WINDOW) pushes.delete(pushes.keys().next().value!);
      const lastPushByRef = new Map(s.lastPushByRef);
      lastPushByRef.set(e.data.ref, { before: e.data.before, after: e.data.after, deliveryId: e.data.deliveryId });
      return { ...next, pushes, lastPushByRef };
    }
    default:
      return next;
  }
};

/**
 * The env vars a deployment to `target` gets now, as references (never values), by name.
 *
 * @example
 * activeEnv(state, 'production'); // [{ name: 'API_KEY', target: 'production', version: 2 }]
 */
export const activeEnv = (s: ProjectState, target: Target): { name: string; target: Target; version: number }[] =>
  [...s.env.values()]
    .filter((v) => v.active && v.target === target)
    .map(({ name, version }) => ({ name, target, version }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/**
 * The env var references of a state, for views.
 *
 * @example
 * envRefs(state); // [{ name: 'API_KEY', target: 'production', version: 2, sensitive: true }]
 */
export const envRefs = (s: ProjectState): (EnvVarRef & { sensitive: boolean })[] =>
  [...s.env.values()].filter((v) => v.active).map(({ name, target, version, sensitive }) => ({ name, target, version, sensitive }));
