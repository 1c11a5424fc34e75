/**
 * The build service: turns a requested deployment into a build on a runner (CodeBuild on AWS, a
 * sandboxed child process on one machine) and records its outcome, artifact and logs as events.
 */
export { buildDecider, decide, evolve, initialState, isFinished, reconcile, type BuildSighting, type BuildCommand, type BuildState, type BuildStatus, type BuildStreamEvent } from './decider.ts';
export { buildService, describeArtifactDir, type BuildServiceDeps, type ReconcileSighting } from './service.ts';
export * from './ports.ts';
export type { LogLine, LogStore } from './log-store.ts';
export type { BuildScheduler, ScheduledBuild, SchedulerEvents } from './scheduler.ts';
