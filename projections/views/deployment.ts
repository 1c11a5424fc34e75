import type {
  Actor, BuildFailureReason, BuildSettings, Commit, EnvVarRef, EventData, Repository, Target,
} from '../../events/index.ts';
import { canonicalJson } from '../canonical.ts';
import type { ProjectionEvent } from '../types.ts';
import { insertEntry, timelineEntry, type TimelineEntry } from './timeline.ts';

/**
 * Where a deployment stands, as the dashboard shows it.
 * `rejected`: the deploy service refused to make it live (stale, pinned alias).
 *
 * @example
 * const s: DeploymentStatus = 'ready';
 */
export type DeploymentStatus = 'queued' | 'building' | 'deploying' | 'ready' | 'error' | 'canceled' | 'rejected';

/** One build attempt of a deployment (a retry is another attempt in the same build stream). */
export interface BuildAttempt {
  buildId: string;
  status: 'queued' | 'building' | 'succeeded' | 'failed' | 'canceled' | 'timed-out';
  runner: 'codebuild' | 'local' | null;
  logUri: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durations: { queuedMs: number; installMs?: number; buildMs: number; totalMs: number } | null;
  failure: { reason: BuildFailureReason; exitCode: number | null; message: string; logTail: string[] } | null;
}

/**
 * Everything known about one deployment: the fold of the events whose `metadata.deploymentId`
 * is this deployment (exactly what `store.readDeployment` returns), so `shiplog replay` and the
 * read model agree.
 *
 * @example
 * const view = replayed.state; view.status; // 'ready'
 */
export interface DeploymentView {
  deploymentId: string;
  projectId: string;
  status: DeploymentStatus;
  target: Target | null;
  alias: string | null;
  branch: string | null;
  commit: Commit | null;
  trigger: 'push' | 'manual' | 'redeploy' | 'promote' | null;
  requestedBy: Actor | null;
  requestedAt: string | null;
  repository: Repository | null;
  buildSettings: BuildSettings | null;
  /** Names and versions the build got; never values. */
  env: EnvVarRef[];
  sourceDeploymentId: string | null;
  builds: BuildAttempt[];
  versions: { next: string; opennext: string; node: string } | null;
  artifact: { uri: string; sha256: string; sizeBytes: number } | null;
  assets: { fileCount: number; totalBytes: number; durationMs: number } | null;
  functions: { role: string; functionName: string; version: string }[];
  live: { at: string; alias: string; url: string; aliasUrls: string[]; totalMs: number; previousDeploymentId: string | null } | null;
  failure: { at: string; stage: EventData<'DeploymentFailed'>['stage']; message: string } | null;
  rejection: { at: string; reason: string; liveDeploymentId: string | null; detail: string | null } | null;
  alarms: { alarmId: string; metric: string; severity: string; raisedAt: string; clearedAt: string | null }[];
  durations: { queuedMs: number | null; buildMs: number | null; deployMs: number | null; totalMs: number | null };
  error: { stage: string; message: string; reason: string | null; exitCode: number | null; logTail: string[] } | null;
  firstEventAt: string | null;
  lastEventAt: string | null;
  // TODO(when a deployment's timeline nears DynamoDB's 400 KB item limit, ~1,000 events): keep the
  // entries as items of their own in the deployment's partition, read with the same Query.
  timeline: TimelineEntry[];
}

export const initialDeployment = (deploymentId: string, projectId = ''): DeploymentView => ({
  deploymentId, projectId, status: 'queued', target: null, alias: null, branch: null, commit: null, trigger: null,
  requestedBy: null, requestedAt: null, repository: null, buildSettings: null, env: [], sourceDeploymentId: null,
  builds: [], versions: null, artifact: null, assets: null, functions: [], live: null, failure: null, rejection: null,
  alarms: [], durations: { queuedMs: null, buildMs: null, deployMs: null, totalMs: null }, error: null,
  firstEventAt: null, lastEventAt: null, timeline: [],
});

const ms = (from: string | null | undefined, to: string | null | undefined): number | null =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null;

// Several release streams may speak about one deployment (an alias and a promotion): keep the
// earliest, ties broken by content, so the order the streams are applied in does not matter.
const earliest = <T extends { at: string }>(a: T | null, b: T): T =>
  a && (a.at < b.at || (a.at === b.at && canonicalJson(a) <= canonicalJson(b))) ? a : b;

export const initialBuildAttempt = (buildId: string): BuildAttempt => ({
  buildId, status: 'queued', runner: null, logUri: null, queuedAt: null, startedAt: null, finishedAt: null, durations: null, failure: null,
});

/**
 * Folds a build event into its attempt (events of one build stream, in order).
 *
 * @example
 * const attempt = buildEvents.reduce(evolveBuildAttempt, initialBuildAttempt('b1'));
 */
export const evolveBuildAttempt = (b: BuildAttempt, e: ProjectionEvent): BuildAttempt => {
  const at = e.metadata.occurredAt;
  switch (e.type) {
    case 'BuildQueued':
      return { ...b, status: 'queued', queuedAt: at };
    case 'BuildStarted':
      return { ...b, status: 'building', runner: e.data.runner, logUri: e.data.logUri ?? null, startedAt: e.data.startedAt };
    case 'BuildSucceeded':
      return { ...b, status: 'succeeded', finishedAt: at, durations: e.data.durations };
    case 'BuildFailed': {
      const { reason, exitCode, message, logTail } = e.data;
      return { ...b, status: 'failed', finishedAt: at, failure: { reason, exitCode, message, logTail } };
    }
    case 'BuildCanceled':
      return { ...b, status: 'canceled', finishedAt: at };
    case 'BuildTimedOut':
      return { ...b, status: 'timed-out', finishedAt: at };
    default:
      return b;
  }
};

const withBuild = (builds: BuildAttempt[], e: ProjectionEvent & { data: { buildId: string } }): BuildAttempt[] => {
  const i = builds.findIndex((b) => b.buildId === e.data.buildId);
  const next = evolveBuildAttempt(i >= 0 ? builds[i]! : initialBuildAttempt(e.data.buildId), e);
  return i >= 0 ? builds.map((b, j) => (j === i ? next : b)) : [...builds, next];
};

/** Facts from the event, each from the one stream that owns it. */
const applyFacts = (v: DeploymentView, e: ProjectionEvent): DeploymentView => {
  const at = e.metadata.occurredAt;
  switch (e.type) {
    case 'DeploymentRequested': {
      const d = e.data;
      return {
        ...v, target: d.target, alias: d.alias, branch: d.branch, commit: d.commit, trigger: d.trigger, requestedBy: d.requestedBy,
        requestedAt: d.requestedAt, repository: d.repository, buildSettings: d.buildSettings, env: d.env,
        sourceDeploymentId: d.sourceDeploymentId ?? null,
      };
    }
    case 'BuildQueued':
    case 'BuildStarted':
    case 'BuildFailed':
    case 'BuildCanceled':
    case 'BuildTimedOut':
      return { ...v, builds: withBuild(v.builds, e) };
    case 'BuildSucceeded':
      return { ...v, versions: e.data.versions, artifact: e.data.artifact, builds: withBuild(v.builds, e) };
    case 'AssetsUploaded':
      return { ...v, assets: { fileCount: e.data.fileCount, totalBytes: e.data.totalBytes, durationMs: e.data.durationMs } };
    case 'FunctionVersionPublished': {
      const fn = { role: e.data.role, functionName: e.data.functionName, version: e.data.version };
      return { ...v, functions: [...v.functions.filter((f) => f.role !== fn.role), fn].sort((a, b) => (a.role < b.role ? -1 : 1)) };
    }
    case 'DeploymentLive': {
      const d = e.data;
      return { ...v, live: earliest(v.live, { at, alias: d.alias, url: d.url, aliasUrls: d.aliasUrls, totalMs: d.totalMs, previousDeploymentId: d.previousDeploymentId }) };
    }
    case 'DeploymentFailed':
      return { ...v, failure: earliest(v.failure, { at, stage: e.data.stage, message: e.data.message }) };
    case 'DeploymentRejected':
      // `not-ready` / `already-live` refuse a promotion request, not the deployment itself.
      if (e.data.reason !== 'stale' && e.data.reason !== 'pinned-by-rollback') return v;
      return { ...v, rejection: earliest(v.rejection, { at, reason: e.data.reason, liveDeploymentId: e.data.liveDeploymentId, detail: e.data.detail ?? null }) };
    case 'AlarmRaised': {
      const alarm = { alarmId: e.data.alarmId, metric: e.data.metric, severity: e.data.severity, raisedAt: e.data.since, clearedAt: null };
      const alarms = v.alarms.some((a) => a.alarmId === alarm.alarmId && a.raisedAt === alarm.raisedAt) ? v.alarms : [...v.alarms, alarm];
      return { ...v, alarms: alarms.sort((a, b) => (a.raisedAt + a.alarmId < b.raisedAt + b.alarmId ? -1 : 1)) };
    }
    case 'AlarmCleared':
      return {
        ...v,
        alarms: v.alarms.map((a) => (a.alarmId === e.data.alarmId && a.raisedAt === e.data.raisedAt ? { ...a, clearedAt: at } : a)),
      };
    default:
      return v;
  }
};

/**
 * The fields that combine facts from several streams, recomputed after every event. Writes them
 * into `v`, which must be a view this fold made for this event (never the caller's state).
 */
const deriveInto = (v: DeploymentView): DeploymentView => {
  const build = v.builds.at(-1);
  let status: DeploymentStatus;
  if (v.live) status = 'ready';
  else if (v.failure || build?.status === 'failed' || build?.status === 'timed-out') status = 'error';
  else if (v.rejection) status = 'rejected';
  else if (build?.status === 'canceled') status = 'canceled';
  else if (build?.status === 'succeeded') status = 'deploying';
  else if (build?.status === 'building') status = 'building';
  else status = 'queued';

  let error: DeploymentView['error'] = null;
  if (v.failure && v.failure.stage !== 'build') error = { stage: v.failure.stage, message: v.failure.message, reason: null, exitCode: null, logTail: [] };
  else if (build?.failure) error = { stage: 'build', ...build.failure };
  else if (build?.status === 'timed-out') error = { stage: 'build', message: 'build timed out', reason: 'timed-out', exitCode: null, logTail: [] };
  else if (v.failure) error = { stage: v.failure.stage, message: v.failure.message, reason: null, exitCode: null, logTail: [] };
  if (v.live) error = null;

  const built = build?.status === 'succeeded' ? build.finishedAt : null;
  const end = v.live?.at ?? v.failure?.at ?? (build && build.status !== 'queued' && build.status !== 'building' ? build.finishedAt : null);
  v.status = status;
  v.error = error;
  v.durations = {
    queuedMs: build?.durations?.queuedMs ?? ms(build?.queuedAt, build?.startedAt),
    buildMs: build?.durations?.buildMs ?? ms(build?.startedAt, build?.finishedAt),
    deployMs: ms(built, v.live?.at ?? v.failure?.at),
    totalMs: v.live?.totalMs ?? ms(v.requestedAt, end),
  };
  return v;
};

/**
 * Folds one event of the deployment into its view. Idempotent by event id: an event already in
 * the timeline changes nothing.
 *
 * @example
 * const view = events.reduce(evolveDeployment, initialDeployment('d1'));
 */
export const evolveDeployment = (v: DeploymentView, e: ProjectionEvent): DeploymentView => {
  if (v.timeline.some((t) => t.eventId === e.metadata.eventId)) return v;
  const at = e.metadata.occurredAt;
  const base: DeploymentView = {
    ...v,
    projectId: v.projectId || e.metadata.projectId,
    firstEventAt: v.firstEventAt && v.firstEventAt <= at ? v.firstEventAt : at,
    lastEventAt: v.lastEventAt && v.lastEventAt >= at ? v.lastEventAt : at,
    timeline: insertEntry(v.timeline, timelineEntry(e)),
  };
  // applyFacts returns `base` or a copy of it: either way a new object, not `v`.
  return deriveInto(applyFacts(base, e));
};

/**
 * What a deployment list shows of a deployment (no timeline, no build logs).
 *
 * @example
 * listDeployments(...).items[0].status;
 */
export interface DeploymentSummary {
  deploymentId: string;
  projectId: string;
  status: DeploymentStatus;
  target: Target | null;
  alias: string | null;
  branch: string | null;
  commit: { sha: string; message: string; author: Commit['author'] } | null;
  trigger: DeploymentView['trigger'];
  requestedBy: Actor | null;
  requestedAt: string | null;
  durations: DeploymentView['durations'];
  liveAt: string | null;
  error: string | null;
  /** {@link errorTextOf}: the error with its log tail, or why it was rejected (absent in entries written before it existed). */
  errorText?: string | null;
}

/**
 * What the API and the CLI show as a deployment's error: the failure's message and the last 30
 * lines of its log, or why the deployment was rejected; `null` when neither.
 *
 * @example
 * errorTextOf(view); // 'next build failed\n> Build error occurred…'
 */
export const errorTextOf = (v: Pick<DeploymentView, 'error' | 'rejection'>): string | null => {
  if (v.error) return `${v.error.message}${v.error.logTail.length ? `\n${v.error.logTail.slice(-30).join('\n')}` : ''}`;
  if (v.rejection) return `rejected: ${v.rejection.reason}${v.rejection.detail ? ` (${v.rejection.detail})` : ''}`;
  return null;
};

export const summarizeDeployment = (v: DeploymentView): DeploymentSummary => ({
  deploymentId: v.deploymentId,
  projectId: v.projectId,
  status: v.status,
  target: v.target,
  alias: v.alias,
  branch: v.branch,
  commit: v.commit ? { sha: v.commit.sha, message: v.commit.message.split('\n', 1)[0] ?? '', author: v.commit.author } : null,
  trigger: v.trigger,
  requestedBy: v.requestedBy,
  requestedAt: v.requestedAt,
  durations: v.durations,
  liveAt: v.live?.at ?? null,
  error: v.error?.message ?? null,
  errorText: errorTextOf(v),
});
