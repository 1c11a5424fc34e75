import 'server-only';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { dynamoEventStore, sdkFailureLogger, type EventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/index.ts';
import { readModels, type ReadModels, dynamoViewStore, localUrls, type Urls } from '../../../projections/index.ts';
import type { ViewStore } from '../../../projections/index.ts';

/**
 * What the dashboard's server side reads: the read models, the view store (for the few
 * questions `readModels` does not answer yet) and the event store (explorer, time travel).
 */
export interface DashboardContext {
  models: ReadModels;
  views: ViewStore;
  store: EventStore;
  urls: Urls;
  apiUrl: string;
  /**
   * The dashboard's API token (kind `dashboard`); with `{ fresh: true }` read again from where it
   * is kept (on AWS it rotates with each deploy, so a 401 asks for the new one).
   */
  apiToken(opts?: { fresh?: boolean }): Promise<string>;
}

/**
 * All the dashboard knows of the runtime it runs in, handed to it by that runtime's composition
 * root as environment variables (the one channel into a Next.js server on both):
 * `infra/local/dashboard.ts` for `shiplog dev`, `infra/aws/dashboard.ts` on AWS.
 *
 * @example
 * { apiUrl: 'http://localhost:3000', tables: { events: 'shiplog-events', views: 'shiplog-views' },
 *   dynamo: { endpoint: 'http://127.0.0.1:8000', region: 'local' }, sites: { port: 3001 } }
 */
export interface DashboardConfig {
  /** The platform API: commands, build logs. */
  apiUrl: string;
  /**
   * The dashboard's own API token (kind `dashboard`), sent with every call to the API: the token
   * itself (`shiplog dev`) or the SSM SecureString parameter it is kept in (AWS).
   */
  apiToken: { token: string } | { parameter: string };
  tables: { events: string; views: string };
  /** DynamoDB Local; null on AWS, where the function's role and region apply. */
  dynamo: { endpoint: string; region: string } | null;
  /** Site URLs: the local router's port, or templates with `{project}` and `{deployment}`. */
  sites: { port: number } | { production: string; deployment: string };
}

const required = (env: NodeJS.ProcessEnv, name: string): string => {
  const v = env[name];
  if (!v) throw new Error(`the dashboard needs ${name} (set by shiplog dev, or by infra/aws/dashboard.ts)`);
  return v;
};

/** Reads `SHIPLOG_DASHBOARD_*` (see the dashboard's README); throws naming what is missing. */
export const configFromEnv = (env: NodeJS.ProcessEnv = process.env): DashboardConfig => {
  const endpoint = env.SHIPLOG_DASHBOARD_DYNAMO_ENDPOINT;
  const sitesPort = Number(env.SHIPLOG_DASHBOARD_SITES_PORT);
  return {
    apiUrl: required(env, 'SHIPLOG_DASHBOARD_API_URL').replace(/\/+$/, ''),
    apiToken: env.SHIPLOG_DASHBOARD_API_TOKEN_PARAM
      ? { parameter: env.SHIPLOG_DASHBOARD_API_TOKEN_PARAM }
      : { token: required(env, 'SHIPLOG_DASHBOARD_API_TOKEN') },
    tables: { events: required(env, 'SHIPLOG_DASHBOARD_EVENTS_TABLE'), views: required(env, 'SHIPLOG_DASHBOARD_VIEWS_TABLE') },
    dynamo: endpoint ? { endpoint, region: env.AWS_REGION ?? 'local' } : null,
    sites:
      Number.isInteger(sitesPort) && sitesPort > 0
        ? { port: sitesPort }
        : { production: required(env, 'SHIPLOG_DASHBOARD_PRODUCTION_URL'), deployment: required(env, 'SHIPLOG_DASHBOARD_DEPLOYMENT_URL') },
  };
};

// `{project}` and `{deployment}` (lower-cased, as hostnames are) in URL templates.
const templateUrls = (production: string, deployment: string): Urls => ({
  production: (projectId) => production.replaceAll('{project}', projectId),
  deployment: (projectId, deploymentId) => deployment.replaceAll('{project}', projectId).replaceAll('{deployment}', deploymentId.toLowerCase()),
});

/** The dashboard's composition root: its stores and read models, from a config. */
export const createContext = (config: DashboardConfig): DashboardContext => {
  // DynamoDB Local takes any credentials; on AWS the function's role supplies them.
  const client = config.dynamo
    ? new DynamoDBClient({ ...config.dynamo, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, logger: sdkFailureLogger })
    : new DynamoDBClient({ logger: sdkFailureLogger });
  const views = dynamoViewStore({ client, tableName: config.tables.views });
  const store = dynamoEventStore({ client, tableName: config.tables.events, types: eventTypes });
  const urls = 'port' in config.sites ? localUrls(config.sites.port) : templateUrls(config.sites.production, config.sites.deployment);
  return { models: readModels({ views, urls }), views, store, urls, apiUrl: config.apiUrl, apiToken: tokenSource(config.apiToken) };
};

// The token as given, or read from SSM (decrypted with the function's role) on first use and on a refresh.
const tokenSource = (source: DashboardConfig['apiToken']): DashboardContext['apiToken'] => {
  if ('token' in source) return async () => source.token;
  let ssm: SSMClient | undefined;
  let current: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    ssm ??= new SSMClient({});
    const value = (await ssm.send(new GetParameterCommand({ Name: source.parameter, WithDecryption: true }))).Parameter?.Value;
    if (!value) throw new Error(`the dashboard's API token parameter ${source.parameter} is empty`);
    return value;
  };
  return (opts) => {
    if (opts?.fresh || !current) {
      current = read();
      current.catch(() => (current = undefined));
    }
    return current;
  };
};

// One per process, shared by every route bundle (Next may load this module more than once).
const KEY = Symbol.for('shiplog.dashboard.context');
type Holder = { [KEY]?: DashboardContext };

/** The context of this process, built on first use from `configFromEnv()`. */
export const context = (): DashboardContext => ((globalThis as Holder)[KEY] ??= createContext(configFromEnv()));
