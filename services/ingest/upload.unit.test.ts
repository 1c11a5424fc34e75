import { describe, expect, it } from 'vitest';
import { detailSchemaFor, type StoredEvent } from '../../events/index.ts';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { decisionOf, ingestDecider, type IngestCommand } from './decider.ts';
import { CommandRejectedError } from './errors.ts';
import { UploadDeploymentInput } from './upload.ts';

// `shiplog deploy`: an uploaded source becomes a DeploymentRequested (trigger `manual`) of the
// project's own repository, production on the production branch, a preview on the client's branch.

const now = '2026-12-03T10:00:00.000Z';
const ids = ['01JE0000000000000000000001', '01JE0000000000000000000002'];
const ada = { kind: 'user', id: 'token:ci' } as const;
const build = { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } as const;
const settings = { productionBranch: 'trunk', previewBranches: 'all', autoDeploy: true, build } as const;
const github = { source: 'github', fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' } as const;
const own = { source: 'git', fullName: 'web', cloneUrl: '/data/git/web.git' } as const;
const commit = { sha: 'c'.repeat(40), message: 'shiplog deploy of 12 files', author: { name: 'token:ci', email: 'deploy@shiplog' } };

let seq = 0;
const ev = (type: string, data: unknown): StoredEvent => ({
  type, data, position: '', recordedAt: '',
  metadata: { eventId: `01JD${String(++seq).padStart(22, '0')}`, streamId: 'project#web', version: seq, occurredAt: now, schemaVersion: 1, correlationId: 'c', causationId: null, projectId: 'web', actor: ada },
} as StoredEvent);
const created = ev('ProjectCreated', { projectId: 'web', name: 'web', repository: github, settings });
const prodEnv = ev('EnvVarSet', { projectId: 'web', name: 'SECRET', target: 'production', version: 3, sensitive: true });
const upload = (target: 'production' | 'preview', branch?: string): IngestCommand =>
  ({ type: 'RequestUploadDeployment', projectId: 'web', now, ids, actor: ada, target, commit, repository: own, ...(branch ? { branch } : {}) });

const decide = (history: StoredEvent[], cmd: IngestCommand) => {
  let out: ReturnType<typeof decisionOf> | undefined;
  deciderSpec(ingestDecider)(history).when(cmd).then((events, before) => {
    out = decisionOf(cmd, before, events);
  });
  return out!;
};

describe('an uploaded source (RequestUploadDeployment)', () => {
  it('requests a production deployment of the upload on the production branch, with the production env, and nothing on the project stream', () => {
    const d = decide([created, prodEnv], upload('production', 'ignored-for-production'));
    expect(d.project).toEqual([]);
    expect(d.deployments.map((e) => e.data)).toEqual([{
      projectId: 'web', deploymentId: ids[0], target: 'production', alias: 'production', trigger: 'manual', branch: 'trunk', commit,
      repository: own, buildSettings: build, env: [{ name: 'SECRET', target: 'production', version: 3 }], requestedBy: ada, requestedAt: now,
    }]);
    detailSchemaFor('DeploymentRequested').parse({ data: d.deployments[0]!.data, metadata: { ...d.deployments[0]!.metadata, streamId: 's', version: 1, schemaVersion: 1 } });
  });

  it("requests a preview on the client's branch (its alias), default `upload`, without production's env", () => {
    expect(decide([created, prodEnv], upload('preview', 'feature/login')).deployments[0]!.data).toMatchObject({ target: 'preview', alias: 'preview-feature-login', branch: 'feature/login', env: [] });
    expect(decide([created], upload('preview')).deployments[0]!.data).toMatchObject({ alias: 'preview-upload', branch: 'upload' });
  });

  it('refuses an unknown project', () => {
    expect(() => decide([], upload('production'))).toThrow(CommandRejectedError);
  });

  it('defaults to a preview, as `vercel deploy` does', () => {
    expect(UploadDeploymentInput.parse({})).toEqual({ target: 'preview', message: 'shiplog deploy' });
    expect(UploadDeploymentInput.safeParse({ target: 'staging' }).success).toBe(false);
  });
});
