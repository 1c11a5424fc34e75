import { StreamPrefix } from '../events/index.ts';
import { flatString, noKeys, recentlyMade, type DocKey, type Projection } from './types.ts';
import { activityEntry, isAudited, type ActivityEntry } from './views/activity.ts';

/**
 * Where the `activity` projection keeps entries: per project, newest last, under
 * `activity#<project>`, and across all projects in the `activity` list.
 *
 * @example
 * activityKeys.project('web'); // 'activity#web'
 */
export const activityKeys = {
  project: (projectId: string): string => `activity#${projectId}`,
  all: 'activity',
};

// The partitions of the projects folded lately, their strings joined once.
const projectPk = recentlyMade((projectId) => flatString(activityKeys.project(projectId)));

/**
 * The audit feed: pushes, deployment requests, rollbacks and promotions, env var, settings,
 * domain and webhook changes, each with who did it. One document per event, so any order of
 * delivery gives the same feed.
 *
 * @example
 * (await models.activity({ projectId: 'web', limit: 20 })).items;
 */
export const activityProjection: Projection<ActivityEntry | null> = {
  name: 'activity',
  version: 1,
  streams: [StreamPrefix.project, StreamPrefix.deployment, StreamPrefix.release, StreamPrefix.domain, StreamPrefix.subscription],
  keysOf: (e): DocKey[] =>
    isAudited(e) ? [{ pk: projectPk(e.metadata.projectId), sk: `${e.metadata.occurredAt}#${e.metadata.eventId}` }] : noKeys,
  initialState: () => null,
  evolve: (state, e) => state ?? activityEntry(e),
  listEntryOf: (state, key) => (state ? { lpk: activityKeys.all, lsk: key.sk, item: state } : undefined),
};
