import type { EventData, ShiplogEvent, Actor } from '../../events/index.ts';
import type { Decider } from '../shell/index.ts';

/**
 * An event of a `build#` stream.
 *
 * @example
 * const e: BuildStreamEvent = { type: 'BuildCanceled', data: { projectId, deploymentId, buildId, reason: 'superseded' } };
 */
export type BuildStreamEvent = Extract<
  ShiplogEvent,
  { type: 'BuildQueued' | 'BuildStarted' | 'BuildSucceeded' | 'BuildFailed' | 'BuildCanceled' | 'BuildTimedOut' }
>;

/**
 * What the build service asks of one build (one deployment's `build#` stream).
 *
 * @example
 * decide({ type: 'StartBuild', runner: 'local', runnerBuildId: '123', now, deadlineAt }, state)
 */
export type BuildCommand =
  | { type: 'QueueBuild'; request: EventData<'DeploymentRequested'>; buildId: string; now: string }
  | { type: 'StartBuild'; runner: 'local' | 'codebuild'; runnerBuildId: string; logUri?: string; now: string; deadlineAt: string }
  | {
      type: 'CompleteBuild';
      artifact: EventData<'BuildSucceeded'>['artifact'];
      installMs?: number;
      buildMs: number;
      versions: EventData<'BuildSucceeded'>['versions'];
      now: string;
    }
  | { type: 'FailBuild'; reason: EventData<'BuildFailed'>['reason']; exitCode: number | null; message: string; logTail: string[]; now: string }
  | { type: 'CancelBuild'; reason: EventData<'BuildCanceled'>['reason']; supersededBy?: string; canceledBy?: Actor }
  | { type: 'TimeOutBuild'; limitSeconds: number; detectedBy: 'runner' | 'reconciliation' }
  | { type: 'InterruptBuild'; phase: string; logTail: string[]; now: string };

export type BuildStatus = 'none' | 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'timed-out';

export interface BuildState {
  status: BuildStatus;
  queued?: EventData<'BuildQueued'>;
  startedAt?: string;
}

export const initialState = (): BuildState => ({ status: 'none' });

export const isFinished = (s: BuildState): boolean => !['none', 'queued', 'running'].includes(s.status);

export const evolve = (s: BuildState, ev: BuildStreamEvent): BuildState => {
  switch (ev.type) {
    case 'BuildQueued':
      return { status: 'queued', queued: ev.data };
    case 'BuildStarted':
      return { ...s, status: 'running', startedAt: ev.data.startedAt };
    case 'BuildSucceeded':
      return { ...s, status: 'succeeded' };
    case 'BuildFailed':
      return { ...s, status: 'failed' };
    case 'BuildCanceled':
      return { ...s, status: 'canceled' };
    case 'BuildTimedOut':
      return { ...s, status: 'timed-out' };
    default:
      return s;
  }
};

const ms = (from: string | undefined, to: string): number =>
  from ? Math.max(0, Date.parse(to) - Date.parse(from)) : 0;

type Queued = EventData<'BuildQueued'>;
type Ref = Pick<Queued, 'projectId' | 'deploymentId' | 'buildId'>;
type Cmd<T extends BuildCommand['type']> = Extract<BuildCommand, { type: T }>;

const queue = (cmd: Cmd<'QueueBuild'>, s: BuildState): BuildStreamEvent[] => {
  if (s.status !== 'none') return [];
  const r = cmd.request;
  return [
    {
      type: 'BuildQueued',
      data: {
        projectId: r.projectId,
        deploymentId: r.deploymentId,
        buildId: cmd.buildId,
        target: r.target,
        alias: r.alias,
        branch: r.branch,
        sha: r.commit.sha,
        repository: r.repository,
        buildSettings: r.buildSettings,
        env: r.env,
        requestedAt: r.requestedAt,
      },
    },
  ];
};

const start = (cmd: Cmd<'StartBuild'>, s: BuildState, ref: Ref): BuildStreamEvent[] => {
  if (s.status !== 'queued') return [];
  return [
    {
      type: 'BuildStarted',
      data: {
        ...ref,
        runner: cmd.runner,
        runnerBuildId: cmd.runnerBuildId,
        ...(cmd.logUri ? { logUri: cmd.logUri } : {}),
        startedAt: cmd.now,
        deadlineAt: cmd.deadlineAt,
      },
    },
  ];
};

const complete = (cmd: Cmd<'CompleteBuild'>, s: BuildState, q: Queued, ref: Ref): BuildStreamEvent[] => [
  {
    type: 'BuildSucceeded',
    data: {
      ...ref,
      target: q.target,
      alias: q.alias,
      sha: q.sha,
      requestedAt: q.requestedAt,
      artifact: cmd.artifact,
      durations: {
        queuedMs: ms(q.requestedAt, s.startedAt ?? cmd.now),
        ...(cmd.installMs !== undefined ? { installMs: cmd.installMs } : {}),
        buildMs: cmd.buildMs,
        totalMs: ms(q.requestedAt, cmd.now),
      },
      versions: cmd.versions,
    },
  },
];

const fail = (cmd: Cmd<'FailBuild'>, s: BuildState, ref: Ref): BuildStreamEvent[] => [
  {
    type: 'BuildFailed',
    data: {
      ...ref,
      reason: cmd.reason,
      exitCode: cmd.exitCode,
      message: cmd.message.slice(0, 2000),
      logTail: cmd.logTail.slice(-100).map((l) => l.slice(0, 1000)),
      durationMs: ms(s.startedAt, cmd.now),
    },
  },
];

const cancel = (cmd: Cmd<'CancelBuild'>, ref: Ref): BuildStreamEvent[] => [
  {
    type: 'BuildCanceled',
    data: {
      ...ref,
      reason: cmd.reason,
      ...(cmd.supersededBy ? { supersededBy: cmd.supersededBy } : {}),
      ...(cmd.canceledBy ? { canceledBy: cmd.canceledBy } : {}),
    },
  },
];

const timeOut = (cmd: Cmd<'TimeOutBuild'>, s: BuildState, ref: Ref): BuildStreamEvent[] => {
  if (s.status !== 'running' || !s.startedAt) return [];
  return [{ type: 'BuildTimedOut', data: { ...ref, limitSeconds: cmd.limitSeconds, startedAt: s.startedAt, detectedBy: cmd.detectedBy } }];
};

const interrupt = (cmd: Cmd<'InterruptBuild'>, s: BuildState, ref: Ref): BuildStreamEvent[] => {
  if (s.status !== 'queued' && s.status !== 'running') return [];
  return fail({ type: 'FailBuild', reason: 'infrastructure', exitCode: null, message: `interrupted: shiplog restarted during ${cmd.phase}`, logTail: cmd.logTail, now: cmd.now }, s, ref);
};

/**
 * What reconciliation knows of one build besides its stream: whether a runner is working on it
 * now, and how often a restart already interrupted it.
 *
 * @example
 * const seen: BuildSighting = { active: false, interruptions: 1, maxResumes: 1 };
 */
export interface BuildSighting {
  /** A runner of this process has it queued or running. */
  active: boolean;
  /** Restarts that interrupted this build so far (each resume counts one). */
  interruptions: number;
  /** How many interruptions a build is resumed after; beyond that it fails. */
  maxResumes: number;
}

/**
 * Reconciliation's rule, pure: a build that has ended or that a runner holds needs nothing; an
 * unfinished build nobody runs is resumed (queued again) until it was interrupted `maxResumes`
 * times, then it fails (`InterruptBuild`). So no deployment stays "building".
 *
 * @example
 * reconcile(state, { active: false, interruptions: 0, maxResumes: 1 }); // 'resume'
 * reconcile(state, { active: false, interruptions: 1, maxResumes: 1 }); // 'interrupt'
 */
export const reconcile = (s: BuildState, seen: BuildSighting): 'none' | 'resume' | 'interrupt' => {
  if (!s.queued || isFinished(s) || s.status === 'none' || seen.active) return 'none';
  return seen.interruptions < seen.maxResumes ? 'resume' : 'interrupt';
};

/**
 * The build's rules: a build is queued once, starts once, and ends once. A completion that
 * arrives after the build ended (a late runner, a duplicate trigger) decides nothing.
 *
 * @example
 * const events = decide(cmd, history.reduce(evolve, initialState()));
 */
export const decide = (cmd: BuildCommand, s: BuildState): BuildStreamEvent[] => {
  if (cmd.type === 'QueueBuild') return queue(cmd, s);
  const q = s.queued;
  if (!q || isFinished(s)) return [];
  const ref: Ref = { projectId: q.projectId, deploymentId: q.deploymentId, buildId: q.buildId };
  switch (cmd.type) {
    case 'StartBuild':
      return start(cmd, s, ref);
    case 'CompleteBuild':
      return complete(cmd, s, q, ref);
    case 'FailBuild':
      return fail(cmd, s, ref);
    case 'CancelBuild':
      return cancel(cmd, ref);
    case 'TimeOutBuild':
      return timeOut(cmd, s, ref);
    case 'InterruptBuild':
      return interrupt(cmd, s, ref);
  }
};

/**
 * The build decider, as the shell runs it.
 *
 * @example
 * await execute(store, streams.build(deploymentId), buildDecider, () => cmd, ctx);
 */
export const buildDecider: Decider<BuildState, BuildCommand, BuildStreamEvent> = { decide, evolve, initialState };
