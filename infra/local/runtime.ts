import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { monotonicFactory } from 'ulid';
import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus, type LocalBus } from '../../events/bus/local/index.ts';
import { eventTypes, type EventBridgeEvent, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { localLogStore } from '../../services/build/adapters/log-store/local.ts';
import { localScheduler } from '../../services/build/adapters/scheduler/local.ts';
import { localBuildRunner } from '../../services/build/adapters/runner/local.ts';
import { killOrphanedBuilds } from '../../services/build/adapters/runner/process-record.ts';
import { localSiteHost, sweepInterrupted } from '../../services/deploy/adapters/site-host/local.ts';
import { createIdempotencyTable } from '../../services/shell/index.ts';
import { subscriptions } from '../topology.ts';
import { platformApi } from '../http/app.ts';
import { servedHosts, tokenVerifier } from '../http/auth.ts';
import { startAccess } from './access.ts';
import { nodeListener } from '../http/node.ts';
import { startDashboard } from './dashboard.ts';
import type { LocalConfig } from './config.ts';
import { isLoopbackHost, localTables } from './config.ts';
import { dynamoClient } from './dynamodb-local.ts';
import { superviseDynamoLocal, type SupervisedDynamoLocal } from './dynamodb-supervisor.ts';
import { localServices } from './services.ts';
import { buildReconciler } from './reconcile.ts';
import { busEntryOf, streamOutbox, type StreamOutbox } from './outbox.ts';
import { eventFeed } from './event-feed.ts';
import { localUrls, projectionPositions, readModels } from '../../projections/index.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';
import { cachedMounts } from './mounts.ts';
import { localHealthProbe } from '../../services/deploy/adapters/health-probe/local.ts';
import { holdDataDir, removeRuntimeFile, writeRuntimeFile } from './runtime-file.ts';

/**
 * The embedded runtime behind `shiplog dev`: DynamoDB Local on disk, the tables, the services
 * on the local bus (every subscription of the topology), the outbox, the API and the site router.
 *
 * @example
 * const rt = await startLocalRuntime(localConfig());
 * await rt.stop();
 */
export interface LocalRuntime {
  db: SupervisedDynamoLocal;
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

/**
 * What `/healthz` reports: `ok` once everything a user needs is usable, else which parts are not.
 *
 * @example
 * { ok: false, unavailable: ['database'] }
 */
export interface LocalHealth {
  ok: boolean;
  /** `starting` until start-up is complete (builds reconciled, the runtime file written for the CLI). */
  unavailable: ('database' | 'dashboard' | 'starting')[];
}

const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
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
    // 0. the data dir is this process's (a second shiplog on it would kill this one's database)
    const release = holdDataDir(cfg.dataDir);
    stops.push(async () => release());
    // 1. the database and the tables
    // Supervised (started again on the same port when it dies) and, where the host allows, in a
    // network namespace of its own so it answers on 127.0.0.1 only.
    const db = await superviseDynamoLocal({ dataDir: join(cfg.dataDir, 'dynamodb'), loopbackOnly: true, log });
    stops.push(() => db.stop());
    const client = dynamoClient(db.endpoint);
    stops.push(async () => client.destroy());
    await createEventStoreTable(client, localTables.events);
    await createLocalBusTables(client, { deliveries: localTables.deliveries, deadLetters: localTables.deadLetters });
    await createIdempotencyTable(client, localTables.idempotency);

    // 2. the ports
    // Each commit is offered to the outbox (wired below), which publishes it at once: a hop takes
    // milliseconds, not a stream read. The stream pass that follows only checkpoints past it.
    let committed: (events: StoredEvent[]) => void = () => {};
    const store = dynamoEventStore({ client, tableName: localTables.events, types: eventTypes, onCommitted: (_, events) => committed(events) });
    const ids = monotonicFactory();
    const now = () => new Date().toISOString();
    const logs = localLogStore(cfg.dataDir);
    const workRoot = join(cfg.dataDir, 'builds', 'work');
    const host = localSiteHost({ dataDir: cfg.dataDir, port: cfg.sitesPort, removeArtifactsUnder: workRoot });
    // What a killed run left: its builds' process groups (each build command has its own) and half-done publishes.
    const orphans = await killOrphanedBuilds(workRoot);
    const swept = await sweepInterrupted(cfg.dataDir);
    if (orphans + swept > 0) log(`shiplog: killed ${orphans} orphaned build process(es), removed ${swept} interrupted publish(es)`);
    const bindHost = cfg.host ?? '127.0.0.1';
    // A wildcard bind still answers on localhost; a specific address only on itself.
    const urlHost = isLoopbackHost(bindHost) || bindHost === '0.0.0.0' || bindHost === '::' ? 'localhost' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
    const apiUrl = `http://${urlHost}:${cfg.port}`;
    // API tokens: the admin's (in <dataDir>/admin-token, for the CLI) and this run's dashboard token
    const { access, dashboardToken } = await startAccess({ client, tableName: localTables.tokens, dataDir: cfg.dataDir, ids, now, log });

    // 3. the services, one handler per subscription
    // The deploy health gate asks the site router, which starts after the bus: a check waits for it.
    let routerStarted: (r: { port: number; hostname: string }) => void = () => {};
    const routerUp = new Promise<{ port: number; hostname: string }>((r) => (routerStarted = r));
    const services = await localServices({
      cfg, client, store, ids, now, logs, host, apiUrl,
      probe: localHealthProbe({ router: () => routerUp }),
      buildTimeoutMs: opts.buildTimeoutMs ?? 20 * 60_000,
      idempotency: { client, tableName: localTables.idempotency },
      log,
    });
    const scheduler = localScheduler({
      dataDir: cfg.dataDir,
      // The build cache sits beside the work dirs, not among them: the work root holds only builds in flight.
      runner: localBuildRunner({ workRoot, cacheRoot: join(cfg.dataDir, 'builds', 'cache') }),
      logs,
      envFor: services.envFor,
      events: services.build.schedulerEvents,
      onError: (err) => log(`build scheduler: ${(err as Error).message}`),
    });
    services.build.attach(scheduler);
    stops.push(() => scheduler.stop());

    // 4. the bus, and the outbox that feeds it from the store
    const deadLetters = deadLetterQueue(client, localTables.deadLetters);
    const byStream = (e: EventBridgeEvent): string | undefined => e.detail?.metadata?.streamId;
    const bus = localBus({
      // Read models and fan-out give way to the services reacting to the same event (a rollback's alias).
      // The read models take each stream's events one at a time, in order (`orderedBy`).
      subscribers: subscriptions.map((s) => ({
        name: s.name, pattern: s.pattern, policy: s.policy, handle: services.handlers[s.name]!, background: s.kind !== 'service',
        ...(s.kind === 'projection' ? { orderedBy: byStream } : {}),
      })),
      journal: deliveryJournal(client, localTables.deliveries),
      deadLetters,
      ...(opts.retryBaseDelayMs ? { baseDelayMs: opts.retryBaseDelayMs } : {}),
      onOutcome: (o) => {
        if (o.outcome !== 'delivered') log(`bus: ${o.subscription} ${o.eventId} ${o.outcome}${o.error ? `: ${o.error}` : ''}`);
      },
    });
    await bus.start();
    stops.push(() => bus.stop());
    // What the outbox publishes also reaches the API's followers of a deployment's events (SSE).
    const feed = eventFeed();
    const outbox: StreamOutbox = streamOutbox({
      endpoint: db.endpoint, client, tableName: localTables.events, checkpointTable: localTables.outbox, bus: feed.tap(bus),
      // While the database is being restarted every poll fails: that is said once, by the supervisor.
      onError: (err) => {
        if (db.state() === 'up') log(`outbox: ${(err as Error).message}`);
      },
    });
    await outbox.start();
    committed = (events) => outbox.offer(events.map((e) => busEntryOf(eventTypes, e)));
    stops.push(() => outbox.stop());

    // 5. the API and the site router
    const dashboard =
      process.env.SHIPLOG_DASHBOARD === 'off'
        ? undefined
        : startDashboard({ dataDir: cfg.dataDir, apiUrl, dynamoEndpoint: db.endpoint, tables: localTables, sitesPort: cfg.sitesPort, apiToken: dashboardToken, log });
    if (dashboard) stops.push(() => dashboard.close());
    // The platform API (Hono) on Node's http server; the dashboard beside it (a proxy to its own process).
    const app = platformApi({
      ...services.api,
      deployments: {
        store, logs, host, urls: (i) => host.urls(i), feed,
        readModels: { models: readModels({ views: services.views, urls: localUrls(cfg.sitesPort) }), positions: projectionPositions({ store, views: services.views }) },
      },
      events: { store, bus, deadLetters, subscriptionNames: subscriptions.map((s) => s.name), urls: localUrls(cfg.sitesPort) },
      access,
      guard: { verify: tokenVerifier(access), hosts: servedHosts(cfg.port) },
      health: () => health(),
    });
    const api = createServer(nodeListener(app, dashboard && ((req, res) => dashboard.handle(req, res))));
    let started = false;
    // The dashboard runs in a process of its own: usable once it serves, and no longer if it died.
    const dashboardUsable = () => !dashboard || dashboard.usable();
    const health = async (): Promise<LocalHealth> => {
      const unavailable: LocalHealth['unavailable'] = started ? [] : ['starting'];
      if (!(await db.usable())) unavailable.push('database');
      if (!dashboardUsable()) unavailable.push('dashboard');
      return { ok: unavailable.length === 0, unavailable };
    };
    await listen(api, cfg.port, bindHost);
    if (!isLoopbackHost(bindHost)) {
      log(`shiplog: warning: SHIPLOG_HOST=${bindHost} serves the API and the sites beyond this machine over plain HTTP; put a TLS-terminating proxy in front`);
    }
    stops.push(() => new Promise<void>((r) => api.close(() => r())));
    const siteModels = readModels({ views: services.views, urls: localUrls(cfg.sitesPort) });
    // What the router captured is written in batches: the last one once the router has stopped (stops run in reverse).
    stops.push(() => services.observability.capture.flush());
    const sites: SiteRouter = await startSiteRouter({
      port: cfg.sitesPort, hostname: bindHost, dataDir: cfg.dataDir, envFor: services.runtimeEnvFor, resolveHost: services.resolveHost,
      // multi-zone: each project's mounts, from the projects read model
      mountsOf: cachedMounts(async (projectId) => (await siteModels.getProject(projectId))?.mounts ?? []),
      // observability: the functions' output and every served request become runtime logs and metrics
      onFunctionLog: services.observability.capture.line, observe: services.observability.capture.begin,
    });
    stops.push(() => sites.close());
    // observability: alarms of the projects that serve, every SHIPLOG_ALARM_EVALUATE_MS (2 s); retention sweeps hourly
    const stopAlarms = services.observability.alarms.start(Number(process.env.SHIPLOG_ALARM_EVALUATE_MS ?? 2000));
    stops.push(async () => stopAlarms());
    const sweep = setInterval(() => void services.observability.sweep().catch((e: unknown) => log(`observability: ${(e as Error).message}`)), 3600_000);
    sweep.unref();
    stops.push(async () => clearInterval(sweep));
    routerStarted({ port: sites.port, hostname: bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost === '::' ? '::1' : bindHost });

    // 6. pick up builds a previous run left unfinished, and tell other commands where we are
    // (every build not running is resumed or failed as interrupted, now and every minute)
    const reconciler = buildReconciler({ store, build: services.build, scheduler, logs, workRoot, maxResumes: Number(process.env.SHIPLOG_BUILD_RESUMES ?? 1), aliases: services.deploy, log });
    const reconciled = await reconciler.pass();
    if (reconciled.resumed + reconciled.interrupted > 0) log(`shiplog: reconciled builds: ${reconciled.resumed} resumed, ${reconciled.interrupted} failed as interrupted`);
    const reconcileTimer = reconciler.every(Number(process.env.SHIPLOG_RECONCILE_MS ?? 60_000));
    stops.push(async () => clearInterval(reconcileTimer));
    const sitesUrl = `http://${urlHost}:${cfg.sitesPort}`;
    writeRuntimeFile(cfg.dataDir, {
      pid: process.pid,
      startedAt: now(),
      dynamoEndpoint: db.endpoint,
      apiUrl,
      sitesUrl,
      tables: { ...localTables },
    });
    stops.push(async () => removeRuntimeFile(cfg.dataDir));
    started = true;

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
