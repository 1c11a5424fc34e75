import { describe, expect, it } from 'vitest';
import { activityKeys, activityProjection } from './activity.ts';
import { foldEvents } from './fold.ts';
import { scenario } from '../test/support/scenario-events.ts';
import type { ActivityEntry } from './views/activity.ts';

describe('activity projection', () => {
  it('records who did what and when: pushes, env changes, rollbacks, domain changes; not the machinery', () => {
    const s = scenario();
    s.created();
    s.envSet('API_KEY', 'production', 1);
    s.pushed('main', 1);
    s.requested('d1'); s.queued('d1'); s.started('d1'); s.succeeded('d1'); s.assets('d1'); s.published('d1'); s.live('d1');
    s.requested('d2', { trigger: 'manual' });
    s.rollbackRequested('d1');
    s.domainAdded('www.example.com');
    s.domainRemoved('www.example.com');
    const feed = [...foldEvents<ActivityEntry>(activityProjection, s.events).docs.values()].map((d) => d.state);
    expect(feed.map((e) => [e.type, `${e.actor.kind}:${e.actor.id}`])).toEqual([
      ['ProjectCreated', 'user:ada'],
      ['EnvVarSet', 'user:ada'],
      ['PushReceived', 'github:ada'],
      ['DeploymentRequested', 'user:ada'],
      ['RollbackRequested', 'user:ada'],
      ['DomainAdded', 'user:ada'],
      ['DomainRemoved', 'user:ada'],
    ]);
    expect(feed[1]!.summary).toBe('env var API_KEY (production) set to version 1');
    expect(feed[2]).toMatchObject({ actor: { name: 'Ada Lovelace' }, summary: expect.stringMatching(/^ada pushed refs\/heads\/main/) });
    const first = [...foldEvents<ActivityEntry>(activityProjection, s.events).docs.values()][0]!;
    expect(first.key.pk).toBe(activityKeys.project('web'));
    expect(activityProjection.listEntryOf!(first.state, first.key)).toMatchObject({ lpk: 'activity', lsk: first.key.sk });
  });

  it('given the same event twice, keeps one entry', () => {
    const s = scenario();
    s.envSet('A', 'production', 1);
    expect(foldEvents(activityProjection, [...s.events, ...s.events]).docs.size).toBe(1);
  });
});
