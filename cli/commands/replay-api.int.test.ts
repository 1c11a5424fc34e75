import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { platformApi } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import { localUrls } from '../../projections/index.ts';
import { testApiAuth } from '../../test/support/api-auth.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { fakeRuntime, runCommand } from '../../test/support/local-projections.ts';
import { appendAsStored, scenario } from '../../test/support/scenario-events.ts';
import { tailEvents } from '../../projections/replay/tail.ts';
import { getCommand } from './events-get.ts';
import { apiEventPages } from './events-tail.ts';
import { replayCommand } from './replay.ts';

// The store-reading commands against a named instance (`--url`/`SHIPLOG_URL`, as shiplog on AWS):
// they ask the API (`infra/http/routes/events.ts`) and print exactly what they print when they
// read a local instance's store themselves.

const client = testDynamoClient();
let rt: ReturnType<typeof fakeRuntime>;
let server: Server;
let url: string;
let token: string;
const stored: StoredEvent[] = [];
let events: string;

beforeAll(async () => {
  events = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, events);
  const store = dynamoEventStore({ client, tableName: events, types: eventTypes });
  const s = scenario('cli');
  s.created();
  s.requested('d1'); s.queued('d1'); s.started('d1'); s.succeeded('d1'); s.assets('d1'); s.published('d1'); s.live('d1');
  stored.push(...(await appendAsStored(store, s.events)));
  const auth = await testApiAuth(client, import.meta.url);
  token = auth.token;
  const app = platformApi({
    guard: auth.guard,
    events: { store, bus: { publish: async () => undefined, redrive: async () => 0 }, deadLetters: { list: async () => [] }, subscriptionNames: [], urls: localUrls(3001) },
  });
  server = createServer(nodeListener(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  rt = fakeRuntime({ dynamoEndpoint: inject('dynamoEndpoint'), tables: { events } });
});
afterAll(() => {
  rt?.remove();
  server?.close();
  client.destroy();
});

/** Runs a command against the local store (the runtime file), then against the API as a named instance. */
const both = async (make: () => Parameters<typeof runCommand>[0], args: string[]): Promise<[string, string]> => {
  const local = await rt.use(() => runCommand(make(), args));
  Object.assign(process.env, { SHIPLOG_URL: url, SHIPLOG_TOKEN: token });
  try {
    return [local, await runCommand(make(), args)];
  } finally {
    delete process.env.SHIPLOG_URL;
    delete process.env.SHIPLOG_TOKEN;
  }
};

describe('store-reading commands through the API of a named instance', () => {
  it('`replay deployment` prints the same state and timeline, at an event number, a time or now', async () => {
    const at = stored.filter((e) => e.metadata.deploymentId === 'd1')[3]!.metadata.occurredAt;
    for (const args of [['deployment', 'd1', '--at', '3', '--json'], ['deployment', 'd1', '--at', at], ['deployment', 'd1']]) {
      const [local, remote] = await both(replayCommand, args);
      expect(remote).toBe(local);
      expect(remote).toContain('d1');
    }
    Object.assign(process.env, { SHIPLOG_URL: url, SHIPLOG_TOKEN: token });
    try {
      await expect(runCommand(replayCommand(), ['deployment', 'nope'])).rejects.toThrow('no deployment nope in the store');
      await expect(runCommand(replayCommand(), ['deployment', 'd1', '--at', '99'])).rejects.toThrow('--at takes 1 to 8');
    } finally {
      delete process.env.SHIPLOG_URL;
      delete process.env.SHIPLOG_TOKEN;
    }
  });

  it('`replay events` (dry run) lists the same events, with a pattern too', async () => {
    const from = stored[0]!.recordedAt;
    const to = new Date(Date.parse(stored.at(-1)!.recordedAt) + 1).toISOString();
    for (const extra of [[], ['--pattern', '{"detail-type":["BuildStarted","BuildSucceeded"]}']]) {
      const [local, remote] = await both(replayCommand, ['events', '--from', from, '--to', to, ...extra, '--json']);
      expect(JSON.parse(remote)).toEqual(JSON.parse(local));
      expect(JSON.parse(remote)).toHaveLength(extra.length ? 2 : stored.length);
    }
  });

  it('`events tail` follows the global order through the API as through the store', async () => {
    const follow = async (store: Parameters<typeof tailEvents>[0]['store']) => {
      const shown: string[] = [];
      const stop = new AbortController();
      const done = tailEvents({ store, pollMs: 30, pageSize: 3, from: stored[0]!.recordedAt, signal: stop.signal, onEvent: (e) => { shown.push(e.metadata.eventId); } });
      await expect.poll(() => shown.length).toBe(stored.length);
      stop.abort();
      await done;
      return shown;
    };
    const local = await rt.use(() => follow(dynamoEventStore({ client, tableName: events, types: eventTypes })));
    Object.assign(process.env, { SHIPLOG_URL: url, SHIPLOG_TOKEN: token });
    try {
      expect(await follow(apiEventPages())).toEqual(local);
    } finally {
      delete process.env.SHIPLOG_URL;
      delete process.env.SHIPLOG_TOKEN;
    }
    expect(local).toEqual(stored.map((e) => e.metadata.eventId));
  });

  it('`events get` prints the same event, and the same refusal for an unknown id', async () => {
    const e = stored[1]!;
    for (const args of [[e.metadata.eventId, '--json'], [e.metadata.eventId]]) {
      const [local, remote] = await both(getCommand, args);
      expect(remote).toBe(local);
    }
    Object.assign(process.env, { SHIPLOG_URL: url, SHIPLOG_TOKEN: token });
    try {
      await expect(runCommand(getCommand(), ['01JD2Z8J6X3Q4R5S6T7V8W9XYZ'])).rejects.toThrow('no event 01JD2Z8J6X3Q4R5S6T7V8W9XYZ in the store');
    } finally {
      delete process.env.SHIPLOG_URL;
      delete process.env.SHIPLOG_TOKEN;
    }
  });
});
