import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoEventStore, type EventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import { readModels, type ReadModels } from '../../../projections/queries.ts';
import { dynamoViewStore } from '../../../projections/store/dynamo-view-store.ts';
import type { ViewStore } from '../../../projections/store/ports.ts';
import { localUrls, type Urls } from '../../../projections/urls.ts';

/**
 * What the dashboard's server side reads: the read models, the view store (for the few
 * questions `readModels` does not answer yet) and the event store (explorer, time travel).
 * Built once per process from the environment; the dashboard's only composition root.
 */
export interface DashboardContext {
  models: ReadModels;
  views: ViewStore;
  store: EventStore;
  urls: Urls;
  apiUrl: string;
}

const required = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`the dashboard needs ${name} (set by shiplog dev, or by infra/aws/dashboard.ts)`);
  return v;
};

// `{project}` and `{deployment}` (lower-cased, as hostnames are) in URL templates.
const templateUrls = (production: string, deployment: string): Urls => ({
  production: (projectId) => production.replaceAll('{project}', projectId),
  deployment: (projectId, deploymentId) => deployment.replaceAll('{project}', projectId).replaceAll('{deployment}', deploymentId.toLowerCase()),
});

const urlsFromEnv = (): Urls => {
  const sitesPort = Number(process.env.SHIPLOG_DASHBOARD_SITES_PORT);
  if (Number.isInteger(sitesPort) && sitesPort > 0) return localUrls(sitesPort);
  return templateUrls(required('SHIPLOG_DASHBOARD_PRODUCTION_URL'), required('SHIPLOG_DASHBOARD_DEPLOYMENT_URL'));
};

const build = (): DashboardContext => {
  const endpoint = process.env.SHIPLOG_DASHBOARD_DYNAMO_ENDPOINT;
  // DynamoDB Local takes any credentials; on AWS the function's role supplies them.
  const client = endpoint
    ? new DynamoDBClient({ endpoint, region: process.env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
    : new DynamoDBClient({});
  const views = dynamoViewStore({ client, tableName: required('SHIPLOG_DASHBOARD_VIEWS_TABLE') });
  const store = dynamoEventStore({ client, tableName: required('SHIPLOG_DASHBOARD_EVENTS_TABLE'), types: eventTypes });
  const urls = urlsFromEnv();
  return { models: readModels({ views, urls }), views, store, urls, apiUrl: required('SHIPLOG_DASHBOARD_API_URL').replace(/\/+$/, '') };
};

// One per process, shared by every route bundle (Next may load this module more than once).
const KEY = Symbol.for('shiplog.dashboard.context');
type Holder = { [KEY]?: DashboardContext };

export const context = (): DashboardContext => ((globalThis as Holder)[KEY] ??= build());
