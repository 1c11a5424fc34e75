import { describe, expect, it } from 'vitest';
import { detailSchemaFor, streams, type StoredEvent } from '../../events/index.ts';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { ingestDecider, type IngestCommand, type IngestNewEvent } from './decider.ts';
import { CommandRejectedError, type RejectionCode } from './errors.ts';
import { MountInput } from './inputs.ts';
import { overlappingMount } from './mounts.ts';

const now = '2026-11-22T10:00:00.000Z';
const ids = ['01JD0000000000000000000001', '01JD0000000000000000000002'];
const user = { kind: 'user', id: 'ada' } as const;
const settings = { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } } as const;
const repository = { source: 'github', fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' } as const;
const base = { projectId: 'web', now, ids, actor: user };

let seq = 0;
const ev = (type: string, data: unknown): StoredEvent => ({
  type, data, position: '', recordedAt: '',
  metadata: {
    eventId: `01JC${String(++seq).padStart(22, '0')}`, streamId: streams.project('web'), version: seq, occurredAt: '2026-11-21T09:00:00.000Z',
    schemaVersion: 1, correlationId: 'c', causationId: null, projectId: 'web', actor: user,
  },
});
const created = ev('ProjectCreated', { projectId: 'web', name: 'web', repository, settings });
const outreach = { prefix: '/outreach', project: 'outreach' };
const mounted = (mounts: { prefix: string; project: string }[], op: 'add' | 'remove', change: { prefix: string; project: string }) =>
  ev('ProjectMountsChanged', { projectId: 'web', mounts, change: { op, ...change } });

const add = (prefix: string, project = 'outreach', exists = true): IngestCommand => ({ ...base, type: 'AddMount', prefix, mounted: { projectId: project, exists } });
const remove = (prefix: string): IngestCommand => ({ ...base, type: 'RemoveMount', prefix });

const spec = deciderSpec(ingestDecider);
// Every decided event must satisfy the catalog's full detail schema.
const checked = (events: IngestNewEvent[]) =>
  events.map((e) => detailSchemaFor(e.type).parse({ data: e.data, metadata: { ...e.metadata, streamId: 's', version: 1, schemaVersion: 1 } }).data);
const given = (...history: StoredEvent[]) => ({
  when: (cmd: IngestCommand) => {
    const when = spec(history).when(cmd);
    return {
      then: (expected: unknown[]) => when.then((events) => expect(checked(events)).toEqual(expected)),
      thenNothing: when.thenNothing,
      thenThrows: (code: RejectionCode, message?: RegExp) =>
        when.thenThrows(CommandRejectedError, (err) => {
          expect(err.code).toBe(code);
          if (message) expect(err.message).toMatch(message);
        }),
    };
  },
});

describe('ingest decider: mounts (multi-zone)', () => {
  it('mounts a project at a prefix, recording every mount after the change, by prefix', () => {
    given(created).when(add('/outreach')).then([{ projectId: 'web', mounts: [outreach], change: { op: 'add', ...outreach } }]);
    given(created, mounted([outreach], 'add', outreach)).when(add('/docs/v2', 'docs'))
      .then([{ projectId: 'web', mounts: [{ prefix: '/docs/v2', project: 'docs' }, outreach], change: { op: 'add', prefix: '/docs/v2', project: 'docs' } }]);
  });

  it('decides nothing for the same mount again (a retried request)', () =>
    given(created, mounted([outreach], 'add', outreach)).when(add('/outreach')).thenNothing());

  it('refuses a prefix that is not a path prefix', () => {
    for (const bad of ['outreach', '/', '/outreach/', '//outreach', '/out reach', '/a/../b', '/_next', '/_next/static', '/api', '/API/x', `/${'a'.repeat(200)}`]) {
      given(created).when(add(bad)).thenThrows('invalid', /mount prefix/);
    }
  });

  it('refuses a project mounting itself', () => given(created).when(add('/me', 'web')).thenThrows('invalid', /cannot mount itself/));

  it('refuses to mount a project that does not exist', () => given(created).when(add('/x', 'ghost', false)).thenThrows('project-not-found', /"ghost"/));

  it('refuses a prefix taken by another project, or one that nests in or around a mount', () => {
    const history = [created, mounted([outreach], 'add', outreach)];
    given(...history).when(add('/outreach', 'other')).thenThrows('mount-conflict', /overlaps \/outreach/);
    given(...history).when(add('/outreach/admin', 'other')).thenThrows('mount-conflict');
    given(...history).when(add('/Outreach', 'other')).thenThrows('mount-conflict');
    given(created, mounted([{ prefix: '/a/b', project: 'other' }], 'add', { prefix: '/a/b', project: 'other' })).when(add('/a')).thenThrows('mount-conflict', /\/a\/b/);
  });

  it('allows a prefix that only starts with the same letters (/outreachx is not under /outreach)', () =>
    given(created, mounted([outreach], 'add', outreach)).when(add('/outreachx', 'other'))
      .then([{ projectId: 'web', mounts: [outreach, { prefix: '/outreachx', project: 'other' }], change: { op: 'add', prefix: '/outreachx', project: 'other' } }]));

  it('removes a mount; removing a prefix nothing is mounted at is refused', () => {
    given(created, mounted([outreach], 'add', outreach)).when(remove('/outreach')).then([{ projectId: 'web', mounts: [], change: { op: 'remove', ...outreach } }]);
    given(created, mounted([outreach], 'add', outreach), mounted([], 'remove', outreach)).when(remove('/outreach')).thenThrows('mount-not-found');
  });

  it('refuses mounts on a project that does not exist', () => given().when(add('/outreach')).thenThrows('project-not-found'));
});

describe('mount input and overlap', () => {
  it('takes a prefix and a project name, nothing else', () => {
    expect(MountInput.parse({ prefix: '/outreach', project: 'outreach' })).toEqual(outreach);
    expect(MountInput.safeParse({ prefix: '/outreach', project: 'Out_reach' }).success).toBe(false);
    expect(MountInput.safeParse({ prefix: '/outreach', project: 'outreach', alias: 'x' }).success).toBe(false);
  });

  it('overlaps segment-wise only', () => {
    const mounts = [outreach];
    expect(overlappingMount(mounts, '/outreach')).toEqual(outreach);
    expect(overlappingMount(mounts, '/outreach/deep/er')).toEqual(outreach);
    expect(overlappingMount(mounts, '/outreachx')).toBeUndefined();
    expect(overlappingMount(mounts, '/out')).toBeUndefined();
  });
});
