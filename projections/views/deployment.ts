import type {
  Actor, BuildFailureReason, BuildSettings, Commit, EnvVarRef, EventData, Repository, Target,
} from '../../events/index.ts';
import { canonicalJson } from '../canonical.ts';
import type { ProjectionEvent } from '../types.ts';
import { timelineEntry, type TimelineEntry } from './timeline.ts';

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
  /** The alarms raised on it, by when they were raised: the last {@link ALARMS_KEPT} once it has more. */
  alarms: { alarmId: string; metric: string; severity: string; raisedAt: string; clearedAt: string | null }[];
  /** How many older alarms `alarms` leaves out (absent while it leaves none out). */
  alarmsOmitted?: number;
  durations: { queuedMs: number | null; buildMs: number | null; deployMs: number | null; totalMs: number | null };
  error: { stage: string; message: string; reason: string | null; exitCode: number | null; logTail: string[] } | null;
  firstEventAt: string | null;
  lastEventAt: string | null;
  /**
   * The deployment's events in time order: its first {@link TIMELINE_FIRST} and its last
   * {@link TIMELINE_LAST} once it has more (every rollback to it, promotion and alarm adds some);
   * the store keeps them all (the dashboard's event list, `shiplog replay events`). `shiplog
   * replay deployment` folds them with this same code, so its timeline is capped alike.
   */
  timeline: TimelineEntry[];
  /** How many events between those the timeline leaves out (absent while it leaves none out). */
  timelineOmitted?: number;
}

/**
 * How many of a deployment's first and last events its timeline keeps. A deployment that stays
 * live for long is rolled back to, promoted and alarmed on again and again: each time adds entries
 * (about 350 bytes each), and each of those events rewrites the whole document. Kept whole, the
 * document of a deployment rolled back to a few hundred times would pass DynamoDB's 400 KB item
 * limit, and every event on it would cost a write of its size. Capped, it stays under ~70 KB.
 */
export const TIMELINE_FIRST = 50;
export const TIMELINE_LAST = 150;

/**
 * How many of a deployment's alarms its document keeps, the last raised. An alarm that flaps (is
 * raised and cleared again and again while the deployment stays live) adds one each time it is
 * raised, and would grow the document as rollbacks grew the timeline.
 */
export const ALARMS_KEPT = 50;

export const initialDeployment = (deploymentId: string, projectId = ''): DeploymentView => ({
  deploymentId, projectId, status: 'queued', target: null, alias: null, branch: null, commit: null, trigger: null,
  requestedBy: null, requestedAt: null, repository: null, buildSettings: null, env: [], sourceDeploymentId: null,
  builds: [], versions: null, artifact: null, assets: null, functions: [], live: null, failure: null, rejection: null,
  alarms: [], durations: { queuedMs: null, buildMs: null, deployMs: null, totalMs: null }, error: null,
  firstEventAt: null, lastEventAt: null, timeline: [],
});

// `Date.parse` of the ISO times events carry (`2026-11-22T10:00:00.000Z`), read by hand: it runs
// several times per event. Any other form goes to `Date.parse`.
const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};
// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (month 1–12), as `Date.UTC`
// counts them, in integer arithmetic.
const daysFromEpoch = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719468;
};

const daysIn = (year: number, month: number): number => {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
};

/**
 * `Date.parse` of an ISO time as events carry it (`2026-11-22T10:00:00.000Z`).
 *
 * @example
 * timeOf('1970-01-01T00:00:01.000Z'); // 1000
 */
export const timeOf = (iso: string): number => {
  if (iso.length !== 24 || iso.charCodeAt(23) !== 90 /* Z */ || iso.charCodeAt(10) !== 84 /* T */) return Date.parse(iso);
  const year = digit(iso, 0) * 1000 + digit(iso, 1) * 100 + digit(iso, 2) * 10 + digit(iso, 3);
  const month = digit(iso, 5) * 10 + digit(iso, 6);
  const day = digit(iso, 8) * 10 + digit(iso, 9);
  const hour = digit(iso, 11) * 10 + digit(iso, 12);
  const minute = digit(iso, 14) * 10 + digit(iso, 15);
  const second = digit(iso, 17) * 10 + digit(iso, 18);
  const milli = digit(iso, 20) * 100 + digit(iso, 21) * 10 + digit(iso, 22);
  // Plain dates of plain years: counted here (no call into the engine). Anything else (a digit
  // missing, a day past the month's end, a year `Date.UTC` reads as 19xx) as before.
  if (year >= 100 && month >= 1 && month <= 12 && day >= 1 && (day <= 28 || day <= daysIn(year, month)) && hour <= 23 && minute <= 59 && second <= 59 && milli >= 0) {
    return daysFromEpoch(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli;
  }
  const t = Date.UTC(year, month - 1, day, hour, minute, second, milli);
  return Number.isNaN(t) ? Date.parse(iso) : t;
};

const ms = (from: string | null | undefined, to: string | null | undefined): number | null =>
  from && to ? Math.max(0, timeOf(to) - timeOf(from)) : null;

// Several release streams may speak about one deployment (an alias and a promotion): keep the
// earliest, ties broken by content, so the order the streams are applied in does not matter.
const earliest = <T extends { at: string }>(a: T | null, b: T): T =>
  a && (a.at < b.at || (a.at === b.at && canonicalJson(a) <= canonicalJson(b))) ? a : b;

export const initialBuildAttempt = (buildId: string): BuildAttempt => ({
  buildId, status: 'queued', runner: null, logUri: null, queuedAt: null, startedAt: null, finishedAt: null, durations: null, failure: null,
});

/**
 * Folds a build event into its attempt in place (`b` must be the caller's own copy) and returns it.
 *
 * @example
 * const attempt = buildEvents.reduce(evolveBuildAttemptInto, initialBuildAttempt('b1'));
 */
export const evolveBuildAttemptInto = <B extends BuildAttempt>(b: B, e: ProjectionEvent): B => {
  const at = e.metadata.occurredAt;
  switch (e.type) {
    case 'BuildQueued':
      b.status = 'queued';
      b.queuedAt = at;
      break;
    case 'BuildStarted':
      b.status = 'building';
      b.runner = e.data.runner;
      b.logUri = e.data.logUri ?? null;
      b.startedAt = e.data.startedAt;
      break;
    case 'BuildSucceeded':
      b.status = 'succeeded';
      b.finishedAt = at;
      b.durations = e.data.durations;
      break;
    case 'BuildFailed': {
      const { reason, exitCode, message, logTail } = e.data;
      b.status = 'failed';
      b.finishedAt = at;
      b.failure = { reason, exitCode, message, logTail };
      break;
    }
    case 'BuildCanceled':
      b.status = 'canceled';
      b.finishedAt = at;
      break;
    case 'BuildTimedOut':
      b.status = 'timed-out';
      b.finishedAt = at;
      break;
    default:
  }
  return b;
};

const buildTypes: ReadonlySet<string> = new Set(['BuildQueued', 'BuildStarted', 'BuildSucceeded', 'BuildFailed', 'BuildCanceled', 'BuildTimedOut']);

/**
 * Folds a build event into its attempt (events of one build stream, in order). Pure.
 *
 * @example
 * const attempt = buildEvents.reduce(evolveBuildAttempt, initialBuildAttempt('b1'));
 */
export const evolveBuildAttempt = (b: BuildAttempt, e: ProjectionEvent): BuildAttempt =>
  buildTypes.has(e.type) ? evolveBuildAttemptInto({ ...b }, e) : b;

// The attempt of the event's build, changed in place (the view's own: `copyDeployment` copies the
// attempts with the array).
const withBuildInto = (builds: BuildAttempt[], e: ProjectionEvent & { data: { buildId: string } }): void => {
  let i = builds.length - 1;
  while (i >= 0 && builds[i]!.buildId !== e.data.buildId) i--;
  if (i >= 0) evolveBuildAttemptInto(builds[i]!, e);
  else builds.push(evolveBuildAttemptInto(initialBuildAttempt(e.data.buildId), e));
};

/**
 * Facts from the event, each from the one stream that owns it, written into `v` (the caller's own).
 * Returns whether a fact `deriveInto` reads changed (the builds, `live`, `failure`, `rejection`,
 * `requestedAt`): assets, functions and alarms change none of them.
 */
const applyFactsInto = (v: DeploymentView, e: ProjectionEvent): boolean => {
  const at = e.metadata.occurredAt;
  switch (e.type) {
    case 'DeploymentRequested': {
      const d = e.data;
      v.target = d.target;
      v.alias = d.alias;
      v.branch = d.branch;
      v.commit = d.commit;
      v.trigger = d.trigger;
      v.requestedBy = d.requestedBy;
      v.requestedAt = d.requestedAt;
      v.repository = d.repository;
      v.buildSettings = d.buildSettings;
      v.env = d.env;
      v.sourceDeploymentId = d.sourceDeploymentId ?? null;
      return true;
    }
    case 'BuildQueued':
    case 'BuildStarted':
    case 'BuildFailed':
    case 'BuildCanceled':
    case 'BuildTimedOut':
      withBuildInto(v.builds, e);
      return true;
    case 'BuildSucceeded':
      v.versions = e.data.versions;
      v.artifact = e.data.artifact;
      withBuildInto(v.builds, e);
      return true;
    case 'AssetsUploaded':
      v.assets = { fileCount: e.data.fileCount, totalBytes: e.data.totalBytes, durationMs: e.data.durationMs };
      return false;
    case 'FunctionVersionPublished': {
      // One per role, in role order: replaced or inserted in place (the view's own array).
      const fn = { role: e.data.role, functionName: e.data.functionName, version: e.data.version };
      const fs = v.functions;
      let i = 0;
      while (i < fs.length && fs[i]!.role < fn.role) i++;
      if (i < fs.length && fs[i]!.role === fn.role) fs[i] = fn;
      else fs.splice(i, 0, fn);
      return false;
    }
    case 'DeploymentLive': {
      const d = e.data;
      v.live = earliest(v.live, { at, alias: d.alias, url: d.url, aliasUrls: d.aliasUrls, totalMs: d.totalMs, previousDeploymentId: d.previousDeploymentId });
      return true;
    }
    case 'DeploymentFailed':
      v.failure = earliest(v.failure, { at, stage: e.data.stage, message: e.data.message });
      return true;
    case 'DeploymentRejected':
      // `not-ready` / `already-live` refuse a promotion request, not the deployment itself.
      if (e.data.reason !== 'stale' && e.data.reason !== 'pinned-by-rollback') return false;
      v.rejection = earliest(v.rejection, { at, reason: e.data.reason, liveDeploymentId: e.data.liveDeploymentId, detail: e.data.detail ?? null });
      return true;
    case 'AlarmRaised': {
      const alarm = { alarmId: e.data.alarmId, metric: e.data.metric, severity: e.data.severity, raisedAt: e.data.since, clearedAt: null };
      if (v.alarms.some((a) => a.alarmId === alarm.alarmId && a.raisedAt === alarm.raisedAt)) return false;
      const alarms = [...v.alarms, alarm].sort((a, b) => (a.raisedAt + a.alarmId < b.raisedAt + b.alarmId ? -1 : 1));
      // The oldest go, whatever order the alarms' streams come in; one cleared after it went is
      // not found below. An alarm is applied once (past its stream's version), so none is counted twice.
      const over = alarms.length - ALARMS_KEPT;
      if (over > 0) {
        alarms.splice(0, over);
        v.alarmsOmitted = (v.alarmsOmitted ?? 0) + over;
      }
      v.alarms = alarms;
      return false;
    }
    case 'AlarmCleared':
      v.alarms = v.alarms.map((a) => (a.alarmId === e.data.alarmId && a.raisedAt === e.data.raisedAt ? { ...a, clearedAt: at } : a));
      return false;
    default:
      return false;
  }
};

/**
 * The fields that combine facts from several streams, recomputed after every event. Writes them
 * into `v`, which must be the caller's own view.
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
  const queuedMs = build?.durations?.queuedMs ?? ms(build?.queuedAt, build?.startedAt);
  const buildMs = build?.durations?.buildMs ?? ms(build?.startedAt, build?.finishedAt);
  const deployMs = ms(built, v.live?.at ?? v.failure?.at);
  const totalMs = v.live?.totalMs ?? ms(v.requestedAt, end);
  const d = v.durations;
  // Replaced, never changed in place (a copy of the view shares it).
  if (d.queuedMs !== queuedMs || d.buildMs !== buildMs || d.deployMs !== deployMs || d.totalMs !== totalMs) v.durations = { queuedMs, buildMs, deployMs, totalMs };
  return v;
};

// Where an event's entry goes in the time-ordered timeline (usually at the end: events come
// roughly in time order), and whether it is there already (an event has one time, so a repeat
// sits right before that place).
const placeOf = (timeline: TimelineEntry[], e: ProjectionEvent): number => {
  const { occurredAt, eventId } = e.metadata;
  let i = timeline.length;
  while (i > 0) {
    const t = timeline[i - 1]!;
    if (!(occurredAt < t.occurredAt || (occurredAt === t.occurredAt && eventId < t.eventId))) break;
    i--;
  }
  return i > 0 && timeline[i - 1]!.eventId === eventId ? -1 : i;
};

/**
 * Folds one event of the deployment into `v` in place (`v` must be the caller's own view, see
 * {@link copyDeployment}) and returns it. Idempotent by event id for the events its timeline
 * keeps; one it left out would be counted again (the folds and runners skip an event whose
 * stream version they have applied, so none reaches it twice).
 * Whatever order the streams' events come in, the timeline is the first {@link TIMELINE_FIRST}
 * and the last {@link TIMELINE_LAST} of them by time, and `timelineOmitted` counts the rest.
 *
 * @example
 * const view = events.reduce(evolveDeploymentInto, initialDeployment('d1'));
 */
export const evolveDeploymentInto = (v: DeploymentView, e: ProjectionEvent): DeploymentView => {
  const place = placeOf(v.timeline, e);
  if (place < 0) return v;
  const at = e.metadata.occurredAt;
  if (!v.projectId) v.projectId = e.metadata.projectId;
  if (!(v.firstEventAt && v.firstEventAt <= at)) v.firstEventAt = at;
  if (!(v.lastEventAt && v.lastEventAt >= at)) v.lastEventAt = at;
  const timeline = v.timeline;
  if (place === timeline.length) timeline.push(timelineEntry(e));
  else timeline.splice(place, 0, timelineEntry(e));
  // Past the cap the entry right after the first ones goes, wherever the new one went: before it
  // (it is then no longer among the first), at it (it falls between), or after it (it is then
  // no longer among the last).
  if (timeline.length > TIMELINE_FIRST + TIMELINE_LAST) {
    const over = timeline.length - TIMELINE_FIRST - TIMELINE_LAST;
    timeline.splice(TIMELINE_FIRST, over);
    v.timelineOmitted = (v.timelineOmitted ?? 0) + over;
  }
  // The fields derived from the facts change only when a fact they read does (the initial view is derived already).
  return applyFactsInto(v, e) ? deriveInto(v) : v;
};

/**
 * A copy of a view that {@link evolveDeploymentInto} can change without touching the original
 * (it replaces nested values, and changes only the view, its timeline, its builds array, the
 * attempts in it and its functions array).
 *
 * @example
 * const mine = evolveDeploymentInto(copyDeployment(shared), event);
 */
export const copyDeployment = (v: DeploymentView): DeploymentView => {
  const builds = new Array<BuildAttempt>(v.builds.length);
  for (let i = 0; i < builds.length; i++) builds[i] = { ...v.builds[i]! };
  return { ...v, timeline: v.timeline.slice(), builds, functions: v.functions.slice() };
};

/**
 * Folds one event of the deployment into its view. Pure; idempotent by event id: an event
 * already in the timeline changes nothing.
 *
 * @example
 * const view = events.reduce(evolveDeployment, initialDeployment('d1'));
 */
export const evolveDeployment = (v: DeploymentView, e: ProjectionEvent): DeploymentView =>
  placeOf(v.timeline, e) < 0 ? v : evolveDeploymentInto(copyDeployment(v), e);

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
