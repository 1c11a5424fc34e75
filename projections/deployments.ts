import { StreamPrefix } from '../events/index.ts';
import { flatString, noKeys, recentlyMade, type DocKey, type ListEntry, type Projection, type ProjectionEvent } from './types.ts';
import {
  copyDeployment, evolveBuildAttemptInto, evolveDeployment, evolveDeploymentInto, initialDeployment, summarizeDeployment,
  type BuildAttempt, type DeploymentView,
} from './views/deployment.ts';

/**
 * Where the `deployments` projection keeps each document:
 * - a deployment (with its timeline: its first and last events, see `TIMELINE_FIRST`) at
 *   `deployment#<id>`, listed newest first under `deployments#<project>` by request time;
 * - each build attempt under `build#<deployment>` (the build logs index), listed per project
 *   under `builds#<project>` by queue time.
 *
 * @example
 * deploymentKeys.deployment('d1'); // { pk: 'deployment#d1', sk: 'doc' }
 */
export const deploymentKeys = {
  deployment: (deploymentId: string): DocKey => ({ pk: `deployment#${deploymentId}`, sk: 'doc' }),
  list: (projectId: string): string => `deployments#${projectId}`,
  build: (deploymentId: string, buildId: string): DocKey => ({ pk: `build#${deploymentId}`, sk: buildId }),
  builds: (deploymentId: string): string => `build#${deploymentId}`,
  buildList: (projectId: string): string => `builds#${projectId}`,
};

/** A build attempt in the build logs index: where its log is and how it ended. */
export interface BuildLogView extends BuildAttempt {
  projectId: string;
  deploymentId: string;
}

export type DeploymentsDoc = DeploymentView | BuildLogView;

const buildStream = `${StreamPrefix.build}#`;
const isBuildEvent = (e: ProjectionEvent): e is ProjectionEvent & { data: { buildId: string; deploymentId: string; projectId: string } } =>
  e.metadata.streamId.startsWith(buildStream) && 'buildId' in e.data;

// The keys of the deployments folded lately, made once (most events of a deployment come close
// together): `deploymentKeys`' keys, with their strings joined.
const deploymentKey = recentlyMade((deploymentId): DocKey => Object.freeze({ pk: flatString(deploymentKeys.deployment(deploymentId).pk), sk: 'doc' }));
const buildsPk = recentlyMade((deploymentId) => flatString(deploymentKeys.builds(deploymentId)));

// Arrays of their final length: an empty array that is pushed to gets room for 16 keys, which
// was the fold's largest allocation per event.
const keysOf = (e: ProjectionEvent): DocKey[] => {
  const deploymentId = e.metadata.deploymentId;
  if (isBuildEvent(e)) {
    const build: DocKey = { pk: buildsPk(e.data.deploymentId), sk: e.data.buildId };
    return deploymentId ? [deploymentKey(deploymentId), build] : [build];
  }
  return deploymentId ? [deploymentKey(deploymentId)] : noKeys;
};

const evolveBuildLogInto = (b: BuildLogView, e: ProjectionEvent): BuildLogView => {
  evolveBuildAttemptInto(b, e);
  b.projectId = e.metadata.projectId;
  return b;
};

// The attempt's fields, then the log index's own (one object, no spread of a throwaway attempt).
const initialBuildLog = (key: DocKey): BuildLogView => ({
  buildId: key.sk, status: 'queued', runner: null, logUri: null, queuedAt: null, startedAt: null, finishedAt: null, durations: null, failure: null,
  projectId: '', deploymentId: key.pk.slice('build#'.length),
});

const isDeploymentKey = (key: DocKey): boolean => key.sk === 'doc' && key.pk.startsWith('deployment#');

/**
 * Deployments (summary, durations, outcome and the cross-service timeline with causation: its
 * first and last events) and the build logs index. A deployment document is exactly what
 * `replayDeployment` computes from the store.
 *
 * @example
 * const view = (await models.getDeployment('d1'))?.status;
 */
export const deploymentsProjection: Projection<DeploymentsDoc> = {
  name: 'deployments',
  version: 1,
  streams: [StreamPrefix.project, StreamPrefix.deployment, StreamPrefix.build, StreamPrefix.release, StreamPrefix.alarm],
  keysOf,
  initialState: (key) =>
    isDeploymentKey(key)
      ? initialDeployment(key.pk.slice('deployment#'.length))
      : initialBuildLog(key),
  evolve: (state, e) => {
    if ('timeline' in state) return evolveDeployment(state, e);
    return evolveBuildLogInto({ ...state }, e);
  },
  owned: {
    copy: (state) => ('timeline' in state ? copyDeployment(state) : { ...state }),
    evolve: (state, e) => ('timeline' in state ? evolveDeploymentInto(state, e) : evolveBuildLogInto(state, e)),
  },
  listEntryOf: (state, key): ListEntry | undefined => {
    if ('timeline' in state) {
      if (!state.requestedAt || !isDeploymentKey(key)) return undefined;
      return { lpk: deploymentKeys.list(state.projectId), lsk: `${state.requestedAt}#${state.deploymentId}`, item: summarizeDeployment(state) };
    }
    if (!state.queuedAt || !state.projectId) return undefined;
    return { lpk: deploymentKeys.buildList(state.projectId), lsk: `${state.queuedAt}#${state.buildId}`, item: state };
  },
};
