import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain ES module (it runs at `npm install`, before anything is compiled)
import { bundleCli, bundleIsFresh } from '../../../cli/bundle.mjs';
import { createEventStoreTable, dynamoEventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import { tokenVerifier } from '../../../infra/http/auth.ts';
import { platformApi } from '../../../infra/http/app.ts';
import { nodeListener } from '../../../infra/http/node.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import { accessCommands, createTokensTable, dynamoTokenStore } from '../../../services/access/index.ts';
import { localLogStore } from '../../../services/build/adapters/log-store/local.ts';
import { localSiteHost } from '../../../services/deploy/adapters/site-host/local.ts';
import { newId } from '../../support/events.ts';
import { scenario } from '../../support/scenario-events.ts';
import { latencyRow, sample, type BenchRow, type BenchSuite } from '../lib.ts';

// How long a `shiplog` command takes from spawn to exit: the compiled CLI (cli/dist, what
// `npm install` builds) against `node -e 0` (Node's own start), and the sources through tsx (how
// every command ran before). `deployments list` asks a real platform API over DynamoDB Local.
const N = Number(process.env.BENCH_CLI_N ?? 20);
const N_SOURCES = Number(process.env.BENCH_CLI_SOURCES_N ?? 5);
const cli = new URL('../../../cli/shiplog.mjs', import.meta.url).pathname;

// Spawned asynchronously: the API the command calls answers from this process.
const run = (args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += String(c)));
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });

const timeSpawn = async (n: number, args: string[], env: NodeJS.ProcessEnv): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await run(args, env);
    out.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n')[0]}`);
  }
  return out.sort((a, b) => a - b);
};

// Others may edit the sources while this runs, which sends the command back to tsx: rebuild and
// measure again until a whole sample ran on a fresh bundle.
const compiled = async (n: number, args: string[], env: NodeJS.ProcessEnv): Promise<number[]> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!(bundleIsFresh() as boolean)) await bundleCli();
    const samples = await timeSpawn(n, args, env);
    if (bundleIsFresh() as boolean) return samples;
  }
  throw new Error('the sources kept changing under the bundle: no sample ran on a fresh one');
};

export const cliBench: BenchSuite = async ({ dynamo }) => {
  await bundleCli();
  const dynamoEndpoint = await dynamo();
  const client = dynamoClient(dynamoEndpoint);
  const events = `bench-cli-events-${newId()}`;
  const tokens = `bench-cli-tokens-${newId()}`;
  await Promise.all([createEventStoreTable(client, events), createTokensTable(client, tokens)]);
  const store = dynamoEventStore({ client, tableName: events, types: eventTypes });
  const s = scenario('web');
  s.created();
  for (let d = 1; d <= 20; d++) {
    s.requested(`d${d}`, { n: d }); s.queued(`d${d}`); s.started(`d${d}`); s.succeeded(`d${d}`); s.assets(`d${d}`); s.published(`d${d}`); s.live(`d${d}`);
  }
  for (const e of s.events) {
    const { streamId: _s, version, schemaVersion: _v, ...metadata } = e.metadata;
    await store.append(e.metadata.streamId, [{ type: e.type, data: e.data, metadata }], { expectedVersion: version - 1 });
  }
  const access = accessCommands({ tokens: dynamoTokenStore({ client, tableName: tokens }), ids: newId, now: () => new Date().toISOString() });
  const { token } = await access.create({ name: 'bench', kind: 'admin' }, 'bench');
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-bench-cli-'));
  const host = localSiteHost({ dataDir, port: 3001 });
  const app = platformApi({ deployments: { store, logs: localLogStore(dataDir), host, urls: (i) => host.urls(i) }, guard: { verify: tokenVerifier(access) } });
  const server = createServer(nodeListener(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const rows: BenchRow[] = [];
  try {
    const env = { ...process.env, SHIPLOG_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, SHIPLOG_TOKEN: token, SHIPLOG_DATA_DIR: dataDir };
    const list = [cli, 'deployments', 'list', 'web', '--json'];
    const listed = await run(list, env);
    if (listed.status !== 0 || (JSON.parse(listed.stdout) as unknown[]).length !== 20) throw new Error(`deployments list did not list the 20 deployments: ${listed.stderr}`);
    await timeSpawn(3, ['-e', '0'], env); // warm the file cache
    const node = await timeSpawn(N, ['-e', '0'], env);
    rows.push(latencyRow(`cli: shiplog --version, compiled (n=${N}; vs node -e 0)`, await compiled(N, [cli, '--version'], env), node));
    const listSamples = await compiled(N, list, env);
    rows.push(latencyRow(`cli: shiplog deployments list, compiled, real API (n=${N}; vs node -e 0)`, listSamples, node));
    // The API's own share: the same request from this process, with a warm connection pool.
    const url = `${env.SHIPLOG_URL}/api/projects/web/deployments`;
    const request = await sample(N, () => fetch(url, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text()));
    rows.push(latencyRow(`cli: same, vs node -e 0 + that API request made in-process (n=${N})`, listSamples, [node[Math.floor(N / 2)]! + request[Math.floor(N / 2)]!]));
    rows.push(latencyRow(`cli: shiplog --help, compiled: loads every command (n=${N}; vs node -e 0)`, await compiled(N, [cli, '--help'], env), node));
    const sources = { ...env, SHIPLOG_CLI_SOURCES: '1' };
    rows.push(latencyRow(`cli: shiplog deployments list from the sources through tsx, as before (n=${N_SOURCES}; vs node -e 0)`, await timeSpawn(N_SOURCES, list, sources), node));
  } finally {
    await new Promise((r) => server.close(r));
    rmSync(dataDir, { recursive: true, force: true });
    client.destroy();
  }
  return rows;
};
