import { z } from 'zod';
import { streams, type Actor, type EventData, type EventStore } from '../../events/index.ts';
import { execute, load } from '../shell/index.ts';
import { alarmDecider, errorRateAlarm, type AlarmCommand, type AlarmRule } from './decider.ts';
import type { DeploymentMetrics, MetricsSource, RuntimeLogLevel, RuntimeLogRecord, RuntimeLogStore, Usage } from './ports.ts';
import { estimateCost, prices, type CostEstimate } from './prices.ts';
import { releaseWatch } from './release-watch.ts';

/**
 * A request the observability API refuses, with the HTTP status it answers with.
 *
 * @example
 * throw new ObservabilityRequestError(404, 'no project "web"');
 */
export class ObservabilityRequestError extends Error {
  override readonly name = 'ObservabilityRequestError';
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}

/**
 * The body of `POST /api/projects/:project/alarms`: the production 5xx-rate rule.
 *
 * @example
 * AlarmRuleInput.parse({ maxErrorRate: 0.05, windowSeconds: 300, minRequests: 20, autoRollback: true });
 */
export const AlarmRuleInput = z.strictObject({
  maxErrorRate: z.number().min(0).max(1),
  windowSeconds: z.number().int().min(10).max(86_400),
  minRequests: z.number().int().min(1).max(1_000_000),
  autoRollback: z.boolean().default(false),
  /** How long after going live a breach still rolls back; 10 minutes by default. */
  watchSeconds: z.number().int().min(0).max(86_400).default(600),
});

/**
 * The runtime log levels, lowest first.
 *
 * @example
 * RuntimeLogLevelInput.parse('error');
 */
export const RuntimeLogLevelInput = z.enum(['debug', 'info', 'warning', 'error']);

const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A duration like `90s`, `15m`, `1h` or `7d`, in milliseconds (at most 35 days, what request
 * records are kept for); a `400` refusal otherwise.
 *
 * @example
 * parseSince('1h'); // 3_600_000
 */
export const parseSince = (raw: string): number => {
  const m = /^(\d{1,6})([smhd])$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * units[m[2]!]! * 1000 : NaN;
  if (!(ms > 0) || ms > 35 * 86_400_000) throw new ObservabilityRequestError(400, `"${raw}" is not a duration such as 90s, 15m, 1h or 7d (at most 35d)`);
  return ms;
};

/**
 * One deployment's request metrics as the API answers them: `errors` are 5xx answers.
 *
 * @example
 * { id: 'd1', live: true, requests: 120, errors: 1, status4xx: 3, p50Ms: 12, p95Ms: 80, p99Ms: 140, coldStarts: 1, routes: [...] }
 */
export type DeploymentMetricsView = Omit<DeploymentMetrics, 'deploymentId' | 'status5xx' | 'usage'> & { id: string; live: boolean; errors: number };

/**
 * The cost estimate of one deployment: what it used and what that costs.
 *
 * @example
 * { id: 'd1', usage: { invocations: 100, … }, cost: { total: 0.0002, … } }
 */
export interface DeploymentCost {
  id: string;
  usage: Usage;
  cost: CostEstimate;
}

/**
 * What the observability commands are built from: the event store, the runtime logs and the metrics.
 *
 * @example
 * observabilityCommands({ store, logs: localRuntimeLogStore({ dir }), metrics: localMetricsSource({ dir }), ids, now });
 */
export interface ObservabilityCommandDeps {
  store: EventStore;
  logs: RuntimeLogStore;
  metrics: MetricsSource;
  ids: () => string;
  now: () => string;
}

/**
 * The command and query side of observability, for the API: a project's alarm rule (set, get),
 * a deployment's runtime log (read, follow), request metrics and cost estimates of a project.
 *
 * @example
 * const obs = observabilityCommands({ store, logs, metrics, ids, now });
 * await obs.setAlarmRule('web', { maxErrorRate: 0.05, windowSeconds: 300, minRequests: 20, autoRollback: true }, actor);
 */
export const observabilityCommands = (deps: ObservabilityCommandDeps) => {
  const mustExist = async (projectId: string) => {
    if ((await deps.store.streamVersion(streams.project(projectId))) === 0) throw new ObservabilityRequestError(404, `no project "${projectId}"`);
  };
  const projectOf = async (deploymentId: string): Promise<string> => {
    const [first] = await deps.store.readStream(streams.deployment(deploymentId));
    if (first?.type !== 'DeploymentRequested') throw new ObservabilityRequestError(404, `no deployment "${deploymentId}"`);
    return (first.data as EventData<'DeploymentRequested'>).projectId;
  };
  const levelOf = (raw: string | undefined): RuntimeLogLevel | undefined => {
    if (raw === undefined || raw === '') return undefined;
    const level = RuntimeLogLevelInput.safeParse(raw);
    if (!level.success) throw new ObservabilityRequestError(400, `level must be one of ${RuntimeLogLevelInput.options.join(', ')}, not "${raw}"`);
    return level.data;
  };
  const window = (since: string | undefined, fallback: string) => {
    const until = deps.now();
    const ms = parseSince(since ?? fallback);
    return { since: new Date(Date.parse(until) - ms).toISOString(), until, ms };
  };
  // What production serves: the latest alias shift's target (the release stream is kept, and each read takes its tail).
  const releases = releaseWatch(deps.store);
  const liveOf = async (projectId: string) => (await releases.production(projectId)).release.live ?? undefined;

  const setAlarmRule = async (projectId: string, body: unknown, actor: Actor): Promise<{ changed: boolean; rule: AlarmRule }> => {
    const input = AlarmRuleInput.safeParse(body);
    if (!input.success) throw new ObservabilityRequestError(400, `invalid alarm rule: ${z.prettifyError(input.error)}`);
    await mustExist(projectId);
    const rule: AlarmRule = { projectId, alarmId: errorRateAlarm, metric: '5xx-rate', ...input.data };
    const { appended } = await execute(deps.store, streams.alarm(projectId, errorRateAlarm), alarmDecider, (): AlarmCommand => ({ type: 'SetRule', rule, setBy: actor }), {
      ids: deps.ids, now: deps.now, cause: null, actor,
    });
    return { changed: appended.length > 0, rule };
  };

  const getAlarmRule = async (projectId: string) => {
    await mustExist(projectId);
    const s = await load(deps.store, streams.alarm(projectId, errorRateAlarm), alarmDecider);
    return { rule: s.rule ?? null, status: s.status, ...(s.raised ? { raised: s.raised } : {}) };
  };

  const runtimeLogs = async (deploymentId: string, q: { level?: string; since?: string; limit?: number } = {}): Promise<RuntimeLogRecord[]> => {
    const projectId = await projectOf(deploymentId);
    const level = levelOf(q.level);
    const since = q.since ? window(q.since, q.since).since : undefined;
    return deps.logs.query({ projectId, deploymentId, ...(level ? { level } : {}), ...(since ? { since } : {}), limit: Math.min(Math.max(q.limit ?? 1000, 1), 10_000) });
  };

  /** Checks the request, then follows: new records of the deployment until the returned function is called. */
  const followRuntimeLogs = async (deploymentId: string, q: { level?: string }, onRecord: (r: RuntimeLogRecord) => void): Promise<() => void> => {
    const projectId = await projectOf(deploymentId);
    const level = levelOf(q.level);
    return deps.logs.follow({ projectId, deploymentId, ...(level ? { level } : {}) }, onRecord);
  };

  const metrics = async (projectId: string, q: { since?: string } = {}) => {
    await mustExist(projectId);
    const { since, until } = window(q.since, '1h');
    const live = await liveOf(projectId);
    const found = await deps.metrics.deployments({ projectId, since, until });
    const deployments: DeploymentMetricsView[] = found.map(({ deploymentId, status5xx, usage: _u, ...m }) => ({ id: deploymentId, live: deploymentId === live, errors: status5xx, ...m }));
    return { projectId, since, until, deployments };
  };

  const costs = async (projectId: string, q: { since?: string } = {}) => {
    await mustExist(projectId);
    const { since, until, ms } = window(q.since, '30d');
    const found = await deps.metrics.deployments({ projectId, since, until });
    const deployments: DeploymentCost[] = found.map((m) => ({ id: m.deploymentId, usage: m.usage, cost: estimateCost(m.usage, ms) }));
    const total = deployments.reduce((n, d) => n + d.cost.total, 0);
    return { projectId, since, until, currency: 'USD', prices: { asOf: prices.asOf, region: prices.region }, total, deployments };
  };

  return { setAlarmRule, getAlarmRule, runtimeLogs, followRuntimeLogs, metrics, costs };
};

export type ObservabilityCommands = ReturnType<typeof observabilityCommands>;
