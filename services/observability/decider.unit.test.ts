import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { alarmDecider, errorRateAlarm, type AlarmCommand, type AlarmRule, type AlarmStreamEvent, type Observation } from './decider.ts';

const given = deciderSpec(alarmDecider);
const admin = { kind: 'user', id: 'admin' } as const;
const rule: AlarmRule = { projectId: 'web', alarmId: errorRateAlarm, metric: '5xx-rate', maxErrorRate: 0.5, windowSeconds: 60, minRequests: 10, autoRollback: true, watchSeconds: 600 };
const ruleSet: AlarmStreamEvent = { type: 'AlarmRuleSet', data: { ...rule, setBy: admin } };
const liveSince = '2026-11-22T10:00:00.000Z';
const soon = '2026-11-22T10:05:00.000Z';
const late = '2026-11-22T10:20:00.000Z';
const bad: Observation = { deploymentId: 'd2', liveSince, canRollBack: true, requests: 20, errors: 20 };
const evaluate = (observation: Observation, now = soon): AlarmCommand => ({ type: 'Evaluate', now, observation });
const ref = { projectId: 'web', alarmId: errorRateAlarm, alias: 'production' };
const raised = (over: Partial<Extract<AlarmStreamEvent, { type: 'AlarmRaised' }>['data']> = {}): AlarmStreamEvent => ({
  type: 'AlarmRaised',
  data: {
    ...ref, deploymentId: 'd2', metric: '5xx-rate', severity: 'critical', threshold: 0.5, observed: 1, windowSeconds: 60, since: soon,
    description: '20 of 20 requests answered 5xx in the last 60 s (allowed: 0.5); rolling back to the previous deployment', rollback: true, ...over,
  },
});

describe('alarm decider', () => {
  it('sets a rule, and a second identical one decides nothing', () => {
    given([]).when({ type: 'SetRule', rule, setBy: admin }).then([ruleSet]);
    given([ruleSet]).when({ type: 'SetRule', rule, setBy: admin }).thenNothing();
    given([ruleSet]).when({ type: 'SetRule', rule: { ...rule, maxErrorRate: 0.1 }, setBy: admin }).thenTypes(['AlarmRuleSet']);
  });

  it('judges nothing without a rule, or below the minimum of requests', () => {
    given([]).when(evaluate(bad)).thenNothing();
    given([ruleSet]).when(evaluate({ ...bad, requests: 9, errors: 9 })).thenNothing();
  });

  it('stays quiet at or under the threshold', () => {
    given([ruleSet]).when(evaluate({ ...bad, errors: 10 })).thenNothing();
  });

  it('raises with rollback on a breach within the watch period', () => {
    given([ruleSet]).when(evaluate(bad)).then([raised()]);
  });

  it('raises without rollback past the watch period, without auto-rollback, or with nothing earlier', () => {
    given([ruleSet]).when(evaluate(bad, late)).then((events) => {
      expect(events).toMatchObject([{ type: 'AlarmRaised', data: { severity: 'warning', since: late } }]);
      expect(events[0]!.type === 'AlarmRaised' && events[0]!.data.rollback).toBeUndefined();
      expect(events[0]!.type === 'AlarmRaised' && events[0]!.data.description).toContain('past its watch period');
    });
    const noRollback: AlarmStreamEvent = { type: 'AlarmRuleSet', data: { ...rule, autoRollback: false, setBy: admin } };
    given([noRollback]).when(evaluate(bad)).then((events) => expect(events).toMatchObject([{ type: 'AlarmRaised', data: { severity: 'warning' } }]));
    given([ruleSet]).when(evaluate({ ...bad, canRollBack: false })).then((events) => {
      expect(events[0]!.type === 'AlarmRaised' && events[0]!.data.rollback).toBeUndefined();
    });
  });

  it('raises once while raised', () => {
    given([ruleSet, raised()]).when(evaluate(bad)).thenNothing();
  });

  it('clears once the deployment it was raised for no longer serves', () => {
    given([ruleSet, raised()]).when(evaluate({ deploymentId: 'd1', liveSince: soon, canRollBack: true, requests: 0, errors: 0 }))
      .then([{ type: 'AlarmCleared', data: { ...ref, deploymentId: 'd1', metric: '5xx-rate', observed: 0, raisedAt: soon } }]);
  });

  it('clears once the same deployment serves under the threshold again, judged on enough requests', () => {
    given([ruleSet, raised()]).when(evaluate({ ...bad, errors: 1 })).thenTypes(['AlarmCleared']);
    given([ruleSet, raised()]).when(evaluate({ ...bad, requests: 5, errors: 0 })).thenNothing();
  });

  it('raises again after clearing', () => {
    const cleared: AlarmStreamEvent = { type: 'AlarmCleared', data: { ...ref, deploymentId: 'd2', metric: '5xx-rate', observed: 0, raisedAt: soon } };
    given([ruleSet, raised(), cleared]).when(evaluate(bad)).thenTypes(['AlarmRaised']);
  });
});
