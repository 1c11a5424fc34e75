import type { Actor, EventMetadata } from '../../events/index.ts';

/**
 * How bad a runtime log line is. Console output on stdout is `info`, on stderr `error` unless the
 * line says otherwise (a structured `{"level":"warn"}` line, a `Warning:` prefix).
 *
 * @example
 * const level: RuntimeLogLevel = 'error';
 */
export type RuntimeLogLevel = 'debug' | 'info' | 'warning' | 'error';

/**
 * One line of a deployment's runtime log: console output of a function invocation, an uncaught
 * error, or the summary of one request (`kind: 'request'`, one per invocation). Request fields
 * are absent on output no request can be tied to (a function's start-up, a background timer).
 * `path` never carries the query string (it may hold tokens).
 *
 * @example
 * const r: RuntimeLogRecord = { time: '2026-11-22T10:00:00.123Z', level: 'info', kind: 'console', projectId: 'web', deploymentId: 'd1',
 *   requestId: '6f1c…', method: 'GET', path: '/', status: 200, durationMs: 12, message: 'rendered home' };
 */
export interface RuntimeLogRecord {
  time: string;
  level: RuntimeLogLevel;
  kind: 'console' | 'request';
  projectId: string;
  deploymentId: string;
  requestId?: string;
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  message: string;
}

/**
 * What to read of a runtime log: newest `limit` records at or above `level`, from `since`.
 *
 * @example
 * await logs.query({ projectId: 'web', deploymentId: 'd1', level: 'error', limit: 100 });
 */
export interface RuntimeLogQuery {
  projectId: string;
  deploymentId: string;
  /** The lowest level returned; every level by default. */
  level?: RuntimeLogLevel;
  since?: string;
  /** At most this many, the newest ones (oldest first in the answer); 1000 by default. */
  limit?: number;
}

/**
 * Where runtime logs live. Locally: JSON lines per deployment under the data dir with a size and
 * age cap (`adapters/runtime-log-store/local.ts`); on AWS the site functions' CloudWatch log
 * group in JSON log format, `query` as FilterLogEvents and `follow` as StartLiveTail.
 *
 * @example
 * const stop = logs.follow({ projectId: 'web', deploymentId: 'd1', level: 'error' }, (r) => print(r));
 */
export interface RuntimeLogStore {
  append(records: RuntimeLogRecord[]): Promise<void>;
  query(q: RuntimeLogQuery): Promise<RuntimeLogRecord[]>;
  /** New records of the deployment as they are appended, until the returned function is called. */
  follow(q: Omit<RuntimeLogQuery, 'since' | 'limit'>, onRecord: (r: RuntimeLogRecord) => void): () => void;
}

/**
 * One served request, as the router measured it: what metrics and usage are computed from.
 * `origin` says whether a function ran (`function`) or a static file was sent (`asset`).
 *
 * @example
 * const r: RequestRecord = { time, projectId: 'web', deploymentId: 'd1', requestId: '6f1c…', method: 'GET', path: '/',
 *   origin: 'function', status: 500, durationMs: 35, coldStart: false, bytesOut: 1830 };
 */
export interface RequestRecord {
  time: string;
  projectId: string;
  deploymentId: string;
  requestId: string;
  method: string;
  path: string;
  origin: 'function' | 'asset';
  status: number;
  durationMs: number;
  coldStart: boolean;
  bytesOut: number;
}

/**
 * The request metrics of one route (or of a whole deployment): counts and duration percentiles.
 *
 * @example
 * { requests: 120, status4xx: 3, status5xx: 1, p50Ms: 12, p95Ms: 80, p99Ms: 140, coldStarts: 1 }
 */
export interface RequestStats {
  requests: number;
  status4xx: number;
  status5xx: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  coldStarts: number;
}

/**
 * What a deployment used, the inputs of a cost estimate: function invocations and their
 * GB-seconds (duration times the function's memory), bytes sent, CDN requests, static-file
 * requests and the bytes its static files take in storage.
 *
 * @example
 * { invocations: 100, gbSeconds: 4.2, bytesOut: 1_200_000, cdnRequests: 160, assetRequests: 60, storageBytes: 2_400_000 }
 */
export interface Usage {
  invocations: number;
  gbSeconds: number;
  bytesOut: number;
  cdnRequests: number;
  assetRequests: number;
  storageBytes: number;
}

/**
 * The metrics of one deployment over a period: the whole (function requests only), per route
 * (the request path), and its usage.
 *
 * @example
 * const m: DeploymentMetrics = { deploymentId: 'd1', ...stats, routes: [{ route: '/', ...stats }], usage };
 */
export interface DeploymentMetrics extends RequestStats {
  deploymentId: string;
  routes: (RequestStats & { route: string })[];
  usage: Usage;
}

/**
 * Where request metrics come from. Locally: the router's request records
 * (`adapters/metrics-source/local.ts`); on AWS: CloudWatch (Lambda `Invocations`/`Errors`/`Duration`
 * per alias and the routes' embedded-metric-format metrics) through GetMetricData.
 *
 * @example
 * const [m] = await metrics.deployments({ projectId: 'web', deploymentIds: ['d1'], since, until });
 */
export interface MetricsSource {
  /** Metrics per deployment with requests in [since, until), or of the named ones (zeros when idle). */
  deployments(q: { projectId: string; deploymentIds?: string[]; since: string; until: string }): Promise<DeploymentMetrics[]>;
}

/**
 * Asks the deploy service to roll an alias back, the way a user's `shiplog rollback` does
 * (a `RollbackRequested` the deploy service acts on), recording `cause` as its causation.
 *
 * @example
 * await rollback.request({ projectId: 'web', alias: 'production', toDeploymentId: 'd1', reason: 'alarm error-rate …', actor, cause: alarmRaised.metadata });
 */
export interface RollbackRequester {
  request(input: {
    projectId: string;
    alias: string;
    toDeploymentId: string;
    reason: string;
    actor: Actor;
    cause: Pick<EventMetadata, 'eventId' | 'correlationId'>;
  }): Promise<{ eventId: string }>;
}
