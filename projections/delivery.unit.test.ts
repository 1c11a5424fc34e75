import { describe, expect, it } from 'vitest';
import { deliveryProjection } from './delivery.ts';
import { foldEvents } from './fold.ts';
import { scenario, type Scenario } from '../test/support/scenario-events.ts';
import { computeDeliveryMetrics, type DeliveryFacts } from './views/dora.ts';

const ship = (s: Scenario, d: string, n = 1) => { s.requested(d, { n, commitAt: new Date(Date.parse(s.now()) - 3_600_000).toISOString() }); s.queued(d); s.started(d); s.succeeded(d); s.assets(d); s.published(d); s.live(d); };
const facts = (s: Scenario) => [...foldEvents<DeliveryFacts>(deliveryProjection, s.events).docs.values()].map((d) => d.state);
const window = { from: '2026-11-22T00:00:00.000Z', to: '2026-11-23T00:00:00.000Z' };

describe('delivery projection and the DORA four', () => {
  it('records, per deployment, when it was committed, went live, failed, was rolled back and alarmed', () => {
    const s = scenario();
    ship(s, 'd1');
    ship(s, 'd2', 2);
    const raised = s.alarm('d2');
    s.rollbackRequested('d1');
    s.rolledBack('d1');
    s.cleared('d2', raised);
    const d2 = facts(s).find((f) => f.deploymentId === 'd2')!;
    expect(d2).toMatchObject({ target: 'production', liveAt: expect.any(String), alarmAt: expect.any(String), rolledBackAt: expect.any(String), alarmClearedAt: expect.any(String) });
    expect(d2.committedAt! < d2.requestedAt!).toBe(true);
  });

  it('computes frequency, lead time, change failure rate and time to restore', () => {
    const s = scenario();
    ship(s, 'd1');
    s.wait(600_000);
    ship(s, 'd2', 2);
    const raised = s.alarm('d2');
    s.wait(120_000);
    s.rollbackRequested('d1');
    s.rolledBack('d1');
    s.wait(60_000);
    s.cleared('d2', raised);
    s.requested('d3', { n: 3 }); s.queued('d3'); s.started('d3'); s.failed('d3'); s.deployFailed('d3', 'build');
    const m = computeDeliveryMetrics('web', facts(s), window);
    expect(m).toMatchObject({ deployments: 2, failedDeployments: 1, changeFailures: 1, changeFailureRate: 0.5 });
    expect(m.deploymentFrequency.perDay).toBeCloseTo(2);
    expect(m.leadTime.samples).toBe(2);
    expect(m.leadTime.medianMs).toBeGreaterThan(3_600_000);
    // From the alarm to the rollback: 2 minutes and the rollback request in between.
    expect(m.timeToRestore).toMatchObject({ samples: 1, unresolved: 0 });
    expect(m.timeToRestore.medianMs).toBeGreaterThanOrEqual(120_000);
    expect(m.timeToRestore.medianMs).toBeLessThan(130_000);
  });

  it('counts a failure as restored by the next production deployment going live, and open until then', () => {
    const s = scenario();
    ship(s, 'd1');
    s.alarm('d1');
    expect(computeDeliveryMetrics('web', facts(s), window).timeToRestore).toMatchObject({ samples: 0, unresolved: 1 });
    s.wait(300_000);
    ship(s, 'd2', 2);
    expect(computeDeliveryMetrics('web', facts(s), window).timeToRestore.samples).toBe(1);
  });

  it('has no rates without deployments, and ignores previews', () => {
    const s = scenario();
    s.requested('p1', { branch: 'login' }); s.queued('p1'); s.started('p1'); s.succeeded('p1'); s.assets('p1'); s.published('p1'); s.live('p1');
    expect(computeDeliveryMetrics('web', facts(s), window)).toMatchObject({ deployments: 0, changeFailureRate: null, leadTime: { samples: 0, medianMs: null } });
  });
});
