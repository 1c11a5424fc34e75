import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { compilePattern } from '../../events/bus/pattern/index.ts';
import type { BusEntry } from '../../events/bus/port.ts';
import type { StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { replayFromRequest } from '../../projections/replay/to-bus.ts';
import { fakeRuntime, runCommand } from '../../test/support/local-projections.ts';
import { appendAsStored, scenario } from '../../test/support/scenario-events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { diffCommand } from './diff.ts';
import { getCommand } from './events-get.ts';
import { replayCommand } from './replay.ts';

const client = testDynamoClient();
const published: BusEntry[][] = [];
let rt: ReturnType<typeof fakeRuntime>;
let api: Server;
const stored: StoredEvent[] = [];

beforeAll(async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, events);
  const store = dynamoEventStore({ client, tableName: events, types: eventTypes });
  const s = scenario('cli');
  s.created();
  s.envSet('API_KEY', 'production', 1);
  s.requested('d1', { env: [{ name: 'API_KEY', target: 'production', version: 1 }] }); s.queued('d1'); s.started('d1'); s.succeeded('d1'); s.assets('d1'); s.published('d1'); s.live('d1');
  s.envSet('API_KEY', 'production', 2);
  s.requested('d2', { n: 2, env: [{ name: 'API_KEY', target: 'production', version: 2 }] }); s.queued('d2'); s.started('d2'); s.failed('d2'); s.deployFailed('d2', 'build');
  stored.push(...(await appendAsStored(store, s.events)));
  // The API of the running instance, as the lead wires it: POST /api/replay → replayFromRequest,
  // for the admin token the CLI found in the data dir.
  api = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${rt.adminToken}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"no token"}');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      replayFromRequest(JSON.parse(body), { store, bus: { publish: async (entries) => void published.push(entries) }, matcher: compilePattern })
        .then((r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)))
        .catch((err: Error & { status?: number }) => res.writeHead(err.status ?? 500).end(JSON.stringify({ error: err.message })));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const port = (api.address() as { port: number }).port;
  rt = fakeRuntime({ dynamoEndpoint: inject('dynamoEndpoint'), tables: { events }, apiUrl: `http://127.0.0.1:${port}` });
});
afterAll(() => {
  rt.remove();
  api.close();
  client.destroy();
});

describe('shiplog replay deployment', () => {
  it('prints the state and timeline at an event number as JSON', async () => {
    const out = JSON.parse(await rt.use(() => runCommand(replayCommand(), ['deployment', 'd1', '--at', '3', '--json'])));
    expect(out.state).toMatchObject({ deploymentId: 'd1', status: 'building', url: 'http://d1-cli.localhost:3001' });
    expect(out.timeline.map((t: { type: string; source: string }) => [t.type, t.source])).toEqual([
      ['DeploymentRequested', 'shiplog.ingest'], ['BuildQueued', 'shiplog.build'], ['BuildStarted', 'shiplog.build'],
    ]);
    expect(out.at).toMatchObject({ event: 3, of: 8 });
  });

  it('replays at a time, and says so for people', async () => {
    const d1 = stored.filter((e) => e.metadata.deploymentId === 'd1');
    const at = d1[3]!.metadata.occurredAt;
    const text = await rt.use(() => runCommand(replayCommand(), ['deployment', 'd1', '--at', at]));
    expect(text).toMatch(new RegExp(`^deployment d1 \\(cli\\) at event 4 of 8, ${at.replace(/\./g, '\\.')}`));
    expect(text).toMatch(/status {5}deploying/);
    expect(text).toMatch(/timeline\n +1 .*DeploymentRequested: push deployment of main@/);
    const whole = await rt.use(() => runCommand(replayCommand(), ['deployment', 'd1']));
    expect(whole).toMatch(/status {5}ready/);
  });

  it('fails with one line for an unknown deployment, a bad --at, and when nothing runs', async () => {
    await expect(rt.use(() => runCommand(replayCommand(), ['deployment', 'nope']))).rejects.toThrow('no deployment nope in the store');
    await expect(rt.use(() => runCommand(replayCommand(), ['deployment', 'd1', '--at', '99']))).rejects.toThrow('deployment d1 has 8 events: --at takes 1 to 8, got 99');
    await expect(rt.use(() => runCommand(replayCommand(), ['deployment', 'd1', '--at', 'yesterday']))).rejects.toThrow(/ISO 8601 time or an event number/);
    const none = fakeRuntime({ dynamoEndpoint: 'http://127.0.0.1:9', tables: {} });
    none.remove();
    await expect(none.use(() => runCommand(replayCommand(), ['deployment', 'd1']))).rejects.toThrow('shiplog is not running here (start it with `npm start`)');
  });
});

describe('shiplog replay events', () => {
  const from = '2000-01-01T00:00:00.000Z';
  const to = '2100-01-01T00:00:00.000Z';

  it('lists what would be replayed without --to-bus', async () => {
    const out = JSON.parse(await rt.use(() => runCommand(replayCommand(), ['events', '--from', from, '--to', to, '--pattern', '{"source":["shiplog.build"]}', '--json'])));
    expect(out.map((e: StoredEvent) => e.type)).toEqual(['BuildQueued', 'BuildStarted', 'BuildSucceeded', 'BuildQueued', 'BuildStarted', 'BuildFailed']);
  });

  it('republishes in order, marked as replays, through the API with --to-bus', async () => {
    published.length = 0;
    const out = JSON.parse(await rt.use(() => runCommand(replayCommand(), ['events', '--from', from, '--to', to, '--pattern', '{"detail-type":["EnvVarSet","BuildFailed"]}', '--to-bus', '--json'])));
    expect(out).toMatchObject({ scanned: stored.length, published: 3 });
    const entries = published.flat();
    expect(entries.map((e) => [e.detailType, e.source])).toEqual([['EnvVarSet', 'shiplog.ingest'], ['EnvVarSet', 'shiplog.ingest'], ['BuildFailed', 'shiplog.build']]);
    expect(entries.every((e) => e.detail.metadata.replay === true)).toBe(true);
    expect(entries.map((e) => e.detail.metadata.eventId)).toEqual(stored.filter((e) => ['EnvVarSet', 'BuildFailed'].includes(e.type)).map((e) => e.metadata.eventId));
  });

  it('refuses a bad pattern or range before doing anything', async () => {
    await expect(rt.use(() => runCommand(replayCommand(), ['events', '--from', from, '--to', to, '--pattern', '{"source":[]}']))).rejects.toThrow(/Event pattern is not valid/);
    await expect(rt.use(() => runCommand(replayCommand(), ['events', '--from', to, '--to', from]))).rejects.toThrow(/must be after/);
  });
});

describe('shiplog diff', () => {
  it('compares two deployments: env versions, commit, outcome', async () => {
    const out = JSON.parse(await rt.use(() => runCommand(diffCommand(), ['d1', 'd2', '--json'])));
    const differing = Object.fromEntries(out.rows.filter((r: { same: boolean }) => !r.same).map((r: { field: string; a: unknown; b: unknown }) => [r.field, [r.a, r.b]]));
    expect(differing).toMatchObject({
      status: ['ready', 'error'], 'env.API_KEY (production)': [1, 2], 'versions.next': ['15.1.0', null],
    });
    expect(differing['commit.sha']).toBeDefined();
    expect(out.rows.find((r: { field: string }) => r.field === 'branch')).toMatchObject({ a: 'main', b: 'main', same: true });
    const text = await rt.use(() => runCommand(diffCommand(), ['d1', 'd2']));
    expect(text).toMatch(/^\s+field\s+d1\s+d2/);
    expect(text).toMatch(/\* env\.API_KEY \(production\)\s+1\s+2/);
    expect(text).not.toMatch(/ branch /);
  });
});

describe('shiplog events get', () => {
  it('prints one stored event', async () => {
    const e = stored[1]!;
    expect(JSON.parse(await rt.use(() => runCommand(getCommand(), [e.metadata.eventId, '--json'])))).toEqual(e);
    const text = await rt.use(() => runCommand(getCommand(), [e.metadata.eventId]));
    expect(text).toMatch(/^EnvVarSet [0-9A-Z]{26}\n {2}source {7}shiplog\.ingest/);
    await expect(rt.use(() => runCommand(getCommand(), ['01JD2Z8J6X3Q4R5S6T7V8W9XYZ']))).rejects.toThrow('no event 01JD2Z8J6X3Q4R5S6T7V8W9XYZ in the store');
  });
});
