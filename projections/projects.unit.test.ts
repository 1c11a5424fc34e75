import { describe, expect, it } from 'vitest';
import { foldEvents } from './fold.ts';
import { projectKeys, projectsProjection } from './projects.ts';
import { scenario, type Scenario, ship } from '../test/support/scenario-events.ts';
import { keyString, type DocKey } from './types.ts';

const docs = (s: Scenario) => foldEvents(projectsProjection, s.events).docs;
const doc = (s: Scenario, key: DocKey) => docs(s).get(keyString(key))?.state;

describe('projects projection', () => {
  it('given a created project with a live deployment, shows its settings, live deployment and latest deployment', () => {
    const s = scenario();
    s.created();
    s.pushed('main', 1);
    ship(s, 'd1');
    s.requested('d2', { n: 2 });
    expect(doc(s, projectKeys.project('web'))).toMatchObject({
      projectId: 'web', name: 'Web', repository: { fullName: 'acme/web' }, settings: { productionBranch: 'main' },
      liveDeploymentId: 'd1', aliases: { production: { deploymentId: 'd1', reason: 'deploy', pinned: false } },
      latestDeployment: { deploymentId: 'd2', target: 'production' }, deploymentCount: 2,
      lastPush: { branch: 'main', pusher: 'ada' },
    });
  });

  it('pins the alias after a rollback and unpins it on promote', () => {
    const s = scenario();
    s.created();
    ship(s, 'd1');
    ship(s, 'd2');
    s.rollbackRequested('d1');
    s.rolledBack('d1');
    expect(doc(s, projectKeys.project('web'))).toMatchObject({ liveDeploymentId: 'd1', aliases: { production: { deploymentId: 'd1', reason: 'rollback', pinned: true } } });
    s.promoted('d2');
    expect(doc(s, projectKeys.project('web'))).toMatchObject({ liveDeploymentId: 'd2', aliases: { production: { deploymentId: 'd2', reason: 'promote', pinned: false } } });
  });

  it('keeps preview aliases apart from production', () => {
    const s = scenario();
    ship(s, 'd1');
    ship(s, 'd2');
    s.requested('d3', { branch: 'login' }); s.queued('d3'); s.started('d3'); s.succeeded('d3'); s.assets('d3'); s.published('d3'); s.live('d3');
    expect(doc(s, projectKeys.project('web'))).toMatchObject({ liveDeploymentId: 'd2', aliases: { 'preview-login': { deploymentId: 'd3' } } });
  });

  it('lists env var names with their current version, and forgets removed ones', () => {
    const s = scenario();
    s.envSet('API_KEY', 'production', 1);
    s.envSet('API_KEY', 'production', 2);
    s.envSet('API_KEY', 'preview', 1);
    s.envSet('OLD', 'production', 1);
    s.envRemoved('OLD', 'production', 1);
    const env = [...docs(s).values()].filter((d) => d.key.pk === projectKeys.envVars('web')).map((d) => d.state);
    expect(env).toEqual([
      expect.objectContaining({ name: 'API_KEY', target: 'production', version: 2, updatedBy: { kind: 'user', id: 'ada' } }),
      expect.objectContaining({ name: 'API_KEY', target: 'preview', version: 1 }),
    ]);
    expect(JSON.stringify(env)).not.toMatch(/value/);
  });

  it('follows a domain from added to active, and drops it when removed', () => {
    const s = scenario();
    s.domainAdded('www.example.com');
    s.domainPending('www.example.com');
    expect(doc(s, projectKeys.domain('web', 'www.example.com'))).toMatchObject({ status: 'validating', records: [{ type: 'CNAME' }] });
    s.domainActive('www.example.com');
    expect(doc(s, projectKeys.domain('web', 'www.example.com'))).toMatchObject({ status: 'active', alias: 'production' });
    s.domainRemoved('www.example.com');
    expect(doc(s, projectKeys.domain('web', 'www.example.com'))).toBeUndefined();
  });

  it('shows no mounts at first, then the mounts after each change', () => {
    const s = scenario();
    s.created();
    expect(doc(s, projectKeys.project('web'))).toMatchObject({ mounts: [] });
    const outreach = { prefix: '/outreach', project: 'outreach' };
    s.mountsChanged([outreach], 'add', outreach);
    expect(doc(s, projectKeys.project('web'))).toMatchObject({ mounts: [outreach] });
    s.mountsChanged([], 'remove', outreach);
    expect(doc(s, projectKeys.project('web'))).toMatchObject({ mounts: [] });
  });

  it('ignores event types it does not know, and applies the same event once', () => {
    const s = scenario();
    s.created();
    s.unknown();
    s.envSet('A', 'production', 1);
    const once = docs(s);
    const withDuplicates = foldEvents(projectsProjection, s.events.flatMap((e) => [e, e])).docs;
    expect([...withDuplicates]).toEqual([...once]);
    expect(doc(s, projectKeys.project('web'))).toMatchObject({ name: 'Web' });
  });
});
