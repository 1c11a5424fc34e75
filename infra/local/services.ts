import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeEvent, EventData } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { streams } from '../../events/index.ts';
import { makeProjectionHandler, createViewsTable, dynamoViewStore } from '../../projections/index.ts';
import type { LogStore, ScheduledBuild } from '../../services/build/index.ts';
import { buildService, describeArtifactDir } from '../../services/build/index.ts';
import type { HealthProbe, SiteHost } from '../../services/deploy/index.ts';
import { deployService, keyedLock } from '../../services/deploy/index.ts';
import { customHostResolver, domainCommands, domainsService, localCertificateAuthority } from '../../services/domains/index.ts';
import { localIngestDeps } from './ingest.ts';
import { siteLayout } from '../../services/deploy/adapters/site-host/local.ts';
import {
  alarmEvaluator, directoryBytes, ingestRollbackRequester, localMetricsSource, localRuntimeLogStore, observabilityCommands, observabilityService, runtimeCapture,
} from '../../services/observability/index.ts';
import type { IdempotencyOptions } from '../../services/shell/index.ts';
import { fetchWebhookSender, parseAllowList, subscriptionsService } from '../../services/subscriptions/index.ts';
import { ingestApi, type PlatformApiDeps } from '../http/app.ts';
import type { LocalConfig } from './config.ts';
import { localTables } from './config.ts';

export interface LocalServicesDeps {
  cfg: LocalConfig;
  client: DynamoDBClient;
  store: EventStore;
  ids: () => string;
  now: () => string;
  logs: LogStore;
  host: SiteHost;
  /** The deploy health gate's probe (the site router); without it, aliases move unchecked. */
  probe?: HealthProbe;
  apiUrl: string;
  buildTimeoutMs: number;
  idempotency: IdempotencyOptions;
  log: (line: string) => void;
}

/**
 * The local composition root of the services: every topology subscription's handler built with
 * local ports, plus what the platform API's command side is built from (`api`). Only this file (and `infra/aws`) knows
 * which runtime the services run in.
 *
 * @example
 * const services = await localServices(deps);
 * services.handlers.DeployOnBuildSucceeded(event);
 */
export const localServices = async (deps: LocalServicesDeps) => {
  const { store, client } = deps;

  // ingest: the command side (projects, env vars, webhooks, the git remote)
  const ingest = await localIngestDeps({ client, store, dataDir: deps.cfg.dataDir, publicUrl: deps.apiUrl, secretsTable: localTables.secrets });

  // The env vars a deployment was requested with (names and versions), resolved to values.
  const deploymentEnv = async (projectId: string, deploymentId: string): Promise<Record<string, string>> => {
    const requested = (await store.readStream(streams.deployment(deploymentId))).find((e) => e.type === 'DeploymentRequested');
    if (!requested) return {};
    return ingest.secrets.resolveRefs(projectId, (requested.data as EventData<'DeploymentRequested'>).env);
  };

  const build = buildService({
    store,
    ids: deps.ids,
    now: deps.now,
    repoFor: (projectId, repository) => (repository.source === 'git' ? ingest.repos.cloneUrl(projectId) : repository.cloneUrl),
    describeArtifact: describeArtifactDir,
    timeoutMs: deps.buildTimeoutMs,
    idempotency: deps.idempotency,
  });

  const deploy = deployService({
    store,
    host: deps.host,
    ids: deps.ids,
    now: deps.now,
    withLock: keyedLock(),
    // One `shiplog dev` owns its data dir: its deploy service alone appends to release streams and moves the aliases.
    soleAliasWriter: true,
    idempotency: deps.idempotency,
    ...(deps.probe ? { probe: deps.probe } : {}),
    ...(process.env.SHIPLOG_HEALTH_TIMEOUT_MS ? { healthTimeoutMs: Number(process.env.SHIPLOG_HEALTH_TIMEOUT_MS) } : {}),
  });

  // Webhooks never reach internal addresses unless SHIPLOG_WEBHOOK_ALLOW names them (hosts, IPs, CIDRs).
  const webhookAllow = parseAllowList(process.env.SHIPLOG_WEBHOOK_ALLOW);
  const subscriptions = subscriptionsService({ store, secrets: ingest.secrets, sender: fetchWebhookSender({ allow: webhookAllow }), allow: webhookAllow, ids: deps.ids, now: deps.now, idempotency: deps.idempotency, log: deps.log });

  const domains = domainsService({ store, ca: localCertificateAuthority({ dir: join(deps.cfg.dataDir, 'ca') }), routingRecord: ({ host }) => ({ purpose: 'routing', name: host, type: 'A', value: '127.0.0.1' }), ids: deps.ids, now: deps.now, idempotency: deps.idempotency });

  // observability: runtime logs and request records under the data dir, the alarm evaluator, and
  // the rollback an alarm that acts asks for (the router feeds `observability.capture`)
  const runtimeLogs = localRuntimeLogStore({ dir: join(deps.cfg.dataDir, 'observability', 'logs') });
  const metrics = localMetricsSource({
    dir: join(deps.cfg.dataDir, 'observability', 'requests'),
    storageBytesOf: (projectId, deploymentId) => directoryBytes(join(siteLayout(deps.cfg.dataDir).versionDir(projectId, deploymentId), 'assets')),
  });
  const alarms = alarmEvaluator({ store, metrics, ids: deps.ids, now: deps.now, log: deps.log });
  const capture = runtimeCapture({
    // every record captured also goes to the project's log drains (runtime-logs subscriptions)
    logs: { ...runtimeLogs, append: (records) => {
      subscriptions.drain.offer(records);
      return runtimeLogs.append(records);
    } },
    requests: metrics,
    onRequest: (r) => alarms.watch(r.projectId),
    onError: (e) => deps.log(`observability: ${(e as Error).message}`),
  });
  const observability = observabilityService({ store, rollback: ingestRollbackRequester({ store, ids: deps.ids, now: deps.now }), idempotency: deps.idempotency });

  await createViewsTable(client, localTables.views);
  const views = dynamoViewStore({ client, tableName: localTables.views });
  const projections = makeProjectionHandler({ store, views });

  const handlers: Record<string, (event: EventBridgeEvent) => Promise<unknown>> = {
    BuildOnDeploymentRequested: build.onDeploymentRequested,
    DeployOnBuildSucceeded: deploy.onBuildSucceeded,
    DeployOnBuildEnded: deploy.onBuildEnded,
    DeployOnReleaseRequest: deploy.onReleaseRequest,
    DeployOnMountsChanged: deploy.onMountsChanged,
    Projections: projections,
    SubscriptionsDeliver: subscriptions.onEvent,
    DomainsOnDomainAdded: domains.onDomainAdded, DomainsOnValidationPending: domains.onValidationPending, DomainsOnDomainRemoved: domains.onDomainRemoved,
    ObservabilityOnAlarmRaised: observability.onAlarmRaised,
  };

  const api = {
    ingest: ingestApi(ingest),
    subscriptions,
    domains: domainCommands({ store, ids: deps.ids, now: deps.now }),
    observability: observabilityCommands({ store, logs: runtimeLogs, metrics, ids: deps.ids, now: deps.now }),
    // The deploy service runs here: a rollback's or promote's target is probed as the API receives it.
    expectRelease: deploy.expectRelease,
  } satisfies Omit<PlatformApiDeps, 'guard'>;

  return {
    build,
    deploy,
    handlers,
    api,
    views,
    secrets: ingest.secrets,
    envFor: (b: ScheduledBuild) => deploymentEnv(b.projectId, b.deploymentId),
    runtimeEnvFor: deploymentEnv,
    resolveHost: customHostResolver({ store }),
    observability: { capture, alarms, sweep: () => Promise.all([runtimeLogs.sweep(), metrics.sweep()]) },
  };
};
