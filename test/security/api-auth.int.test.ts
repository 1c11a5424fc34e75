import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoEventStore, eventTypes, streams } from '../../events/index.ts';
import { platformApi, routeTable, type ApiRoute, type PlatformApiDeps } from '../../infra/http/app.ts';
import { localTables } from '../../infra/local/config.ts';
import { dynamoClient } from '../../infra/local/dynamodb-local.ts';
import { readRuntimeFile } from '../../infra/local/runtime-file.ts';
import { hashToken } from '../../services/access/index.ts';
import { startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

/**
 * Every route the platform API can serve: the app built with every dependency group present
 * (a stand-in that is never called), so a route added to any group is in this list.
 */
const everyRoute = (): ApiRoute[] => {
  const standIn: unknown = new Proxy(() => undefined, { get: (_t, key) => (key === 'then' ? undefined : standIn) });
  const deps = new Proxy({} as PlatformApiDeps, {
    get: (_t, key) => (key === 'guard' ? { verify: async () => undefined } : key === 'limits' || key === 'actorOf' ? undefined : standIn),
  });
  return routeTable(platformApi(deps));
};

// A concrete path for a route pattern.
const pathOf = (route: ApiRoute): string =>
  route.path
    .replace(':project', 'g-sec')
    .replace(':repo', 'g-sec.git')
    .replace(/:[a-z]+/gi, 'x')
    .replace('*', 'info/refs');

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

// Raw HTTP, so the Host header is ours to choose (fetch sets its own).
const send = (port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });

describe('the platform API needs a credential (a real shiplog dev)', () => {
  let sl: LocalShiplog;
  let admin: string;
  let ci: { tokenId: string; token: string };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const jsonHeaders = (token: string) => ({ ...bearer(token), 'content-type': 'application/json' });

  beforeAll(async () => {
    sl = await startShiplog();
    admin = sl.adminToken();
    ci = sl.json<{ tokenId: string; token: string }>(['tokens', 'create', 'ci']);
  }, 120_000);
  afterAll(async () => sl?.stop());

  it('writes the admin token only the owner can read, in a data dir only the owner can enter', () => {
    expect(admin).toMatch(/^shp_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(sl.dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(statSync(sl.dataDir).mode & 0o777).toBe(0o700);
  });

  it('answers 401 on every /api route without a token, with a wrong one and with a revoked one', async () => {
    const routes = everyRoute();
    const api = routes.filter((r) => r.path.startsWith('/api/'));
    // The routes outside /api keep their own checks: health, signed webhooks, the git remote's push tokens.
    expect(routes.filter((r) => !r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /git/:repo/*', 'GET /healthz', 'POST /git/:repo/*', 'POST /webhooks/github', 'POST /webhooks/github/:project',
    ]);
    expect(api.length).toBeGreaterThanOrEqual(20);
    for (const r of ['GET /api/projects/:project/deployments', 'GET /api/deployments/:id/logs', 'POST /api/replay', 'GET /api/dlq', 'GET /api/tokens', 'DELETE /api/tokens/:token']) {
      expect(api.map((a) => `${a.method} ${a.path}`)).toContain(r);
    }
    const revoked = sl.json<{ token: string }>(['tokens', 'create', 'soon-revoked']);
    expect(sl.json<{ revokedAt: string | null }>(['tokens', 'revoke', 'soon-revoked']).revokedAt).not.toBeNull();
    for (const route of api) {
      const path = pathOf(route);
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}';
      for (const [what, headers] of [
        ['no token', {}],
        ['a wrong token', bearer(`shp_${'A'.repeat(43)}`)],
        ['a revoked token', bearer(revoked.token)],
        ['a basic credential', { authorization: `Basic ${Buffer.from(`shiplog:${admin}`).toString('base64')}` }],
      ] as const) {
        const res = await send(sl.port, route.method, path, { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body);
        expect(res.status, `${route.method} ${route.path} with ${what}`).toBe(401);
        expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer realm="shiplog"/);
        expect(JSON.parse(res.body)).toEqual({ error: expect.any(String) });
      }
    }
    // The live log follow (SSE) too, with the Accept header a browser sends.
    expect((await send(sl.port, 'GET', '/api/deployments/x/logs?follow=1', { accept: 'text/event-stream' })).status).toBe(401);
    // And the same routes with the admin token are past the guard (not 401).
    expect((await send(sl.port, 'GET', '/api/dlq', bearer(admin))).status).toBe(200);
  });

  it('refuses text/plain and cross-origin writes, and passes same-origin JSON', async () => {
    const created = (origin?: string, type = 'application/json') =>
      send(sl.port, 'POST', '/api/projects', { ...bearer(admin), 'content-type': type, ...(origin ? { origin } : {}) }, JSON.stringify({ name: 'g-sec' }));
    expect((await created(undefined, 'text/plain')).status).toBe(415);
    expect((await created(undefined, 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await send(sl.port, 'POST', '/api/projects', bearer(admin), JSON.stringify({ name: 'g-sec' }))).status).toBe(415);
    expect((await created('http://evil.example')).status).toBe(403);
    expect((await created('null')).status).toBe(403);
    expect((await created(`http://localhost:${sl.port}`)).status).toBe(403); // another origin than the Host asked for
    expect((await send(sl.port, 'GET', '/api/projects/g-sec', bearer(admin))).status).toBe(404); // nothing was created
    expect((await created(`http://127.0.0.1:${sl.port}`)).status).toBe(201);
    // A body-less DELETE needs no content type; text/plain on a project env var is refused.
    expect((await send(sl.port, 'POST', '/api/projects/g-sec/env', { ...bearer(admin), 'content-type': 'text/plain' }, JSON.stringify({ name: 'NODE_OPTIONS', value: '--require /tmp/x' }))).status).toBe(415);
    expect((await send(sl.port, 'DELETE', '/api/tokens/nope', bearer(admin))).status).toBe(404);
  });

  it('refuses a Host it does not serve (DNS rebinding), on every path of the API', async () => {
    for (const path of ['/api/dlq', '/healthz', '/git/g-sec.git/info/refs?service=git-upload-pack']) {
      expect((await send(sl.port, 'GET', path, { ...bearer(admin), host: `evil.example:${sl.port}` })).status, path).toBe(421);
    }
    expect((await send(sl.port, 'GET', '/api/dlq', { ...bearer(admin), host: `localhost:${sl.port}` })).status).toBe(200);
    expect((await send(sl.port, 'GET', '/api/dlq', { ...bearer(admin), host: `127.0.0.1:${sl.port + 1}` })).status).toBe(421);
  });

  it("records the token's name as the actor; only a dashboard token may name the signed-in user", async () => {
    const mallory = { 'x-shiplog-actor': 'local:mallory' };
    expect((await send(sl.port, 'POST', '/api/projects', { ...jsonHeaders(ci.token), ...mallory }, JSON.stringify({ name: 'g-actor' }))).status).toBe(201);
    const dash = sl.json<{ token: string }>(['tokens', 'create', 'test-dashboard', '--kind', 'dashboard']);
    expect((await send(sl.port, 'POST', '/api/projects/g-actor/env', { ...jsonHeaders(dash.token), 'x-shiplog-actor': 'local:admin' }, JSON.stringify({ name: 'A', value: '1', target: 'production' }))).status).toBe(201);
    expect((await send(sl.port, 'POST', '/api/projects/g-actor/env', { ...jsonHeaders(admin), ...mallory }, JSON.stringify({ name: 'B', value: '2', target: 'production' }))).status).toBe(201);
    const rt = readRuntimeFile(sl.dataDir)!;
    const client = dynamoClient(rt.dynamoEndpoint);
    try {
      const events = await dynamoEventStore({ client, tableName: localTables.events, types: eventTypes }).readStream(streams.project('g-actor'));
      expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([
        ['ProjectCreated', { kind: 'user', id: 'token:ci' }],
        ['EnvVarSet', { kind: 'user', id: 'local:admin' }],
        ['EnvVarSet', { kind: 'user', id: 'token:admin' }],
      ]);
      const who = JSON.parse((await send(sl.port, 'GET', '/api/whoami', { ...bearer(ci.token), ...mallory })).body) as { name: string; actor: unknown };
      expect(who).toMatchObject({ name: 'ci', actor: { kind: 'user', id: 'token:ci' } });

      // Stored only hashed: no item of the tokens table holds a token, each holds its hash.
      const raw = JSON.stringify((await client.send(new ScanCommand({ TableName: localTables.tokens }))).Items ?? []);
      for (const token of [admin, ci.token, dash.token]) {
        expect(raw).not.toContain(token);
        expect(raw).not.toContain(token.slice(8));
        expect(raw).toContain(hashToken(token));
      }
      // …and never in the event store.
      const all = JSON.stringify((await client.send(new ScanCommand({ TableName: localTables.events }))).Items ?? []);
      for (const token of [admin, ci.token, dash.token]) expect(all).not.toContain(token.slice(8));
    } finally {
      client.destroy();
    }
  });

  it('runs the tokens CLI end to end: create, ls, revoke; login stores a token for another URL', async () => {
    const made = sl.json<{ tokenId: string; name: string; token: string; prefix: string }>(['tokens', 'create', 'deploy-bot']);
    expect(made.token.startsWith(made.prefix)).toBe(true);
    const listed = sl.json<{ tokenId: string; name: string; revokedAt: string | null; lastUsedAt: string | null }[]>(['tokens', 'ls']);
    expect(listed.find((t) => t.tokenId === made.tokenId)).toMatchObject({ name: 'deploy-bot', revokedAt: null, lastUsedAt: null });
    expect(JSON.stringify(listed)).not.toContain(made.token);
    expect(JSON.stringify(listed)).not.toMatch(/"hash"/);
    const human = sl.cli(['tokens', 'ls']);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/deploy-bot +user/);

    // Another machine: no local instance, a config dir of its own.
    const config = mkdtempSync(join(tmpdir(), 'shiplog-xdg-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'shiplog-elsewhere-'));
    const url = `http://127.0.0.1:${sl.port}`;
    const env = { ...sl.env, SHIPLOG_DATA_DIR: elsewhere, XDG_CONFIG_HOME: config };
    const run = (args: string[]) => spawnSync(process.execPath, ['cli/shiplog.mjs', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    try {
      expect(run(['deployments', 'list', 'g-sec', '--json']).stderr).toMatch(/not running here/);
      expect(run(['--url', url, 'deployments', 'list', 'g-sec', '--json']).stderr).toMatch(/no token for http:\/\/127\.0\.0\.1:\d+ .*shiplog login/);
      const wrong = run(['login', '--url', url, '--token', `shp_${'B'.repeat(43)}`]);
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toMatch(/401/);
      const login = run(['login', '--url', url, '--token', made.token, '--json']);
      expect(login.status, login.stderr).toBe(0);
      expect(JSON.parse(login.stdout)).toMatchObject({ url, name: 'deploy-bot', kind: 'user' });
      const file = join(config, 'shiplog', 'credentials.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const list = run(['--url', url, 'deployments', 'list', 'g-sec', '--json']);
      expect(list.status, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toEqual([]);
      expect(run(['deployments', 'list', 'g-sec', '--json']).status).toBe(1); // no --url: the (absent) local instance
      expect(run(['--url', url, 'tokens', 'ls']).stderr).toMatch(/403.*admin token/); // a user token manages no tokens

      // Revoked: it stops working at once.
      expect(sl.json<{ revokedAt: string }>(['tokens', 'revoke', made.tokenId]).revokedAt).toEqual(expect.any(String));
      const after = run(['--url', url, 'deployments', 'list', 'g-sec', '--json']);
      expect(after.status).toBe(1);
      expect(after.stderr).toMatch(/401/);
    } finally {
      rmSync(config, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('rotates a project\'s credentials: the old push token stops working', async () => {
    const created = sl.json<{ gitRemote: string }>(['projects', 'create', 'g-rot']);
    const oldToken = new URL(created.gitRemote).password;
    const refs = (token: string) =>
      send(sl.port, 'GET', '/git/g-rot.git/info/refs?service=git-upload-pack', { authorization: `Basic ${Buffer.from(`shiplog:${token}`).toString('base64')}` });
    expect((await refs(oldToken)).status).toBe(200);
    const rotated = sl.json<{ gitRemoteUrl: string; webhookSecret: string }>(['projects', 'rotate-credentials', 'g-rot']);
    const newToken = new URL(rotated.gitRemoteUrl).password;
    expect(newToken).not.toBe(oldToken);
    expect((await refs(oldToken)).status).toBe(401);
    expect((await refs(newToken)).status).toBe(200);
  });
});
