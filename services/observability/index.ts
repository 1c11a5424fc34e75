/**
 * The observability service: runtime logs, request metrics, cost estimates, and alarms that act
 * (a breaching production deployment is rolled back by the deploy service).
 */
export { directoryBytes, localMetricsSource, requestRetention, type LocalMetricsOptions } from './adapters/metrics-source/local.ts';
export { ingestRollbackRequester } from './adapters/rollback-requester/ingest.ts';
export { atLeast, localRuntimeLogStore, runtimeLogRetention } from './adapters/runtime-log-store/local.ts';
export type { Retention } from './adapters/runtime-log-store/segments.ts';
export { levelOf, runtimeCapture, type RequestOutcome, type RuntimeCapture, type ServedRequest } from './capture.ts';
export {
  AlarmRuleInput, ObservabilityRequestError, observabilityCommands, parseSince, RuntimeLogLevelInput,
  type DeploymentCost, type DeploymentMetricsView, type ObservabilityCommandDeps, type ObservabilityCommands,
} from './commands.ts';
export { alarmDecider, decide, errorRateAlarm, evolve, initialState, type AlarmCommand, type AlarmRule, type AlarmState, type AlarmStreamEvent, type Observation } from './decider.ts';
export { alarmEvaluator, type AlarmEvaluator, type AlarmEvaluatorDeps } from './evaluator.ts';
export { percentile, summarize, usageOf } from './metrics.ts';
export * from './ports.ts';
export { estimateCost, prices, type CostEstimate } from './prices.ts';
export { observabilityService, type ObservabilityService, type ObservabilityServiceDeps } from './service.ts';
