/**
 * Physical names of the stack's named resources, and the environment variables through which
 * functions learn them.
 *
 * The production stage owns the plain names (`shiplog` bus, `shiplog-events` table), so outside
 * subscribers can write rules against a bus name that does not change; every other stage is
 * suffixed with its stage.
 *
 * @example
 * stackNames('shiplog', 'production'); // { bus: 'shiplog', eventsTable: 'shiplog-events', prefix: 'shiplog' }
 * stackNames('shiplog', 'ci');         // { bus: 'shiplog-ci', eventsTable: 'shiplog-ci-events', prefix: 'shiplog-ci' }
 */
export interface StackNames {
  /** Prefix for names this stack chooses itself. */
  prefix: string;
  bus: string;
  eventsTable: string;
}

/**
 * The stage that owns the plain names, keeps its resources on removal and protects its store.
 *
 * @example
 * $app.stage === PRODUCTION_STAGE;
 */
export const PRODUCTION_STAGE = 'production';

/**
 * The names of a stage's resources (see {@link StackNames}).
 *
 * @example
 * stackNames('shiplog', 'pr-12').bus; // 'shiplog-pr-12'
 */
export const stackNames = (app: string, stage: string): StackNames => {
  const prefix = stage === PRODUCTION_STAGE ? app : `${app}-${stage}`;
  return { prefix, bus: prefix, eventsTable: `${prefix}-events` };
};

/**
 * The environment variables every shiplog function gets (the AWS composition root reads them).
 *
 * @example
 * process.env[FunctionEnv.eventsTable]; // 'shiplog-events'
 */
export const FunctionEnv = {
  eventsTable: 'SHIPLOG_EVENTS_TABLE',
  busName: 'SHIPLOG_BUS_NAME',
} as const;

/**
 * Link names, as they appear in a function's SST `Resource` (`Resource.ShiplogEvents.name`).
 *
 * @example
 * LinkName.eventStore; // 'ShiplogEvents'
 */
export const LinkName = {
  eventStore: 'ShiplogEvents',
  bus: 'ShiplogBus',
} as const;
