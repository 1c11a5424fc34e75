import type { Actor, EventData, ShiplogEvent } from '../../events/index.ts';
import type { Decider } from '../shell/index.ts';

/**
 * An event of an `alarm#<projectId>#<alarmId>` stream.
 *
 * @example
 * const e: AlarmStreamEvent = { type: 'AlarmCleared', data: { projectId: 'web', alarmId: 'error-rate', metric: '5xx-rate', observed: 0, raisedAt } };
 */
export type AlarmStreamEvent = Extract<ShiplogEvent, { type: 'AlarmRuleSet' | 'AlarmRaised' | 'AlarmCleared' }>;

/**
 * A project's alarm rule, as `AlarmRuleSet` sets it.
 *
 * @example
 * const rule: AlarmRule = { projectId: 'web', alarmId: 'error-rate', metric: '5xx-rate', maxErrorRate: 0.05, windowSeconds: 300, minRequests: 20, autoRollback: true, watchSeconds: 600 };
 */
export type AlarmRule = Omit<EventData<'AlarmRuleSet'>, 'setBy'>;

/**
 * The id of the one alarm a project has today: its production 5xx rate.
 *
 * @example
 * streams.alarm('web', errorRateAlarm); // 'alarm#web#error-rate'
 */
export const errorRateAlarm = 'error-rate';

/**
 * One alarm, as its stream tells it.
 *
 * @example
 * const s: AlarmState = { rule, status: 'raised', raised: { deploymentId: 'd2', at: '2026-11-22T10:05:00.000Z', observed: 1 } };
 */
export interface AlarmState {
  rule?: AlarmRule;
  status: 'ok' | 'raised';
  /** While raised: the deployment it was raised for, and when. */
  raised?: { deploymentId?: string; at: string; observed: number };
}

/**
 * The state of an alarm with no events: no rule, not raised.
 *
 * @example
 * initialState(); // { status: 'ok' }
 */
export const initialState = (): AlarmState => ({ status: 'ok' });

/**
 * What the production alias served over the rule's window, as measured: the deployment live now,
 * when it went live, whether there is an earlier one to go back to, and its function requests
 * and 5xx answers in the window.
 *
 * @example
 * const o: Observation = { deploymentId: 'd2', liveSince: '2026-11-22T10:00:00.000Z', canRollBack: true, requests: 40, errors: 40 };
 */
export interface Observation {
  deploymentId: string;
  liveSince: string;
  canRollBack: boolean;
  requests: number;
  errors: number;
}

/**
 * What the observability service asks of an alarm: set its rule, or judge an observation.
 *
 * @example
 * decide({ type: 'Evaluate', now, observation }, state)
 */
export type AlarmCommand =
  | { type: 'SetRule'; rule: AlarmRule; setBy: Actor }
  | { type: 'Evaluate'; now: string; observation: Observation };

/**
 * Applies one event of the alarm's stream.
 *
 * @example
 * const s = history.reduce(evolve, initialState());
 */
export const evolve = (s: AlarmState, e: AlarmStreamEvent): AlarmState => {
  switch (e.type) {
    case 'AlarmRuleSet': {
      const { setBy: _by, ...rule } = e.data;
      return { ...s, rule };
    }
    case 'AlarmRaised':
      return { ...s, status: 'raised', raised: { at: e.data.since, observed: e.data.observed, ...(e.data.deploymentId ? { deploymentId: e.data.deploymentId } : {}) } };
    case 'AlarmCleared': {
      const { raised: _r, ...rest } = s;
      return { ...rest, status: 'ok' };
    }
    default:
      return s;
  }
};

const sameRule = (a: AlarmRule | undefined, b: AlarmRule): boolean => JSON.stringify(a) === JSON.stringify(b);
const rateOf = (o: Observation): number => (o.requests === 0 ? 0 : o.errors / o.requests);
const round = (n: number): number => Math.round(n * 10_000) / 10_000;

const evaluate = (s: AlarmState, now: string, o: Observation): AlarmStreamEvent[] => {
  const rule = s.rule!;
  const ref = { projectId: rule.projectId, alarmId: rule.alarmId, alias: 'production', deploymentId: o.deploymentId };
  const observed = round(rateOf(o));
  const judged = o.requests >= rule.minRequests;
  if (s.status === 'raised') {
    // The deployment it was raised for no longer serves, or serves well again.
    const moved = s.raised?.deploymentId !== o.deploymentId;
    if (!moved && !(judged && observed <= rule.maxErrorRate)) return [];
    return [{ type: 'AlarmCleared', data: { ...ref, metric: rule.metric, observed: judged ? observed : 0, raisedAt: s.raised!.at } }];
  }
  if (!judged || observed <= rule.maxErrorRate) return [];
  const watched = Date.parse(now) - Date.parse(o.liveSince) <= rule.watchSeconds * 1000;
  const rollback = rule.autoRollback && watched && o.canRollBack;
  const description = `${o.errors} of ${o.requests} requests answered 5xx in the last ${rule.windowSeconds} s (allowed: ${rule.maxErrorRate})`
    + (rollback ? '; rolling back to the previous deployment' : rule.autoRollback ? (o.canRollBack ? '; past its watch period, not rolled back' : '; nothing earlier to roll back to') : '');
  return [{
    type: 'AlarmRaised',
    data: {
      ...ref, metric: rule.metric, severity: rollback ? 'critical' : 'warning', threshold: rule.maxErrorRate, observed,
      windowSeconds: rule.windowSeconds, since: now, description, ...(rollback ? { rollback: true } : {}),
    },
  }];
};

/**
 * The rules of one alarm. A rule set twice the same decides nothing. An observation of a
 * deployment with fewer requests than the rule's minimum is not judged. A breach raises the
 * alarm once (with `rollback` when the rule rolls back and the deployment went live within its
 * watch period, and there is an earlier one); it clears once the deployment serves under the
 * threshold again, or no longer serves.
 *
 * @example
 * const events = decide({ type: 'Evaluate', now, observation }, history.reduce(evolve, initialState()));
 */
export const decide = (cmd: AlarmCommand, s: AlarmState): AlarmStreamEvent[] => {
  switch (cmd.type) {
    case 'SetRule':
      return sameRule(s.rule, cmd.rule) ? [] : [{ type: 'AlarmRuleSet', data: { ...cmd.rule, setBy: cmd.setBy } }];
    case 'Evaluate':
      return s.rule ? evaluate(s, cmd.now, cmd.observation) : [];
  }
};

/**
 * The alarm decider, as the shell runs it.
 *
 * @example
 * await execute(store, streams.alarm('web', errorRateAlarm), alarmDecider, () => cmd, ctx);
 */
export const alarmDecider: Decider<AlarmState, AlarmCommand, AlarmStreamEvent> = { decide, evolve, initialState };
