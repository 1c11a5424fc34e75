import type { BuildJob, BuildOutcome } from './ports.ts';

/**
 * A build as the scheduler holds it. `lane` groups builds that supersede each other
 * (one project, branch and target): a newer request cancels an older queued or running build.
 *
 * @example
 * const b: ScheduledBuild = { deploymentId: 'd2', projectId: 'web', lane: 'web#main#production', requestedAt, target: 'production', job };
 */
export interface ScheduledBuild {
  deploymentId: string;
  projectId: string;
  lane: string;
  requestedAt: string;
  target: 'production' | 'preview';
  job: Omit<BuildJob, 'env'>;
  /** The `BuildQueued` event the build's later events are caused by. */
  causeEventId?: string;
}

/** What the scheduler reports back; the build service turns each into events. */
export interface SchedulerEvents {
  started(b: ScheduledBuild, info: { runnerBuildId: string; deadlineAt: string; runner?: 'local' | 'codebuild'; logUri?: string }): Promise<void>;
  finished(b: ScheduledBuild, outcome: BuildOutcome): Promise<void>;
  superseded(b: ScheduledBuild, by: string): Promise<void>;
}

/**
 * Runs builds with a concurrency limit and supersedes older builds of the same lane. Locally a
 * queue in this process; on AWS CodeBuild is the queue.
 *
 * @example
 * await scheduler.submit(build); // idempotent per deployment
 */
export interface BuildScheduler {
  submit(b: ScheduledBuild): Promise<void>;
  /** Builds queued or running now. */
  active(): { deploymentId: string; state: 'queued' | 'running' }[];
  /** Resubmits what a previous run left unfinished (reconciliation after a restart). */
  resume(): Promise<number>;
  stop(): Promise<void>;
}
