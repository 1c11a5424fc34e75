import {
  DescribeKeyValueStoreCommand, UpdateKeysCommand, type DescribeKeyValueStoreCommandOutput, type UpdateKeysCommandOutput,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
import { awsErrorName, awsErrorTranslator } from '../../../shell/index.ts';
import { SiteHostBusyError, SiteHostConfigError } from './aws-site.ts';

/**
 * The sites' routing state on AWS: the keys of the CloudFront KeyValueStore that the viewer-request
 * function (`infra/aws/edge/site-router.ts`) reads on every request, written by the deploy service.
 * A rollback or promote is one {@link routingEntries.alias} write. Keys hold at most 512
 * characters and values 1,024 (CloudFront's limits); the builders refuse anything longer
 * rather than have the store refuse it mid-deploy.
 *
 * @example
 * routingEntries.alias('web', 'production', '01JD2Z8J6X3Q4R5S6T7V8W9XYZ');
 * // { key: 'a:web:production', value: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ' }
 */
export interface RoutingEntry {
  key: string;
  value: string;
}

/** CloudFront KeyValueStore's limits on one key and one value, in characters. */
export const ROUTING_KEY_MAX = 512;
export const ROUTING_VALUE_MAX = 1024;

/**
 * What the edge function needs of one deployment: its project, the hosts of its server and image
 * functions' URLs, its `basePath`, and the top-level names of its public files (served from S3).
 *
 * @example
 * const d: EdgeDeployment = { deploymentId: '01JD…', projectId: 'web', serverHost: 'abc.lambda-url.eu-west-1.on.aws', publicNames: ['favicon.ico'] };
 */
export interface EdgeDeployment {
  deploymentId: string;
  projectId: string;
  serverHost: string;
  imageHost?: string;
  basePath?: string;
  publicNames: readonly string[];
}

const entry = (key: string, value: string): RoutingEntry => {
  if (key.length > ROUTING_KEY_MAX) throw new RangeError(`routing key ${key.slice(0, 40)}… is longer than ${ROUTING_KEY_MAX} characters`);
  if (value.length > ROUTING_VALUE_MAX) throw new RangeError(`routing value of ${key} is longer than ${ROUTING_VALUE_MAX} characters`);
  return { key, value };
};

export const routingEntries = {
  /** The deployment an alias (`production`, `preview-<branch>`) of a project serves. */
  alias: (projectId: string, alias: string, deploymentId: string): RoutingEntry => entry(`a:${projectId}:${alias}`, deploymentId),
  /**
   * One deployment's origins. Public names that do not fit the value are left out (`F: 1`):
   * requests for them reach the server function, which answers 404.
   */
  deployment: (d: EdgeDeployment): RoutingEntry => {
    const base = { id: d.deploymentId, p: d.projectId, s: d.serverHost, ...(d.imageHost ? { i: d.imageHost } : {}), ...(d.basePath ? { b: d.basePath } : {}) };
    const names = [...d.publicNames];
    let value = JSON.stringify({ ...base, f: names });
    while (value.length > ROUTING_VALUE_MAX && names.length > 0) {
      names.pop();
      value = JSON.stringify({ ...base, f: names, F: 1 });
    }
    return entry(`d:${d.deploymentId.toLowerCase()}`, value);
  },
  /** The key of a custom domain's entry. */
  domainKey: (host: string): string => `h:${host.toLowerCase()}`,
  /** A custom domain: served as one alias of its project (`production` unless said), or redirected to another host. */
  domain: (host: string, target: { projectId: string; alias?: string } | { redirectTo: string }): RoutingEntry =>
    entry(routingEntries.domainKey(host), JSON.stringify('redirectTo' in target
      ? { r: target.redirectTo.toLowerCase() }
      : { p: target.projectId, ...(target.alias && target.alias !== 'production' ? { a: target.alias } : {}) })),
  /** A host project's path mounts (`/docs` → the `docs` project's production). */
  mounts: (projectId: string, mounts: readonly { prefix: string; projectId: string }[]): RoutingEntry =>
    entry(`m:${projectId}`, JSON.stringify(mounts.map((m) => [m.prefix, m.projectId]))),
};

/**
 * The top-level names under a deployment's asset paths that are public files (not `_next/`),
 * as the edge function matches them: `favicon.ico`, `images` for `images/a.png`.
 *
 * @example
 * publicNamesOf(['_next/static/a.js', 'favicon.ico', 'images/a.png'], ''); // ['favicon.ico', 'images']
 * publicNamesOf(['docs/_next/static/a.js', 'docs/logo.svg'], '/docs'); // ['logo.svg']
 */
export const publicNamesOf = (assetPaths: Iterable<string>, basePath = ''): string[] => {
  const base = basePath.replace(/^\//, '');
  const names = new Set<string>();
  for (const path of assetPaths) {
    const rest = base ? (path.startsWith(`${base}/`) ? path.slice(base.length + 1) : undefined) : path;
    const first = rest?.split('/')[0];
    if (first && first !== '_next') names.add(first);
  }
  return [...names].sort();
};

/**
 * Writes routing entries. On AWS, {@link keyValueStoreRouting}; every write is a whole batch
 * (CloudFront applies one `UpdateKeys` atomically), so a deployment's record and the alias that
 * starts serving it can land together.
 *
 * @example
 * await routing.put([routingEntries.alias('web', 'production', d2)]);
 */
export interface RoutingWriter {
  put(entries: readonly RoutingEntry[]): Promise<void>;
  /** Removes keys; a key that is not there is no error. */
  remove(keys: readonly string[]): Promise<void>;
}

/** The parts of the CloudFront KeyValueStore client {@link keyValueStoreRouting} calls. */
export interface KeyValueStoreApi {
  send(command: DescribeKeyValueStoreCommand): Promise<DescribeKeyValueStoreCommandOutput>;
  send(command: UpdateKeysCommand): Promise<UpdateKeysCommandOutput>;
}

/**
 * Routing entries in a CloudFront KeyValueStore: `UpdateKeys` with the store's current ETag as
 * `IfMatch`; when another writer changed the store in between (a 409), it reads the ETag again
 * and retries, so concurrent deploys of different projects never lose each other's keys.
 * The client must sign with SigV4a (import `@aws-sdk/signature-v4a` where it is constructed).
 *
 * @example
 * const routing = keyValueStoreRouting(new CloudFrontKeyValueStoreClient({}), process.env.SHIPLOG_SITES_KVS_ARN!);
 * await routing.put([routingEntries.alias('web', 'production', d1)]);
 */
export const keyValueStoreRouting = (client: KeyValueStoreApi, kvsArn: string, attempts = 8): RoutingWriter => {
  const update = async (change: { Puts?: { Key: string; Value: string }[]; Deletes?: { Key: string }[] }) => {
    for (let attempt = 1; ; attempt++) {
      const { ETag } = await client.send(new DescribeKeyValueStoreCommand({ KvsARN: kvsArn })).catch(translateRoutingError);
      try {
        await client.send(new UpdateKeysCommand({ KvsARN: kvsArn, IfMatch: ETag, ...change }));
        return;
      } catch (err) {
        if (awsErrorName(err) !== 'ConflictException' || attempt >= attempts) return translateRoutingError(err);
      }
    }
  };
  return {
    put: async (entries) => (entries.length === 0 ? undefined : update({ Puts: entries.map((e) => ({ Key: e.key, Value: e.value })) })),
    remove: async (keys) => (keys.length === 0 ? undefined : update({ Deletes: keys.map((Key) => ({ Key })) })),
  };
};

const translateRoutingError = awsErrorTranslator({
  prefix: 'sites routing: ',
  busy: ['ConflictException', 'InternalServerException', 'ThrottlingException'],
  misconfigured: ['AccessDeniedException', 'ResourceNotFoundException', 'ValidationException', 'ServiceQuotaExceededException'],
  Busy: SiteHostBusyError,
  Config: SiteHostConfigError,
});
