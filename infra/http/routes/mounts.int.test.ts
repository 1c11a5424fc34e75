import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventData } from '../../../events/index.ts';
import { call, startIngest, type IngestHarness } from '../../../test/ingest/harness.ts';

// The mounts API on a real platform API (ingest's routes, tokens, DynamoDB Local).
let h: IngestHarness;
const outreach = { prefix: '/outreach', project: 'outreach' };

beforeAll(async () => {
  h = await startIngest(import.meta.url);
  for (const name of ['web', 'outreach', 'docs']) expect((await call(h.url, 'POST', '/api/projects', { name })).status).toBe(201);
});
afterAll(() => h?.stop());

describe('mounts API', () => {
  it('mounts a project at a prefix (201), answers 200 for the same mount again, and lists mounts by prefix', async () => {
    expect(await call(h.url, 'POST', '/api/projects/web/mounts', outreach)).toEqual({ status: 201, body: { mounts: [outreach] } });
    expect(await call(h.url, 'POST', '/api/projects/web/mounts', outreach)).toEqual({ status: 200, body: { mounts: [outreach] } });
    expect((await call(h.url, 'POST', '/api/projects/web/mounts', { prefix: '/docs/v2', project: 'docs' })).status).toBe(201);
    expect(await call(h.url, 'GET', '/api/projects/web/mounts')).toEqual({ status: 200, body: { mounts: [{ prefix: '/docs/v2', project: 'docs' }, outreach] } });
    expect((await call(h.url, 'GET', '/api/projects/web')).body.mounts).toEqual([{ prefix: '/docs/v2', project: 'docs' }, outreach]);
  });

  it('records one ProjectMountsChanged per change, with the token as actor', async () => {
    const changes = (await h.allEvents()).filter((e) => e.type === 'ProjectMountsChanged');
    expect(changes.map((e) => (e.data as EventData<'ProjectMountsChanged'>).change)).toEqual([{ op: 'add', ...outreach }, { op: 'add', prefix: '/docs/v2', project: 'docs' }]);
    expect(changes[0]!.metadata).toMatchObject({ projectId: 'web', streamId: 'project#web', actor: { kind: 'user', id: expect.stringMatching(/^token:/) } });
  });

  it('answers 400 for a bad prefix, a self-mount or extra fields; 404 for an unknown project; 409 for an overlap', async () => {
    const post = (body: unknown, project = 'web') => call(h.url, 'POST', `/api/projects/${project}/mounts`, body);
    expect(await post({ prefix: 'outreach', project: 'docs' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/path prefix like \/outreach/) } });
    expect(await post({ prefix: '/_next/x', project: 'docs' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/_next/) } });
    expect(await post({ prefix: '/self', project: 'web' })).toMatchObject({ status: 400, body: { error: 'project "web" cannot mount itself' } });
    expect(await post({ prefix: '/x', project: 'docs', alias: 'preview' })).toMatchObject({ status: 400 });
    expect(await post({ prefix: '/x', project: 'ghost' })).toMatchObject({ status: 404, body: { error: 'no project "ghost" to mount' } });
    expect(await post({ prefix: '/x', project: 'docs' }, 'nope')).toMatchObject({ status: 404 });
    expect(await post({ prefix: '/outreach/admin', project: 'docs' })).toMatchObject({ status: 409, body: { error: expect.stringMatching(/overlaps \/outreach/) } });
    expect(await post({ prefix: '/outreach', project: 'docs' })).toMatchObject({ status: 409 });
    expect((await call(h.url, 'GET', '/api/projects/nope/mounts')).status).toBe(404);
  });

  it('unmounts by prefix (the query), 404 when nothing is mounted there, 400 without a prefix', async () => {
    expect(await call(h.url, 'DELETE', '/api/projects/web/mounts?prefix=%2Fdocs%2Fv2')).toEqual({ status: 200, body: { mounts: [outreach], removed: { prefix: '/docs/v2', project: 'docs' } } });
    expect((await call(h.url, 'DELETE', '/api/projects/web/mounts?prefix=/docs/v2')).status).toBe(404);
    expect((await call(h.url, 'DELETE', '/api/projects/web/mounts')).status).toBe(400);
    expect((await call(h.url, 'GET', '/api/projects/web/mounts')).body).toEqual({ mounts: [outreach] });
  });

  it('needs a token like every /api route', async () => {
    const res = await fetch(`${h.url}/api/projects/web/mounts`);
    expect(res.status).toBe(401);
  });
});
