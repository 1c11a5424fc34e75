import { StreamPrefix } from '../events/index.ts';
import { flatString, noKeys, recentlyMade, type DocKey, type Projection, type ProjectionEvent } from './types.ts';
import { evolveDomain, type DomainView } from './views/domain.ts';
import { evolveEnvVar, type EnvVarView } from './views/env-vars.ts';
import { copyProject, evolveProject, evolveProjectInto, initialProject, type ProjectView } from './views/project.ts';

/**
 * Where the `projects` projection keeps each document:
 * - every project in one partition (`projects`), so the project list is one Query;
 * - a project's env vars under `env#<project>`, sorted by target and name;
 * - a project's domains under `domains#<project>`, sorted by host.
 *
 * @example
 * projectKeys.project('web'); // { pk: 'projects', sk: 'web' }
 */
export const projectKeys = {
  project: (projectId: string): DocKey => ({ pk: 'projects', sk: projectId }),
  envVar: (projectId: string, target: string, name: string): DocKey => ({ pk: `env#${projectId}`, sk: `${target}#${name}` }),
  envVars: (projectId: string): string => `env#${projectId}`,
  domain: (projectId: string, host: string): DocKey => ({ pk: `domains#${projectId}`, sk: host }),
  domains: (projectId: string): string => `domains#${projectId}`,
};

export type ProjectsDoc = ProjectView | EnvVarView | DomainView | null;

const projectTypes = new Set<string>([
  'ProjectCreated', 'ProjectSettingsChanged', 'ProjectMountsChanged', 'PushReceived', 'DeploymentRequested', 'AliasShifted', 'DeploymentLive', 'RolledBack', 'Promoted',
]);

// The partitions of the projects folded lately, their strings joined once.
const envPk = recentlyMade((projectId) => flatString(projectKeys.envVars(projectId)));
const domainsPk = recentlyMade((projectId) => flatString(projectKeys.domains(projectId)));
const domainStream = `${StreamPrefix.domain}#`;

const keysOf = (e: ProjectionEvent): DocKey[] => {
  if (projectTypes.has(e.type)) return [projectKeys.project(e.metadata.projectId)];
  if (e.type === 'EnvVarSet' || e.type === 'EnvVarRemoved') return [{ pk: envPk(e.data.projectId), sk: `${e.data.target}#${e.data.name}` }];
  if (e.metadata.streamId.startsWith(domainStream) && 'host' in e.data) return [{ pk: domainsPk(e.data.projectId), sk: e.data.host }];
  return noKeys;
};

/**
 * Projects (with the state of each alias and the live deployment), env var names and versions,
 * and custom domains.
 *
 * @example
 * const docs = foldEvents(projectsProjection, events);
 */
export const projectsProjection: Projection<ProjectsDoc> = {
  name: 'projects',
  version: 1,
  streams: [StreamPrefix.project, StreamPrefix.deployment, StreamPrefix.release, StreamPrefix.domain],
  keysOf,
  initialState: (key) => (key.pk === 'projects' ? initialProject(key.sk) : null),
  evolve: (state, e, key) => {
    if (key.pk === 'projects') return evolveProject(state as ProjectView, e);
    if (key.pk.startsWith('env#')) return evolveEnvVar(state as EnvVarView | null, e);
    return evolveDomain(state as DomainView | null, e);
  },
  owned: {
    // Env var and domain documents are never changed in place: only projects need a copy.
    copy: (state) => (state && 'aliases' in state ? copyProject(state) : state),
    evolve: (state, e, key) => {
      if (key.pk === 'projects') return evolveProjectInto(state as ProjectView, e);
      if (key.pk.startsWith('env#')) return evolveEnvVar(state as EnvVarView | null, e);
      return evolveDomain(state as DomainView | null, e);
    },
  },
};
