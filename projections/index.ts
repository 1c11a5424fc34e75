/**
 * Read models folded from the event store, and replay and audit from the store alone.
 *
 * - projections: `projects`, `deployments`, `activity`, `delivery` (pure `evolve`s, `all.ts`);
 * - the runner (`makeProjectionHandler`), rebuild, status and verify;
 * - the read side (`readModels`): one Query or GetItem per question;
 * - replay: a deployment at a moment, a diff of two deployments, events back onto the bus, tail.
 */
export * from './types.ts';
export { defaultProjections, projectionNamed } from './all.ts';
export { activityKeys, activityProjection } from './activity.ts';
export { deliveryKeys, deliveryProjection } from './delivery.ts';
export { deploymentKeys, deploymentsProjection, type BuildLogView } from './deployments.ts';
export { projectKeys, projectsProjection } from './projects.ts';
export { applyEvent, bulkDocOf, foldEvents, foldStore, memoryFold, type KeyedDoc, type MemoryFold } from './fold.ts';
export { fromBus, fromStored, InvalidProjectionEventError } from './incoming.ts';
export { makeProjectionHandler, makeProjectionRunner, ProjectionConflictError, settledVersion, StreamGapError, type ProjectionRunner, type ProjectionRunnerDeps } from './runner.ts';
export { catchUp, rebuildProjection, type RebuildOptions, type RebuildResult } from './rebuild.ts';
export { projectionStatus, type ProjectionStatus } from './status.ts';
export { projectionPositions, type ProjectionPositions } from './positions.ts';
export { activeNamespace } from './registry.ts';
export { verifyProjections, type VerifyDifference, type VerifyResult } from './verify.ts';
export { readModels, type DeploymentDetail, type DeploymentListItem, type ProjectWithUrls, type ReadModels } from './queries.ts';
export { localUrls, type Urls } from './urls.ts';
export * from './store/ports.ts';
export { dynamoViewStore, type DynamoViewStoreOptions } from './store/dynamo-view-store.ts';
export { memoryViewStore } from './store/memory-view-store.ts';
export { createViewsTable, LIST_INDEX, viewsTableDefinition } from './store/table.ts';
export { currentAliases } from './current.ts';
export { foldDeployment, parseAt, replayDeployment, type ReplayAt, type ReplayedDeployment } from './replay/deployment.ts';
export { diffDeployments, diffStates, type DeploymentDiff, type DiffRow } from './replay/diff.ts';
export { cursorAt, InvalidReplayRequestError, replayEntry, replayEventsToBus, replayFromRequest, type PatternMatcher, type ReplayToBusResult } from './replay/to-bus.ts';
export { tailEvents } from './replay/tail.ts';
export type { ActivityEntry } from './views/activity.ts';
export { ALARMS_KEPT, errorTextOf, TIMELINE_FIRST, TIMELINE_LAST, type BuildAttempt, type DeploymentStatus, type DeploymentSummary, type DeploymentView } from './views/deployment.ts';
export type { DomainView } from './views/domain.ts';
export { computeDeliveryMetrics, type DeliveryFacts, type DeliveryMetrics } from './views/dora.ts';
export type { EnvVarView } from './views/env-vars.ts';
export type { AliasState, ProjectView } from './views/project.ts';
export type { CausalEntry, TimelineEntry } from './views/timeline.ts';
