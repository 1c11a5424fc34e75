import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detailSchemaFor, type EventType, type StoredEvent } from '../../events/index.ts';
import { call, startIngest, type IngestHarness, type Json } from './harness.ts';

type Payload = Record<string, Json>;
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Payload[] }[];
const pushExamples = examples.find((e) => e.name === 'push')!.examples;
const pingExample = examples.find((e) => e.name === 'ping')!.examples[0]!;
const branchPush = pushExamples.find((p) => p.ref === 'refs/heads/master' && p.head_commit)!;
const tagPushes = pushExamples.filter((p) => p.ref.startsWith('refs/tags/'));

const zero = '0'.repeat(40);
let h: IngestHarness;
let secret: string;
let n = 0;

const deliver = async (payload: Payload | string, o: { event?: string; delivery?: string; secret?: string | null; path?: string; base?: string; form?: boolean } = {}) => {
  const json = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const body = o.form ? `payload=${encodeURIComponent(json)}` : json;
  const headers: Record<string, string> = {
    'content-type': o.form ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-github-event': o.event ?? 'push',
    'x-github-delivery': o.delivery ?? `delivery-${++n}`,
    'user-agent': 'GitHub-Hookshot/test',
  };
  if (o.secret !== null) headers['x-hub-signature-256'] = await sign(o.secret ?? secret, body);
  const res = await fetch(`${o.base ?? h.url}${o.path ?? '/webhooks/github/hello'}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Json };
};

// A variant of the real payload on another ref, so the duplicate-transition rule does not apply.
const onRef = (ref: string, after: string, before = zero): Payload => ({
  ...branchPush, ref, before, after, head_commit: after === zero ? null : { ...branchPush.head_commit, id: after }, deleted: after === zero,
});
const unchanged = async (action: () => Promise<unknown>): Promise<void> => {
  const before = (await h.allEvents()).length;
  await action();
  expect((await h.allEvents()).length).toBe(before);
};
const eventsOf = async (deliveryId: string): Promise<StoredEvent[]> =>
  (await h.allEvents()).filter((e) => (e.data as { deliveryId?: string; pushDeliveryId?: string }).deliveryId === deliveryId || (e.data as { pushDeliveryId?: string }).pushDeliveryId === deliveryId);

beforeAll(async () => {
  h = await startIngest(import.meta.url);
  const created = await call(h.url, 'POST', '/api/projects', { name: 'hello', repo: 'https://github.com/Codertocat/Hello-World', productionBranch: 'master' });
  expect(created.status).toBe(201);
  secret = created.body.webhookSecret;
});
afterAll(() => h?.stop());

describe('GitHub webhooks', () => {
  it('answers a signed ping with 200 and records nothing', () =>
    unchanged(async () => expect(await deliver(pingExample, { event: 'ping' })).toMatchObject({ status: 200, body: { ok: true } })));

  it('accepts a signed push to the production branch with 202 and records the push and a production deployment', async () => {
    const res = await deliver(branchPush, { delivery: 'gh-main' });
    expect(res).toMatchObject({ status: 202, body: { status: 'deploying', target: 'production', alias: 'production', branch: 'master', sha: branchPush.after } });
    const [received, requested] = await eventsOf('gh-main');
    expect(received).toMatchObject({
      type: 'PushReceived',
      data: { source: 'github', repository: 'Codertocat/Hello-World', ref: 'refs/heads/master', branch: 'master', after: branchPush.after,
        headCommit: { sha: branchPush.head_commit.id, message: branchPush.head_commit.message, author: { name: 'Codertocat', username: 'Codertocat' }, timestamp: '2019-05-15T15:19:25.000Z' } },
      metadata: { correlationId: 'gh-main', actor: { kind: 'github', id: 'Codertocat' }, deploymentId: res.body.deploymentId },
    });
    expect(requested).toMatchObject({
      type: 'DeploymentRequested',
      data: { deploymentId: res.body.deploymentId, target: 'production', trigger: 'push', commit: { sha: branchPush.after }, repository: { source: 'github', fullName: 'Codertocat/Hello-World' }, pushDeliveryId: 'gh-main' },
      metadata: { streamId: `deployment#${res.body.deploymentId}`, correlationId: res.body.deploymentId, causationId: received!.metadata.eventId },
    });
  });

  it('deploys any other branch as a preview', async () => {
    const res = await deliver(onRef('refs/heads/feature/nav', 'c'.repeat(40)));
    expect(res).toMatchObject({ status: 202, body: { status: 'deploying', target: 'preview', alias: 'preview-feature-nav' } });
  });

  it('records tag pushes and branch deletions as ignored, with the reason', async () => {
    for (const [i, tag] of tagPushes.slice(0, 2).entries()) {
      expect(await deliver(tag, { delivery: `gh-tag-${i}` })).toMatchObject({ status: 202, body: { status: 'ignored', reason: 'tag' } });
      expect((await eventsOf(`gh-tag-${i}`)).map((e) => e.type)).toEqual(['PushReceived', 'PushIgnored']);
    }
    const deleted = await deliver(onRef('refs/heads/old', zero, 'd'.repeat(40)));
    expect(deleted).toMatchObject({ status: 202, body: { status: 'ignored', reason: 'branch-deleted' } });
  });

  it('makes one deployment of a delivery, however often and concurrently it arrives', async () => {
    const payload = onRef('refs/heads/twice', 'e'.repeat(40));
    const answers = await Promise.all([deliver(payload, { delivery: 'gh-dup' }), deliver(payload, { delivery: 'gh-dup' })]);
    const again = await deliver(payload, { delivery: 'gh-dup' });
    expect(answers.map((a) => a.status).sort()).toEqual([200, 202]);
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    const events = await eventsOf('gh-dup');
    expect(events.map((e) => e.type)).toEqual(['PushReceived', 'DeploymentRequested']);
    expect(again.body.deploymentId).toBe(events[1]!.data && (events[1]!.data as { deploymentId: string }).deploymentId);
  });

  it('ignores the same push delivered again under a new delivery id', async () => {
    const payload = onRef('refs/heads/hooks', 'f'.repeat(40));
    await deliver(payload, { delivery: 'gh-hook-1' });
    expect(await deliver(payload, { delivery: 'gh-hook-2' })).toMatchObject({ status: 202, body: { status: 'ignored', reason: 'duplicate-delivery' } });
  });

  it('finds the project from the repository when the URL names none, and accepts form-encoded payloads', async () => {
    const res = await deliver(onRef('refs/heads/found', '1'.repeat(40)), { path: '/webhooks/github', form: true });
    expect(res).toMatchObject({ status: 202, body: { projectId: 'hello', status: 'deploying', target: 'preview' } });
  });

  it('refuses bad signatures with 401 and records nothing', async () => {
    const payload = onRef('refs/heads/evil', '2'.repeat(40));
    await unchanged(async () => {
      expect((await deliver(payload, { secret: 'not-the-secret' })).status).toBe(401);
      expect((await deliver(payload, { secret: null })).status).toBe(401);
      expect((await deliver(payload, { secret: 'not-the-secret', path: '/webhooks/github' })).status).toBe(401);
      expect((await deliver(payload, { path: '/webhooks/github/nope' })).status).toBe(401);
      const tampered = JSON.stringify(payload);
      const res = await fetch(`${h.url}/webhooks/github/hello`, {
        method: 'POST', body: tampered.replace('evil', 'main'),
        headers: { 'x-github-event': 'push', 'x-github-delivery': 'x', 'x-hub-signature-256': await sign(secret, tampered) },
      });
      expect(res.status).toBe(401);
    });
  });

  it('refuses malformed bodies with 400 and records nothing', () =>
    unchanged(async () => {
      expect(await deliver('{"ref": ')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not valid JSON/) } });
      expect(await deliver({ zen: 'not a push' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not a push payload/) } });
      expect((await deliver('{"ref": ', { path: '/webhooks/github' })).status).toBe(400);
    }));

  it('refuses bodies over the configured limit with 413 and records nothing', async () => {
    const small = await h.serve({ webhookMaxBytes: 1024 });
    try {
      await unchanged(async () => expect((await deliver(onRef('refs/heads/big', '3'.repeat(40)), { base: small.url })).status).toBe(413));
      expect((await deliver(pingExample, { event: 'ping', base: small.url })).status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('stores only events that satisfy the catalog contract', async () => {
    for (const e of await h.allEvents()) detailSchemaFor(e.type as EventType).parse({ metadata: e.metadata, data: e.data });
  });
});
