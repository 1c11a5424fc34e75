import type { EventData, ShiplogEvent, Actor } from '../../events/index.ts';
import type { Decider } from '../shell/index.ts';
import type { HealthObservation } from './ports.ts';

/**
 * A health check of one deployment, as a command carries it: where it asked, how long it waited,
 * what it saw.
 *
 * @example
 * const h: HealthReport = { deploymentId: 'd2', path: '/', timeoutMs: 30_000, observation: { kind: 'response', status: 200, bodyStart: '<!DOCTYPE html>' } };
 */
export interface HealthReport {
  deploymentId: string;
  path: string;
  timeoutMs: number;
  observation: HealthObservation;
}

/**
 * The health gate's rule: a version is healthy when it answered its health path with anything
 * but a 5xx (a 404 or a redirect is an app's choice; a crash, a timeout or a 5xx is not).
 *
 * @example
 * healthVerdict({ deploymentId: 'd2', path: '/', timeoutMs: 30_000, observation: { kind: 'response', status: 502, bodyStart: 'Bad gateway' } });
 * // { healthy: false, message: 'GET / answered 502 (first bytes: "Bad gateway")' }
 */
export const healthVerdict = (h: HealthReport): { healthy: true } | { healthy: false; message: string } => {
  const o = h.observation;
  if (o.kind === 'response' && o.status < 500) return { healthy: true };
  const first = (s: string) => JSON.stringify(s.replace(/\s+/g, ' ').trim().slice(0, 300));
  return {
    healthy: false,
    message: o.kind === 'response'
      ? `GET ${h.path} answered ${o.status} (first bytes: ${first(o.bodyStart)})`
      : `GET ${h.path} got no answer within ${h.timeoutMs} ms: ${o.error.slice(0, 500)}`,
  };
};

/**
 * An event of a release stream (`release#<project>#<alias>`).
 *
 * @example
 * const e: ReleaseEvent = { type: 'Promoted', data: { projectId, deploymentId, alias, fromDeploymentId, requestedBy } };
 */
export type ReleaseEvent = Extract<
  ShiplogEvent,
  {
    type:
      | 'AssetsUploaded'
      | 'FunctionVersionPublished'
      | 'AliasShifted'
      | 'DeploymentLive'
      | 'DeploymentFailed'
      | 'DeploymentRejected'
      | 'RolledBack'
      | 'RollbackRejected'
      | 'Promoted';
  }
>;

/** A deployment as one release (a project's alias) knows it. */
export interface ReleaseDeployment {
  deploymentId: string;
  requestedAt: string;
  sha: string;
  published: boolean;
  status: 'publishing' | 'ready' | 'live' | 'rejected' | 'failed';
}

/**
 * One release stream: what an alias of a project serves, what it served before, and whether a
 * rollback pinned it (new deploys wait for a promote, as on Vercel).
 */
export interface ReleaseState {
  projectId?: string;
  alias?: string;
  live: string | null;
  /** Deployments that were live, oldest first (a deployment may appear more than once). */
  history: string[];
  pinned: boolean;
  deployments: Record<string, ReleaseDeployment>;
  /**
   * The requests (rollback, promote: their event ids) the stream has answered, all of them: a
   * request delivered again after its answer was appended (its alias move failed, the bus
   * retried, however many answers later) is answered with nothing instead of a second time. The
   * stream is the record of what was answered; the deploy handler keeps no other.
   */
  answered?: readonly string[];
}

export const initialState = (): ReleaseState => ({ live: null, history: [], pinned: false, deployments: {} });

/**
 * What the deploy service asks of a release.
 *
 * @example
 * decide({ type: 'GoLive', deploymentId: 'd2', alias: 'production', url, aliasUrls, now }, state)
 */
export type DeployCommand =
  | {
      type: 'Publish';
      build: EventData<'BuildSucceeded'>;
      assets: { uri: string; fileCount: number; totalBytes: number; durationMs: number };
      fn: { functionName: string; version: string; codeSha256: string };
    }
  | {
      type: 'GoLive'; deploymentId: string; url: string; aliasUrls: string[]; now: string; health?: HealthReport;
      /** The release's alias (the build's). A stream learns it from its first AliasShifted, so its first GoLive needs it. */
      alias?: string;
    }
  | { type: 'Fail'; projectId: string; deploymentId: string; stage: EventData<'DeploymentFailed'>['stage']; message: string; buildId?: string }
  | { type: 'Rollback'; projectId: string; alias: string; to?: string; requestedBy: Actor; reason: string; health?: HealthReport; requestId?: string }
  | { type: 'Promote'; projectId: string; alias: string; deploymentId: string; requestedBy: Actor; health?: HealthReport; requestId?: string };

const withDeployment = (s: ReleaseState, id: string, patch: Partial<ReleaseDeployment>): ReleaseState => ({
  ...s,
  deployments: { ...s.deployments, [id]: { ...(s.deployments[id] as ReleaseDeployment), ...patch } },
});

const goLive = (s: ReleaseState, to: string): ReleaseState => {
  const prev = s.live;
  let next = withDeployment(s, to, { status: 'live' });
  if (prev && prev !== to && next.deployments[prev]) next = withDeployment(next, prev, { status: 'ready' });
  return { ...next, live: to, history: [...s.history, to] };
};

// The events that answer a request (the last of each answer), and the request each answers: its
// cause, as the stream stored it (a decider folds stored events; a new one has no metadata yet).
const answers = new Set<string>(['RolledBack', 'RollbackRejected', 'Promoted', 'DeploymentRejected']);
const answeredRequest = (ev: ReleaseEvent): string | undefined =>
  answers.has(ev.type) ? ((ev as { metadata?: { causationId?: string | null } }).metadata?.causationId ?? undefined) : undefined;

/**
 * Whether the stream holds an answer to this request already (by the request's event id).
 *
 * @example
 * isAnswered(state, e.metadata.eventId); // true once its RolledBack is stored
 */
export const isAnswered = (s: ReleaseState, requestId: string | undefined): boolean =>
  // A request delivered again is a recent one: looked for from the newest answer back.
  requestId !== undefined && s.answered !== undefined && s.answered.lastIndexOf(requestId) >= 0;

export const evolve = (s: ReleaseState, ev: ReleaseEvent): ReleaseState => {
  const next = evolveState(s, ev);
  const request = answeredRequest(ev);
  return request ? { ...next, answered: [...(next.answered ?? []), request] } : next;
};

const evolveState = (s: ReleaseState, ev: ReleaseEvent): ReleaseState => {
  switch (ev.type) {
    case 'AssetsUploaded': {
      const d = ev.data;
      const base = { ...s, projectId: d.projectId };
      if (s.deployments[d.deploymentId]) return base;
      return withDeployment(base, d.deploymentId, {
        deploymentId: d.deploymentId, requestedAt: d.requestedAt, sha: d.sha, published: false, status: 'publishing',
      });
    }
    case 'FunctionVersionPublished': {
      const known = s.deployments[ev.data.deploymentId];
      return known ? withDeployment(s, ev.data.deploymentId, { published: true, status: 'ready' }) : s;
    }
    case 'AliasShifted':
      return { ...goLive(s, ev.data.toDeploymentId), alias: ev.data.alias, projectId: ev.data.projectId };
    case 'DeploymentRejected':
      return s.deployments[ev.data.deploymentId] ? withDeployment(s, ev.data.deploymentId, { status: 'rejected' }) : s;
    case 'DeploymentFailed': {
      const known = s.deployments[ev.data.deploymentId];
      return withDeployment(s, ev.data.deploymentId, known ? { status: 'failed' } : {
        deploymentId: ev.data.deploymentId, requestedAt: '', sha: '', published: false, status: 'failed',
      });
    }
    case 'RolledBack':
      return { ...s, pinned: true };
    case 'Promoted':
      return { ...s, pinned: false };
    default:
      return s;
  }
};

type Cmd<T extends DeployCommand['type']> = Extract<DeployCommand, { type: T }>;

const publish = (cmd: Cmd<'Publish'>, s: ReleaseState): ReleaseEvent[] => {
  const b = cmd.build;
  if (s.deployments[b.deploymentId]?.published) return [];
  const ref = { projectId: b.projectId, deploymentId: b.deploymentId };
  return [
    { type: 'AssetsUploaded', data: { ...ref, sha: b.sha, requestedAt: b.requestedAt, assetsUri: cmd.assets.uri, fileCount: cmd.assets.fileCount, totalBytes: cmd.assets.totalBytes, durationMs: cmd.assets.durationMs } },
    { type: 'FunctionVersionPublished', data: { ...ref, role: 'server', functionName: cmd.fn.functionName, version: cmd.fn.version, codeSha256: cmd.fn.codeSha256 } },
  ];
};

const goLiveDecision = (cmd: Cmd<'GoLive'>, s: ReleaseState): ReleaseEvent[] => {
  const d = s.deployments[cmd.deploymentId];
  if (!d?.published || d.status !== 'ready' || s.history.includes(cmd.deploymentId)) return [];
  const projectId = s.projectId!;
  const alias = cmd.alias ?? s.alias ?? 'production';
  const live = s.live ? s.deployments[s.live] : undefined;
  const reject = (reason: 'stale' | 'pinned-by-rollback', detail: string): ReleaseEvent[] => [
    { type: 'DeploymentRejected', data: { projectId, deploymentId: cmd.deploymentId, alias, reason, liveDeploymentId: s.live, detail } },
  ];
  if (live && live.requestedAt > d.requestedAt) {
    return reject('stale', `a newer deployment (${s.live}, requested ${live.requestedAt}) is already live`);
  }
  if (s.pinned) return reject('pinned-by-rollback', `rolled back to ${s.live}; promote a deployment to resume`);
  // The health gate: a version that does not answer never gets the alias; what is live stays live.
  const verdict = cmd.health && cmd.health.deploymentId === cmd.deploymentId ? healthVerdict(cmd.health) : { healthy: true as const };
  if (!verdict.healthy) {
    return [{ type: 'DeploymentFailed', data: { projectId, deploymentId: cmd.deploymentId, stage: 'health', message: `health check failed, ${alias} not moved: ${verdict.message}`.slice(0, 2000) } }];
  }
  return [
    { type: 'AliasShifted', data: { projectId, alias, fromDeploymentId: s.live, toDeploymentId: cmd.deploymentId, reason: 'deploy' } },
    {
      type: 'DeploymentLive',
      data: {
        projectId,
        deploymentId: cmd.deploymentId,
        target: alias === 'production' ? 'production' : 'preview',
        alias,
        sha: d.sha,
        url: cmd.url,
        aliasUrls: cmd.aliasUrls,
        previousDeploymentId: s.live,
        totalMs: Math.max(0, Date.parse(cmd.now) - Date.parse(d.requestedAt)),
      },
    },
  ];
};

const fail = (cmd: Cmd<'Fail'>, s: ReleaseState): ReleaseEvent[] => {
  const d = s.deployments[cmd.deploymentId];
  if (d && (d.status === 'failed' || s.history.includes(cmd.deploymentId))) return [];
  return [
    {
      type: 'DeploymentFailed',
      data: { projectId: cmd.projectId, deploymentId: cmd.deploymentId, stage: cmd.stage, message: cmd.message.slice(0, 2000), ...(cmd.buildId ? { buildId: cmd.buildId } : {}) },
    },
  ];
};

/**
 * The deployment a rollback would move the alias to: the one named, else the last one live
 * before the current; undefined when there is none.
 *
 * @example
 * rollbackTarget(state); // 'd1'
 */
export const rollbackTarget = (s: ReleaseState, to?: string): string | undefined =>
  to ?? [...s.history].reverse().find((id) => id !== s.live && s.deployments[id]?.published);

const rollback = (cmd: Cmd<'Rollback'>, s: ReleaseState): ReleaseEvent[] => {
  const refuse = (reason: string): ReleaseEvent[] => [
    { type: 'RollbackRejected', data: { projectId: cmd.projectId, alias: cmd.alias, ...(cmd.to ? { toDeploymentId: cmd.to } : {}), reason: reason.slice(0, 1000), requestedBy: cmd.requestedBy } },
  ];
  if (isAnswered(s, cmd.requestId)) return [];
  if (!s.live) return refuse('nothing is live on this alias yet');
  const to = rollbackTarget(s, cmd.to);
  if (!to) return refuse('there is no earlier deployment to roll back to');
  if (to === s.live) return refuse(`${to} is already live`);
  if (!s.deployments[to]?.published) return refuse(`${to} is not a ready deployment of this alias`);
  if (cmd.health) {
    if (cmd.health.deploymentId !== to) return refuse(`the rollback target changed to ${to} while ${cmd.health.deploymentId} was being checked; try again`);
    const verdict = healthVerdict(cmd.health);
    if (!verdict.healthy) return refuse(`${to} failed its health check: ${verdict.message}`);
  }
  return [
    { type: 'AliasShifted', data: { projectId: cmd.projectId, alias: cmd.alias, fromDeploymentId: s.live, toDeploymentId: to, reason: 'rollback' } },
    { type: 'RolledBack', data: { projectId: cmd.projectId, alias: cmd.alias, fromDeploymentId: s.live, toDeploymentId: to, requestedBy: cmd.requestedBy, reason: cmd.reason } },
  ];
};

const promote = (cmd: Cmd<'Promote'>, s: ReleaseState): ReleaseEvent[] => {
  const d = s.deployments[cmd.deploymentId];
  const ref = { projectId: cmd.projectId, deploymentId: cmd.deploymentId, alias: cmd.alias };
  if (isAnswered(s, cmd.requestId)) return [];
  if (!d?.published) {
    return [{ type: 'DeploymentRejected', data: { ...ref, reason: 'not-ready', liveDeploymentId: s.live, detail: 'only a built and published deployment can be promoted' } }];
  }
  if (s.live === cmd.deploymentId && !s.pinned) return [];
  const verdict = cmd.health && s.live !== cmd.deploymentId ? healthVerdict(cmd.health) : { healthy: true as const };
  if (!verdict.healthy) {
    return [{ type: 'DeploymentRejected', data: { ...ref, reason: 'unhealthy', liveDeploymentId: s.live, detail: `health check failed: ${verdict.message}`.slice(0, 1000) } }];
  }
  const shift: ReleaseEvent[] =
    s.live === cmd.deploymentId
      ? []
      : [{ type: 'AliasShifted', data: { projectId: cmd.projectId, alias: cmd.alias, fromDeploymentId: s.live, toDeploymentId: cmd.deploymentId, reason: 'promote' } }];
  return [...shift, { type: 'Promoted', data: { ...ref, fromDeploymentId: s.live, requestedBy: cmd.requestedBy } }];
};

/**
 * The release's rules. A deployment goes live only when it is published, is not older than
 * what is live (an older commit's build that finishes last never wins), no rollback pinned
 * the alias, and it passed the health gate when one ran (`health`: non-5xx within the timeout).
 * Promote and rollback refuse an unhealthy target the same way. Rollback moves the alias to an earlier ready deployment, no rebuild.
 * A rollback or promote request the stream has answered already (`requestId`) is answered with nothing.
 *
 * @example
 * const events = decide(cmd, history.reduce(evolve, initialState()));
 */
export const decide = (cmd: DeployCommand, s: ReleaseState): ReleaseEvent[] => {
  switch (cmd.type) {
    case 'Publish':
      return publish(cmd, s);
    case 'GoLive':
      return goLiveDecision(cmd, s);
    case 'Fail':
      return fail(cmd, s);
    case 'Rollback':
      return rollback(cmd, s);
    case 'Promote':
      return promote(cmd, s);
  }
};

/**
 * The release decider, as the shell runs it.
 *
 * @example
 * await execute(store, streams.release('web', 'production'), releaseDecider, (s) => cmd, ctx);
 */
export const releaseDecider: Decider<ReleaseState, DeployCommand, ReleaseEvent> = { decide, evolve, initialState };
