import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { monotonicFactory } from 'ulid';
import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus, type LocalBus } from '../../events/bus/local/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { localLogStore } from '../../services/build/adapters/local-logs.ts';
import { localScheduler } from '../../services/build/adapters/local-scheduler.ts';
import { localBuildRunner } from '../../services/build/adapters/local-runner.ts';
import type { BuildScheduler } from '../../services/build/scheduler.ts';
import { localSiteHost } from '../../services/deploy/adapters/local-host.ts';
import { createIdempotencyTable } from '../../services/shell/index.ts';
import { subscriptions } from '../topology.ts';
import { platformApi } from '../http/app.ts';
import { nodeListener } from '../http/node.ts';
import { startDashboard } from './dashboard.ts';
import type { LocalConfig } from './config.ts';
import { localTables } from './config.ts';
import { dynamoClient, startDynamoLocal, type DynamoLocal } from './dynamodb-local.ts';
import { localServices } from './services.ts';
import { streamOutbox, type StreamOutbox } from './outbox.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';
import { removeRuntimeFile, writeRuntimeFile } from './runtime-file.ts';

/**
 * The embedded runtime behind `shiplog dev`: DynamoDB Local on disk, the tables, the services
 * on the local bus (every subscription of the topology), the outbox, the API and the site router.
 *
 * @example
 * const rt = await startLocalRuntime(localConfig());
 * await rt.stop();
 */
export interface LocalRuntime {
  db: DynamoLocal;
  client: DynamoDBClient;
  store: EventStore;
  bus: LocalBus;
  apiUrl: string;
  sitesUrl: string;
  stop(): Promise<void>;
}

export interface LocalRuntimeOptions {
  /** Build timeout; default 20 minutes. */
  buildTimeoutMs?: number;
  /** First bus retry delay; default 1 s. */
  retryBaseDelayMs?: number;
  log?: (line: string) => void;
}

const listen = (server: Server, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });

export const startLocalRuntime = async (cfg: LocalConfig, opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> => {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`shiplog: while stopping: ${(err as Error).message}`));
  };
  try {
    // 1. the database and the tables
    const db = await startDynamoLocal({ dataDir: join(cfg.dataDir, 'dynamodb') });
    stops.push(() => db.stop());
    const client = dynamoClient(db.endpoint);
    stops.push(async () => client.destroy());
    await createEventStoreTable(client, localTables.events);
    await createLocalBusTables(client, { deliveries: localTables.deliveries, deadLetters: localTables.deadLetters });
    await createIdempotencyTable(client, localTables.idempotency);

    // 2. the ports
    const store = dynamoEventStore({ client, tableName: localTables.events, types: eventTypes });
    const ids = monotonicFactory();
    const now = () => new Date().toISOString();
    const logs = localLogStore(cfg.dataDir);
    const host = localSiteHost({ dataDir: cfg.dataDir, port: cfg.sitesPort });
    const apiUrl = `http://localhost:${cfg.port}`;

    // 3. the services, one handler per subscription
    const services = await localServices({
      cfg, client, store, ids, now, logs, host, apiUrl,
      buildTimeoutMs: opts.buildTimeoutMs ?? 20 * 60_000,
      idempotency: { client, tableName: localTables.idempotency },
      log,
    });
    const scheduler: BuildScheduler = localScheduler({
      dataDir: cfg.dataDir,
      runner: localBuildRunner({ workRoot: join(cfg.dataDir, 'builds', 'work') }),
      logs,
      envFor: services.envFor,
      events: services.build.schedulerEvents,
      onError: (err) => log(`build scheduler: ${(err as Error).message}`),
    });
    services.build.attach(scheduler);
    stops.push(() => scheduler.stop());

    // 4. the bus, and the outbox that feeds it from the store
    const deadLetters = deadLetterQueue(client, localTables.deadLetters);
    const bus = localBus({
      subscribers: subscriptions.map((s) => ({ name: s.name, pattern: s.pattern, policy: s.policy, handle: services.handlers[s.name]! })),
      journal: deliveryJournal(client, localTables.deliveries),
      deadLetters,
      ...(opts.retryBaseDelayMs ? { baseDelayMs: opts.retryBaseDelayMs } : {}),
      onOutcome: (o) => {
        if (o.outcome !== 'delivered') log(`bus: ${o.subscription} ${o.eventId} ${o.outcome}${o.error ? `: ${o.error}` : ''}`);
      },
    });
    await bus.start();
    stops.push(() => bus.stop());
    const outbox: StreamOutbox = streamOutbox({
      endpoint: db.endpoint, client, tableName: localTables.events, checkpointTable: localTables.outbox, bus,
      onError: (err) => log(`outbox: ${(err as Error).message}`),
    });
    await outbox.start();
    stops.push(() => outbox.stop());

    // 5. the API and the site router
    const dashboard =
      process.env.SHIPLOG_DASHBOARD === 'off'
        ? undefined
        : startDashboard({ dataDir: cfg.dataDir, apiUrl, dynamoEndpoint: db.endpoint, tables: localTables, sitesPort: cfg.sitesPort, log });
    if (dashboard) stops.push(() => dashboard.close());
    // The platform API (Hono) on Node's http server; the dashboard, a Node handler of its own, beside it.
    const app = platformApi({
      ...services.api,
      deployments: { store, logs, host, urls: (i) => host.urls(i) },
      events: { store, bus, deadLetters, subscriptionNames: subscriptions.map((s) => s.name) },
    });
    const api = createServer(nodeListener(app, dashboard && ((req, res) => dashboard.handle(req, res))));
    await listen(api, cfg.port);
    stops.push(() => new Promise<void>((r) => api.close(() => r())));
    const sites: SiteRouter = await startSiteRouter({ port: cfg.sitesPort, dataDir: cfg.dataDir, envFor: services.runtimeEnvFor, resolveHost: services.resolveHost });
    stops.push(() => sites.close());

    // 6. pick up builds a previous run left unfinished, and tell other commands where we are
    const resumed = await scheduler.resume();
    if (resumed > 0) log(`shiplog: resumed ${resumed} unfinished build(s)`);
    const sitesUrl = `http://localhost:${cfg.sitesPort}`;
    writeRuntimeFile(cfg.dataDir, {
      pid: process.pid,
      startedAt: now(),
      dynamoEndpoint: db.endpoint,
      apiUrl,
      sitesUrl,
      tables: { ...localTables },
    });
    stops.push(async () => removeRuntimeFile(cfg.dataDir));

    let stopped = false;
    return {
      db, client, store, bus, apiUrl, sitesUrl,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
};
