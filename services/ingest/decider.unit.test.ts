import { describe, expect, it } from 'vitest';
import { detailSchemaFor, streams, type EventData, type StoredEvent } from '../../events/index.ts';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { decisionOf, ingestDecider, type Decision, type IngestCommand, type IngestNewEvent } from './decider.ts';
import { CommandRejectedError, type RejectionCode } from './errors.ts';

const now = '2026-11-22T10:00:00.000Z';
const ids = ['01JD0000000000000000000001', '01JD0000000000000000000002', '01JD0000000000000000000003', '01JD0000000000000000000004'];
const user = { kind: 'user', id: 'ada' } as const;
const github = { kind: 'github', id: 'octocat' } as const;
const zero = '0'.repeat(40);
const shaA = 'a'.repeat(40);
const shaB = 'b'.repeat(40);
const build = { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } as const;
const settings = { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build } as const;
const repository = { source: 'github', fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' } as const;
const base = { projectId: 'web', now, ids, actor: user };

let seq = 0;
const meta = (over: Partial<StoredEvent['metadata']> = {}) => ({
  eventId: `01JC${String(++seq).padStart(22, '0')}`, streamId: streams.project('web'), version: seq, occurredAt: '2026-11-21T09:00:00.000Z',
  schemaVersion: 1, correlationId: 'c', causationId: null, projectId: 'web', actor: user, ...over,
});
const ev = <T extends string>(type: T, data: unknown, over: Partial<StoredEvent['metadata']> = {}): StoredEvent =>
  ({ type, data, metadata: meta(over), position: '', recordedAt: '' });

const created = () => ev('ProjectCreated', { projectId: 'web', name: 'web', repository, settings });
const envSet = (name: string, target: 'production' | 'preview', version: number) => ev('EnvVarSet', { projectId: 'web', name, target, version, sensitive: false });
const commit = (sha: string, message = 'Fix nav') => ({ sha, message, author: { name: 'Ada', email: 'ada@example.com' } });
const push = (o: { ref?: string; before?: string; after?: string; deliveryId?: string; message?: string } = {}) => {
  const ref = o.ref ?? 'refs/heads/main';
  const after = o.after ?? shaA;
  return {
    deliveryId: o.deliveryId ?? 'gh-1', source: 'github' as const, repository: 'acme/web', ref,
    branch: ref.startsWith('refs/heads/') ? ref.slice(11) : null, before: o.before ?? zero, after,
    headCommit: /^0+$/.test(after) ? null : commit(after, o.message), pusher: { name: 'octocat' }, forced: false,
  };
};
const receive = (p = push()): IngestCommand => ({ ...base, actor: github, type: 'ReceivePush', push: p, repository });

// Every decided event must satisfy the catalog's full detail schema.
const checkContract = (e: IngestNewEvent) =>
  detailSchemaFor(e.type).parse({ data: e.data, metadata: { ...e.metadata, streamId: 's', version: 1, schemaVersion: 1 } });

const spec = deciderSpec(ingestDecider);
// The one Given/When/Then, with the decision split by stream and every event checked against the catalog.
const given = (...history: StoredEvent[]) => ({
  when: (cmd: IngestCommand) => {
    const when = spec(history).when(cmd);
    return {
      then: (expected: { project?: unknown[]; deployments?: unknown[] }): Decision => {
        let d: Decision | undefined;
        when.then((events, before) => {
          d = decisionOf(cmd, before, events);
          [...d.project, ...d.deployments].forEach(checkContract);
          expect(d.project.map(({ type, data }) => ({ type, data }))).toEqual(expected.project ?? []);
          expect(d.deployments.map(({ type, data }) => ({ type, data }))).toEqual(expected.deployments ?? []);
        });
        return d!;
      },
      thenNothing: when.thenNothing,
      thenThrows: (code: RejectionCode) => when.thenThrows(CommandRejectedError, (err) => expect(err.code).toBe(code)),
    };
  },
});

describe('ingest decider: projects', () => {
  it('creates a project', () =>
    given().when({ ...base, type: 'CreateProject', repository, settings }).then({ project: [{ type: 'ProjectCreated', data: { projectId: 'web', name: 'web', repository, settings } }] }));

  it('refuses a name that is taken', () => given(created()).when({ ...base, type: 'CreateProject', repository, settings }).thenThrows('project-exists'));

  it('refuses a name that is not a DNS label', () =>
    given().when({ ...base, projectId: 'Web_App', type: 'CreateProject', repository, settings }).thenThrows('invalid'));

  it('records the full settings and which fields changed; an unchanged patch decides nothing', () => {
    given(created())
      .when({ ...base, type: 'ChangeSettings', patch: { productionBranch: 'trunk', build: { buildCommand: 'npm run build' } } })
      .then({ project: [{ type: 'ProjectSettingsChanged', data: { projectId: 'web', settings: { ...settings, productionBranch: 'trunk', build: { ...build, buildCommand: 'npm run build' } }, changed: ['productionBranch', 'build'] } }] });
    given(created()).when({ ...base, type: 'ChangeSettings', patch: { productionBranch: 'main' } }).thenNothing();
  });

  it('refuses commands for a project that does not exist', () =>
    given().when({ ...base, type: 'SetEnvVar', name: 'A', target: 'production', sensitive: false }).thenThrows('project-not-found'));
});

describe('ingest decider: env vars', () => {
  it('numbers versions per name and target, never reusing one after a removal', () => {
    given(created()).when({ ...base, type: 'SetEnvVar', name: 'API_KEY', target: 'production', sensitive: true })
      .then({ project: [{ type: 'EnvVarSet', data: { projectId: 'web', name: 'API_KEY', target: 'production', version: 1, sensitive: true } }] });
    given(created(), envSet('API_KEY', 'production', 1), ev('EnvVarRemoved', { projectId: 'web', name: 'API_KEY', target: 'production', version: 1 }), envSet('API_KEY', 'preview', 1))
      .when({ ...base, type: 'SetEnvVar', name: 'API_KEY', target: 'production', sensitive: false })
      .then({ project: [{ type: 'EnvVarSet', data: { projectId: 'web', name: 'API_KEY', target: 'production', version: 2, sensitive: false } }] });
  });

  it('removes the current version; removing again decides nothing; an unknown name is refused', () => {
    given(created(), envSet('A', 'preview', 1), envSet('A', 'preview', 2)).when({ ...base, type: 'RemoveEnvVar', name: 'A', target: 'preview' })
      .then({ project: [{ type: 'EnvVarRemoved', data: { projectId: 'web', name: 'A', target: 'preview', version: 2 } }] });
    given(created(), envSet('A', 'preview', 1), ev('EnvVarRemoved', { projectId: 'web', name: 'A', target: 'preview', version: 1 }))
      .when({ ...base, type: 'RemoveEnvVar', name: 'A', target: 'preview' }).thenNothing();
    given(created()).when({ ...base, type: 'RemoveEnvVar', name: 'A', target: 'preview' }).thenThrows('env-var-not-found');
  });
});

describe('ingest decider: pushes', () => {
  const requested = (o: Partial<EventData<'DeploymentRequested'>>) => ({
    type: 'DeploymentRequested',
    data: {
      projectId: 'web', deploymentId: ids[0], target: 'production', alias: 'production', trigger: 'push', branch: 'main', commit: commit(shaA),
      repository, buildSettings: build, env: [], requestedBy: github, requestedAt: now, pushDeliveryId: 'gh-1', ...o,
    },
  });

  it('records a push to the production branch and requests a production deployment caused by it', () => {
    const d = given(created(), envSet('DB', 'production', 3), envSet('PREVIEW_ONLY', 'preview', 1))
      .when(receive())
      .then({ project: [{ type: 'PushReceived', data: { projectId: 'web', ...push() } }], deployments: [requested({ env: [{ name: 'DB', target: 'production', version: 3 }] })] });
    const [received] = d.project;
    const [deployment] = d.deployments;
    expect(received!.metadata).toMatchObject({ correlationId: 'gh-1', causationId: null, deploymentId: ids[0], actor: github });
    expect(deployment!.metadata).toMatchObject({ correlationId: ids[0], causationId: received!.metadata.eventId, deploymentId: ids[0] });
  });

  it('deploys any other branch as a preview on its own alias', () =>
    given(created()).when(receive(push({ ref: 'refs/heads/feature/Login' })))
      .then({ project: [{ type: 'PushReceived', data: { projectId: 'web', ...push({ ref: 'refs/heads/feature/Login' }) } }], deployments: [requested({ target: 'preview', alias: 'preview-feature-login', branch: 'feature/Login' })] }));

  it.each([
    ['a tag', push({ ref: 'refs/tags/v1' }), 'tag', shaA],
    ['a deleted branch', push({ before: shaA, after: zero }), 'branch-deleted', shaA],
    ['a message asking to skip', push({ message: 'Docs [skip ci]' }), 'skip-ci-in-message', shaA],
  ])('ignores %s with its reason', (_what, p, reason, sha) => {
    const d = given(created()).when(receive(p)).then({
      project: [{ type: 'PushReceived', data: { projectId: 'web', ...p } }, { type: 'PushIgnored', data: expect.objectContaining({ projectId: 'web', deliveryId: 'gh-1', ref: p.ref, sha, reason }) }],
    });
    expect(d.project[1]!.metadata.causationId).toBe(d.project[0]!.metadata.eventId);
  });

  it('ignores branches the settings do not deploy', () => {
    const noPreviews = ev('ProjectSettingsChanged', { projectId: 'web', settings: { ...settings, previewBranches: 'none' }, changed: ['previewBranches'] });
    const manual = ev('ProjectSettingsChanged', { projectId: 'web', settings: { ...settings, autoDeploy: false }, changed: ['autoDeploy'] });
    const reasonOf = (d: Decision) => (d.project[1]?.data as { reason?: string }).reason;
    expect(reasonOf(given(created(), noPreviews).when(receive(push({ ref: 'refs/heads/x' }))).then({ project: [expect.anything(), expect.anything()] }))).toBe('branch-not-tracked');
    expect(reasonOf(given(created(), manual).when(receive()).then({ project: [expect.anything(), expect.anything()] }))).toBe('auto-deploy-disabled');
  });

  it('decides nothing new for a delivery seen before, and re-requests its deployment with the same id and time', () => {
    const first = ev('PushReceived', { projectId: 'web', ...push() }, { deploymentId: 'd-first', occurredAt: '2026-11-22T09:59:00.000Z' });
    const d = given(created(), first).when(receive()).then({ deployments: [requested({ deploymentId: 'd-first', requestedAt: '2026-11-22T09:59:00.000Z' })] });
    expect(d.duplicate?.deploymentId).toBe('d-first');
    expect(d.deployments[0]!.metadata.causationId).toBe(first.metadata.eventId);
  });

  it('re-requests nothing for a duplicate of an ignored push', () => {
    const d = given(created(), ev('PushReceived', { projectId: 'web', ...push({ ref: 'refs/tags/v1' }) })).when(receive(push({ ref: 'refs/tags/v1' }))).then({});
    expect(d.duplicate).toBeDefined();
  });

  it('ignores the same ref transition arriving under another delivery id (two hooks, or a replay)', () =>
    given(created(), ev('PushReceived', { projectId: 'web', ...push() }, { deploymentId: 'd1' }))
      .when(receive(push({ deliveryId: 'gh-2' })))
      .then({ project: [expect.objectContaining({ type: 'PushReceived' }), { type: 'PushIgnored', data: expect.objectContaining({ reason: 'duplicate-delivery', deliveryId: 'gh-2' }) }] }));

  it('deploys the next push on the same ref', () =>
    given(created(), ev('PushReceived', { projectId: 'web', ...push() }, { deploymentId: 'd1' }))
      .when(receive(push({ deliveryId: 'gh-2', before: shaA, after: shaB })))
      .then({ project: [expect.objectContaining({ type: 'PushReceived' })], deployments: [requested({ commit: commit(shaB), pushDeliveryId: 'gh-2' })] }));
});

describe('ingest decider: rollback, promote, redeploy', () => {
  const source = (o: Partial<EventData<'DeploymentRequested'>> = {}): EventData<'DeploymentRequested'> => ({
    projectId: 'web', deploymentId: 'd-src', target: 'preview', alias: 'preview-x', trigger: 'push', branch: 'x', commit: commit(shaA),
    repository, buildSettings: { ...build, buildCommand: 'old' }, env: [{ name: 'OLD', target: 'preview', version: 1 }], requestedBy: github, requestedAt: now, ...o,
  });

  it('records a rollback request, refusing a target deployment of another project', () => {
    given(created()).when({ ...base, type: 'RequestRollback', alias: 'production', to: source({ target: 'production', alias: 'production' }), reason: '500s' })
      .then({ project: [{ type: 'RollbackRequested', data: { projectId: 'web', alias: 'production', toDeploymentId: 'd-src', reason: '500s', requestedBy: user } }] });
    given(created()).when({ ...base, type: 'RequestRollback', alias: 'production', to: source({ projectId: 'other' }), reason: '' }).thenThrows('deployment-not-found');
  });

  it('promotes a production deployment in place', () => {
    const d = given(created()).when({ ...base, type: 'RequestPromote', source: source({ target: 'production', alias: 'production' }) })
      .then({ project: [{ type: 'PromoteRequested', data: { projectId: 'web', deploymentId: 'd-src', alias: 'production', requestedBy: user } }] });
    expect(d.project[0]!.metadata).toMatchObject({ deploymentId: 'd-src', correlationId: 'd-src' });
  });

  it('refuses to promote a preview (promote never rebuilds), naming the redeploy that builds it for production', () =>
    given(created(), envSet('DB', 'production', 2)).when({ ...base, type: 'RequestPromote', source: source() }).thenThrows('not-promotable'));

  it('redeploys a preview for production with the production settings and env (redeploy --prod)', () =>
    given(created(), envSet('DB', 'production', 2), envSet('P', 'preview', 3)).when({ ...base, type: 'RequestRedeploy', source: source(), settings: 'current', target: 'production' }).then({
      deployments: [{ type: 'DeploymentRequested', data: {
        projectId: 'web', deploymentId: ids[0], target: 'production', alias: 'production', trigger: 'redeploy', branch: 'x', commit: commit(shaA), repository,
        buildSettings: build, env: [{ name: 'DB', target: 'production', version: 2 }], requestedBy: user, requestedAt: now, sourceDeploymentId: 'd-src',
      } }],
    }));

  it('redeploys with the current settings and env, or exactly as the source was', () => {
    const redeploy = (settingsFrom: 'current' | 'source') => ({ ...base, type: 'RequestRedeploy' as const, source: source(), settings: settingsFrom });
    const common = { projectId: 'web', deploymentId: ids[0], target: 'preview', alias: 'preview-x', trigger: 'redeploy', branch: 'x', commit: commit(shaA), repository, requestedBy: user, requestedAt: now, sourceDeploymentId: 'd-src' };
    given(created(), envSet('NEW', 'preview', 4)).when(redeploy('current'))
      .then({ deployments: [{ type: 'DeploymentRequested', data: { ...common, buildSettings: build, env: [{ name: 'NEW', target: 'preview', version: 4 }] } }] });
    given(created(), envSet('NEW', 'preview', 4)).when(redeploy('source'))
      .then({ deployments: [{ type: 'DeploymentRequested', data: { ...common, buildSettings: source().buildSettings, env: source().env } }] });
  });
});
