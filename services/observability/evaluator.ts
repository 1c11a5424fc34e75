import { streams, type EmitContext, type EventStore, type StoredEvent } from '../../events/index.ts';
import { rollbackTarget } from '../deploy/index.ts';
import { execute, streamStates } from '../shell/index.ts';
import { alarmDecider, errorRateAlarm, type AlarmCommand, type Observation } from './decider.ts';
import type { MetricsSource } from './ports.ts';
import { releaseWatch } from './release-watch.ts';

/**
 * Options of {@link alarmEvaluator}.
 *
 * @example
 * alarmEvaluator({ store, metrics, ids, now, log: console.error });
 */
export interface AlarmEvaluatorDeps {
  store: EventStore;
  metrics: MetricsSource;
  ids: () => string;
  now: () => string;
  log?: (line: string) => void;
}

const actor = { kind: 'service', id: 'observability' } as const;

/**
 * Judges a project's alarm rule against what its production deployment serves: reads the
 * release (what is live, since when, whether there is an earlier deployment) and the metrics of
 * the rule's window, and lets the alarm decider raise or clear. Run for the projects that served
 * requests lately (`watch`) on a timer (`start`), or for one project (`evaluate`).
 *
 * @example
 * const alarms = alarmEvaluator({ store, metrics, ids, now });
 * alarms.watch('web');
 * const stop = alarms.start(2000);
 */
export const alarmEvaluator = (deps: AlarmEvaluatorDeps) => {
  const ctx: EmitContext = { ids: deps.ids, now: deps.now, cause: null, actor };
  const active = new Map<string, number>();
  // Run every few seconds per project: the release and alarm streams are kept, and each
  // evaluation reads only what was appended since the last.
  const releases = releaseWatch(deps.store);
  const alarms = streamStates(deps.store, alarmDecider);

  const observe = async (projectId: string, windowSeconds: number): Promise<Observation | undefined> => {
    const { release, liveSince } = await releases.production(projectId);
    if (!release.live || !liveSince) return undefined;
    const until = deps.now();
    const since = new Date(Date.parse(until) - windowSeconds * 1000).toISOString();
    const [m] = await deps.metrics.deployments({ projectId, deploymentIds: [release.live], since, until });
    return {
      deploymentId: release.live,
      liveSince,
      canRollBack: rollbackTarget(release) !== undefined,
      requests: m?.requests ?? 0,
      errors: m?.status5xx ?? 0,
    };
  };

  /** Evaluates the project's alarm now; returns the events it appended. */
  const evaluate = async (projectId: string): Promise<StoredEvent[]> => {
    const stream = streams.alarm(projectId, errorRateAlarm);
    const loaded = await alarms.load(stream);
    if (!loaded.state.rule) return [];
    const observation = await observe(projectId, loaded.state.rule.windowSeconds);
    if (!observation) return [];
    const { appended } = await execute(deps.store, stream, alarmDecider, (): AlarmCommand => ({ type: 'Evaluate', now: deps.now(), observation }), ctx, { states: alarms, loaded });
    return appended;
  };

  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      const horizon = Date.now() - 3600_000;
      for (const [projectId, seen] of active) {
        if (seen < horizon) active.delete(projectId);
        else await evaluate(projectId).catch((e: unknown) => deps.log?.(`alarms: ${projectId}: ${(e as Error).message}`));
      }
    } finally {
      running = false;
    }
  };

  return {
    evaluate,
    /** Marks a project as serving: it is evaluated on every pass for the next hour. */
    watch: (projectId: string) => void active.set(projectId, Date.now()),
    /** Evaluates the watched projects every `intervalMs`; returns the stop function. */
    start: (intervalMs: number) => {
      const t = setInterval(() => void pass(), intervalMs);
      t.unref();
      return () => clearInterval(t);
    },
    pass,
  };
};

/**
 * The evaluator {@link alarmEvaluator} returns.
 *
 * @example
 * const alarms: AlarmEvaluator = alarmEvaluator(deps);
 */
export type AlarmEvaluator = ReturnType<typeof alarmEvaluator>;
