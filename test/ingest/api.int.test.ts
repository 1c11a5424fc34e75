import { statSync } from 'node:fs';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventData } from '../../events/index.ts';
import type { ReleaseExpected } from '../../services/deploy/index.ts';
import { secretScope } from '../../services/ingest/index.ts';
import { call, startIngest, type IngestHarness } from './harness.ts';

let h: IngestHarness;
const zero = '0'.repeat(40);
const git = { kind: 'git', id: 'ada' } as const;
const push = (branch: string, after: string, deliveryId: string) => ({
  deliveryId, source: 'git' as const, repository: 'shop', ref: `refs/heads/${branch}`, branch, before: zero, after,
  headCommit: { sha: after, message: 'Change', author: { name: 'Ada' } }, pusher: { name: 'ada' }, forced: false,
});

beforeAll(async () => {
  h = await startIngest(import.meta.url);
  expect((await call(h.url, 'POST', '/api/projects', { name: 'shop', repo: 'git@github.com:acme/shop.git', buildCommand: 'npm run build:prod', rootDir: 'apps/shop' })).status).toBe(201);
});
afterAll(() => h?.stop());

describe('projects API', () => {
  it('refuses invalid, unknown and taken names with a clear error', async () => {
    expect(await call(h.url, 'POST', '/api/projects', { name: 'Shop_2' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/DNS label[\s\S]*at name/) } });
    expect(await call(h.url, 'POST', '/api/projects', { name: 'x'.repeat(41) })).toMatchObject({ status: 400 });
    expect(await call(h.url, 'POST', '/api/projects', { name: 'ok', colour: 'red' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/colour/) } });
    expect(await call(h.url, 'POST', '/api/projects', { name: 'ok', productionBranch: 'a..b' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/git branch name/) } });
    expect(await call(h.url, 'POST', '/api/projects', '{"name": ')).toMatchObject({ status: 400, body: { error: 'body is not valid JSON' } });
    expect(await call(h.url, 'POST', '/api/projects', { name: 'shop' })).toMatchObject({ status: 409, body: { error: 'project "shop" already exists: choose another name' } });
  });

  it('lets exactly one of two concurrent creations of a name win', async () => {
    const answers = await Promise.all([1, 2].map(() => call(h.url, 'POST', '/api/projects', { name: 'race' })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
  });

  it('shows a project folded from its stream, without any secret', async () => {
    const { status, body } = await call(h.url, 'GET', '/api/projects/shop');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      projectId: 'shop', repository: { source: 'github', fullName: 'acme/shop', cloneUrl: 'https://github.com/acme/shop.git' },
      settings: { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: 'apps/shop', buildCommand: 'npm run build:prod' } },
      webhookUrl: `${h.url}/webhooks/github/shop`, gitUrl: `${h.url}/git/shop.git`,
    });
    const creds = await h.ingest.credentials('shop');
    expect(JSON.stringify(body)).not.toContain(creds!.pushToken);
    expect(JSON.stringify(body)).not.toContain(creds!.webhookSecret);
    expect((await call(h.url, 'GET', '/api/projects/nope')).status).toBe(404);
  });

  it('changes settings, and answers 400 for an empty or wrong change', async () => {
    const { body } = await call(h.url, 'PATCH', '/api/projects/shop', { buildCommand: null, autoDeploy: true });
    expect(body.settings.build).toEqual({ framework: 'nextjs', rootDirectory: 'apps/shop', nodeVersion: '20.x' });
    expect((await call(h.url, 'PATCH', '/api/projects/shop', {})).status).toBe(400);
    expect((await call(h.url, 'PATCH', '/api/projects/shop', { rootDir: '../etc' })).status).toBe(400);
    const changed = (await h.allEvents()).filter((e) => e.type === 'ProjectSettingsChanged');
    expect(changed.map((e) => (e.data as EventData<'ProjectSettingsChanged'>).changed)).toEqual([['build']]);
  });
});

describe('env vars', () => {
  const plaintext = 'sk_live_TOP-SECRET-4f9a2c';

  it('records name, target, version and sensitivity, and keeps the value encrypted out of every event and table', async () => {
    const set = await call(h.url, 'POST', '/api/projects/shop/env', { name: 'STRIPE_KEY', value: plaintext, target: 'production', sensitive: true });
    expect(set).toEqual({ status: 201, body: { name: 'STRIPE_KEY', target: 'production', version: 1, sensitive: true } });
    expect((await call(h.url, 'POST', '/api/projects/shop/env', { name: 'STRIPE_KEY', value: `${plaintext}-2`, target: 'production', sensitive: true })).body.version).toBe(2);
    expect((await call(h.url, 'POST', '/api/projects/shop/env', { name: 'STRIPE_KEY', value: 'preview-value', target: 'preview' })).body.version).toBe(1);

    const base64 = Buffer.from(plaintext).toString('base64').slice(0, 20);
    for (const where of [await h.rawTable(h.eventsTable), await h.rawTable(h.secretsTable), JSON.stringify(await h.allEvents()), JSON.stringify((await call(h.url, 'GET', '/api/projects/shop')).body)]) {
      expect(where).not.toContain(plaintext);
      expect(where).not.toContain(base64);
    }
    expect(await h.rawTable(h.secretsTable)).toContain('STRIPE_KEY');
    const set1 = (await h.allEvents()).find((e) => e.type === 'EnvVarSet')!;
    expect(set1.data).toEqual({ projectId: 'shop', name: 'STRIPE_KEY', target: 'production', version: 1, sensitive: true });
    expect(statSync(join(h.dataDir, 'secrets.key')).mode & 0o777).toBe(0o600);
  });

  it('resolves the current env of a target, and exactly the versions a deployment was requested with', async () => {
    expect(await h.deps.secrets.resolveEnv('shop', 'production')).toEqual({ STRIPE_KEY: `${plaintext}-2` });
    expect(await h.deps.secrets.resolveEnv('shop', 'preview')).toEqual({ STRIPE_KEY: 'preview-value' });
    await h.ingest.receivePush('shop', push('main', 'a'.repeat(40), 'p-env'), { actor: git });
    const requested = (await h.allEvents()).find((e) => e.type === 'DeploymentRequested')!.data as EventData<'DeploymentRequested'>;
    expect(requested.env).toEqual([{ name: 'STRIPE_KEY', target: 'production', version: 2 }]);
    await call(h.url, 'POST', '/api/projects/shop/env', { name: 'STRIPE_KEY', value: 'v3', target: 'production' });
    expect(await h.deps.secrets.resolveRefs('shop', requested.env)).toEqual({ STRIPE_KEY: `${plaintext}-2` });
    await expect(h.deps.secrets.resolveRefs('shop', [{ name: 'NOPE', target: 'production', version: 1 }])).rejects.toThrow(/no stored value for production NOPE v1/);
  });

  it('refuses to decrypt a value moved to another name (the ciphertext is bound to scope, name and version)', async () => {
    const scope = secretScope.env('shop', 'production');
    await h.deps.secrets.put(scope, 'A', 1, 'x');
    expect((await h.deps.secrets.get(scope, 'A', 1))?.value).toBe('x');
    const { Item } = await h.client.send(new GetItemCommand({ TableName: h.secretsTable, Key: { pk: { S: scope }, sk: { S: 'v#A#0000000001' } } }));
    await h.client.send(new PutItemCommand({ TableName: h.secretsTable, Item: { ...Item!, sk: { S: 'v#B#0000000001' } } }));
    await expect(h.deps.secrets.get(scope, 'B', 1)).rejects.toThrow(/unable to authenticate/);
  });

  it('gives concurrent sets of one name distinct versions', async () => {
    const answers = await Promise.all(['a', 'b'].map((value) => call(h.url, 'POST', '/api/projects/shop/env', { name: 'RACE', value, target: 'preview' })));
    expect(answers.map((a) => a.body.version).sort()).toEqual([1, 2]);
  });

  it('removes env vars from one or every target, idempotently, and refuses unknown ones', async () => {
    expect(await call(h.url, 'DELETE', '/api/projects/shop/env/STRIPE_KEY?target=preview')).toEqual({ status: 200, body: { removed: [{ name: 'STRIPE_KEY', target: 'preview', version: 1 }] } });
    expect(await h.deps.secrets.resolveEnv('shop', 'preview')).not.toHaveProperty('STRIPE_KEY');
    expect((await call(h.url, 'DELETE', '/api/projects/shop/env/STRIPE_KEY')).body.removed.map((r: { target: string }) => r.target)).toEqual(['production', 'preview']);
    expect(await h.deps.secrets.resolveEnv('shop', 'production')).toEqual({ A: 'x' });
    expect((await h.allEvents()).filter((e) => e.type === 'EnvVarRemoved')).toHaveLength(2);
    expect((await call(h.url, 'DELETE', '/api/projects/shop/env/NOPE')).status).toBe(404);
    expect((await call(h.url, 'DELETE', '/api/projects/shop/env/RACE?target=staging')).status).toBe(400);
    expect((await call(h.url, 'POST', '/api/projects/shop/env', { name: '1BAD', value: 'x', target: 'production' })).status).toBe(400);
  });
});

describe('rollback, promote and redeploy requests', () => {
  let production: string;
  let preview: string;

  beforeAll(async () => {
    const a = await h.ingest.receivePush('shop', push('main', 'b'.repeat(40), 'p-prod'), { actor: git });
    const b = await h.ingest.receivePush('shop', push('feature', 'c'.repeat(40), 'p-preview'), { actor: git });
    production = (a as { deploymentId: string }).deploymentId;
    preview = (b as { deploymentId: string }).deploymentId;
  });

  it('records a rollback request, to a named deployment or the previous one', async () => {
    expect(await call(h.url, 'POST', '/api/projects/shop/rollback', { to: production, reason: 'errors on /cart' })).toMatchObject({ status: 202, body: { alias: 'production', toDeploymentId: production } });
    expect(await call(h.url, 'POST', '/api/projects/shop/rollback', {})).toMatchObject({ status: 202, body: { alias: 'production' } });
    const requests = (await h.allEvents()).filter((e) => e.type === 'RollbackRequested');
    expect(requests.map((e) => e.data)).toEqual([
      { projectId: 'shop', alias: 'production', toDeploymentId: production, reason: 'errors on /cart', requestedBy: { kind: 'user', id: 'token:admin' } },
      { projectId: 'shop', alias: 'production', reason: '', requestedBy: { kind: 'user', id: 'token:admin' } },
    ]);
    expect((await call(h.url, 'POST', '/api/projects/shop/rollback', { to: 'nope' })).status).toBe(404);
    expect((await call(h.url, 'POST', '/api/projects/shop/rollback', { actor: { kind: 'system', id: 'x' } })).status).toBe(400);
  });

  it('promotes a production deployment in place, refuses a preview (no rebuild), and redeploys a preview for production', async () => {
    expect(await call(h.url, 'POST', `/api/deployments/${production}/promote`, { reason: 'back to it' })).toMatchObject({ status: 202, body: { kind: 'promote', deploymentId: production } });
    const refused = await call(h.url, 'POST', `/api/deployments/${preview}/promote`);
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain(`shiplog redeploy ${preview} --prod`);
    expect((await h.store.readDeployment(preview)).map((e) => e.type)).toEqual(['PushReceived', 'DeploymentRequested']);
    const rebuilt = await call(h.url, 'POST', `/api/deployments/${preview}/redeploy`, { target: 'production' });
    expect(rebuilt).toMatchObject({ status: 202, body: { sourceDeploymentId: preview, target: 'production', alias: 'production' } });
    const events = await h.store.readDeployment(rebuilt.body.deploymentId);
    expect(events.map((e) => [e.type, (e.data as EventData<'DeploymentRequested'>).trigger, (e.data as EventData<'DeploymentRequested'>).target])).toEqual([['DeploymentRequested', 'redeploy', 'production']]);
    const promote = (await h.store.readDeployment(production)).find((e) => e.type === 'PromoteRequested');
    expect(promote).toMatchObject({ data: { alias: 'production', reason: 'back to it' }, metadata: { correlationId: production } });
    expect((await call(h.url, 'POST', '/api/deployments/nope/promote')).status).toBe(404);
  });

  it('tells expectRelease of each valid rollback and promote it receives, and of nothing the route refuses', async () => {
    const told: ReleaseExpected[] = [];
    const api = await h.serve({ expectRelease: (request) => told.push(request) });
    try {
      expect((await call(api.url, 'POST', '/api/projects/shop/rollback', { to: production, reason: 'slow' })).status).toBe(202);
      expect((await call(api.url, 'POST', '/api/projects/shop/rollback', { alias: 'preview-feature' })).status).toBe(202);
      expect((await call(api.url, 'POST', `/api/deployments/${production}/promote`, {})).status).toBe(202);
      // Refused by the route's own validation: not told.
      expect((await call(api.url, 'POST', '/api/projects/shop/rollback', { actor: { kind: 'system', id: 'x' } })).status).toBe(400);
      expect((await call(api.url, 'POST', `/api/deployments/${production}/promote`, { reason: 7 })).status).toBe(400);
      expect(told).toEqual([
        { kind: 'rollback', projectId: 'shop', alias: undefined, to: production },
        { kind: 'rollback', projectId: 'shop', alias: 'preview-feature', to: undefined },
        { kind: 'promote', deploymentId: production },
      ]);
    } finally {
      await api.close();
    }
  });

  it('redeploys a deployment under a new id', async () => {
    const res = await call(h.url, 'POST', `/api/deployments/${preview}/redeploy`, { settings: 'source' });
    expect(res).toMatchObject({ status: 202, body: { sourceDeploymentId: preview, target: 'preview', alias: 'preview-feature' } });
    const [requested] = await h.store.readDeployment(res.body.deploymentId);
    expect(requested).toMatchObject({ data: { trigger: 'redeploy', sourceDeploymentId: preview, commit: { sha: 'c'.repeat(40) } } });
    expect((await call(h.url, 'POST', `/api/deployments/${preview}/redeploy`, { settings: 'later' })).status).toBe(400);
  });
});

describe('a push whose deployment was never stored', () => {
  it('gets its deployment requested when the delivery comes again, under the id recorded with the push', async () => {
    // As if the process stopped between appending the PushReceived and its DeploymentRequested.
    const state = await h.store.streamVersion('project#shop');
    const p = push('main', 'd'.repeat(40), 'p-lost');
    await h.store.append('project#shop', [{
      type: 'PushReceived', data: { projectId: 'shop', ...p },
      metadata: { eventId: '01JD000000000000000000RCV1', occurredAt: '2026-11-22T10:00:00.000Z', correlationId: 'p-lost', causationId: null, projectId: 'shop', deploymentId: 'd-lost', actor: git },
    }], { expectedVersion: state });
    expect(await h.ingest.receivePush('shop', p, { actor: git })).toEqual({ status: 'duplicate', deliveryId: 'p-lost', deploymentId: 'd-lost' });
    const [requested] = await h.store.readStream('deployment#d-lost');
    expect(requested).toMatchObject({ type: 'DeploymentRequested', data: { deploymentId: 'd-lost', requestedAt: '2026-11-22T10:00:00.000Z', commit: { sha: 'd'.repeat(40) } }, metadata: { causationId: '01JD000000000000000000RCV1' } });
    await h.ingest.receivePush('shop', p, { actor: git });
    expect(await h.store.streamVersion('deployment#d-lost')).toBe(1);
  });
});

describe('uploads API (shiplog deploy), locally', () => {
  it('says the archive goes in the deployment request, and refuses sizes it cannot take and unknown projects', async () => {
    expect(await call(h.url, 'POST', '/api/projects/shop/uploads', { bytes: 2048 })).toMatchObject({ status: 200, body: { method: 'inline', bytes: 2048 } });
    expect(await call(h.url, 'POST', '/api/projects/shop/uploads', { bytes: 0 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/bytes/) } });
    expect(await call(h.url, 'POST', '/api/projects/shop/uploads', { bytes: 64 * 1024 * 1024 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/at most 33554432 bytes/) } });
    expect(await call(h.url, 'POST', '/api/projects/nope/uploads', { bytes: 10 })).toMatchObject({ status: 404 });
  });

  it('refuses an archive that is not a zip, an upload id where none is presigned, and both at once, recording nothing', async () => {
    const before = (await h.allEvents()).length;
    expect(await call(h.url, 'POST', '/api/projects/shop/deployments', { archive: Buffer.from('not a zip at all').toString('base64') }))
      .toMatchObject({ status: 400, body: { error: 'the source archive is not a zip shiplog can build: no end-of-central-directory record' } });
    expect(await call(h.url, 'POST', '/api/projects/shop/deployments', { upload: '01JE0000000000000000000001' }))
      .toMatchObject({ status: 400, body: { error: expect.stringMatching(/takes the archive in the request/) } });
    expect(await call(h.url, 'POST', '/api/projects/shop/deployments', { upload: '../../etc/passwd' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/upload id/) } });
    expect(await call(h.url, 'POST', '/api/projects/shop/deployments', { upload: '01JE0000000000000000000001', archive: 'UEsFBg==' })).toMatchObject({ status: 400, body: { error: 'give archive or upload, not both' } });
    expect((await h.allEvents()).length).toBe(before);
  });
});
