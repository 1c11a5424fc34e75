import { describe, expect, it } from 'vitest';
import { foldDeployment, TIMELINE_FIRST, TIMELINE_LAST } from '../../projections/index.ts';
import { withCausation } from '../../projections/views/timeline.ts';
import { rolledBackAgainAndAgain } from '../../test/support/scenario-events.ts';
import { formatReplay } from './replay.ts';

describe('shiplog replay deployment, for people', () => {
  it('says where the timeline of a deployment rolled back to again and again leaves events out, and how many', () => {
    const s = rolledBackAgainAndAgain(150);
    const events = s.events.filter((e) => e.metadata.deploymentId === 'd1');
    const { timeline, ...state } = foldDeployment('d1', events);
    const at = { event: events.length, time: events.at(-1)!.metadata.occurredAt, of: events.length };
    const lines = formatReplay({ deploymentId: 'd1', at, state: { ...state, url: null }, timeline: withCausation(timeline) }).split('\n');
    const shown = lines.slice(lines.indexOf('timeline') + 1);
    expect(shown).toHaveLength(TIMELINE_FIRST + 1 + TIMELINE_LAST);
    expect(shown[TIMELINE_FIRST - 1]).toMatch(new RegExp(`^ +${TIMELINE_FIRST} `));
    expect(shown[TIMELINE_FIRST]).toBe(`       … ${events.length - TIMELINE_FIRST - TIMELINE_LAST} events left out here (the store keeps them all)`);
    expect(shown[TIMELINE_FIRST + 1]).toMatch(new RegExp(`^ +${events.length - TIMELINE_LAST + 1} `));
    expect(shown.at(-1)).toMatch(new RegExp(`^ +${events.length} .*RolledBack: production rolled back from d2 to d1`));
  });
});
