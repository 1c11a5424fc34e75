/**
 * The deploy service: publishes a built artifact as an immutable site version and moves the
 * project's alias to it (release, rollback, promote).
 */
export { decide, evolve, healthVerdict, initialState, releaseDecider, rollbackTarget, type DeployCommand, type HealthReport, type ReleaseDeployment, type ReleaseEvent, type ReleaseState } from './decider.ts';
export { deployService, keyedLock, type DeployServiceDeps, type ReleaseExpected } from './service.ts';
export { aliasHostLabel, branchOfHostLabel } from './aliases.ts';
export * from './ports.ts';
