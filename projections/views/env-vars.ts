import type { Actor, Target } from '../../events/index.ts';
import type { ProjectionEvent } from '../types.ts';

/**
 * An env var of a project as the dashboard lists it: name, target and current version. Never
 * the value (events do not carry it).
 *
 * @example
 * (await models.listEnvVars('web')).map((v) => `${v.name}@${v.version}`);
 */
export interface EnvVarView {
  projectId: string;
  name: string;
  target: Target;
  version: number;
  sensitive: boolean;
  updatedAt: string;
  updatedBy: Actor;
}

/** Folds `EnvVarSet` / `EnvVarRemoved` (one project stream, so in order); `null` deletes. */
export const evolveEnvVar = (v: EnvVarView | null, e: ProjectionEvent): EnvVarView | null => {
  switch (e.type) {
    case 'EnvVarSet':
      return {
        projectId: e.data.projectId, name: e.data.name, target: e.data.target, version: e.data.version,
        sensitive: e.data.sensitive, updatedAt: e.metadata.occurredAt, updatedBy: e.metadata.actor,
      };
    case 'EnvVarRemoved':
      return null;
    default:
      return v;
  }
};
