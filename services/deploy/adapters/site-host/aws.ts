import {
  AddPermissionCommand, CreateAliasCommand, CreateFunctionCommand, CreateFunctionUrlConfigCommand, GetAliasCommand,
  GetFunctionConfigurationCommand, GetFunctionUrlConfigCommand, ListVersionsByFunctionCommand, PublishVersionCommand,
  UpdateAliasCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand,
  type AliasConfiguration, type Architecture, type FunctionConfiguration, type LambdaClient, type Runtime,
} from '@aws-sdk/client-lambda';
import { BatchWriteItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Published, SiteHost } from '../../ports.ts';
import { artifactSource, type ArtifactSource } from './aws-artifact.ts';
import { publicNamesOf, routingEntries, type RoutingWriter } from './aws-routing.ts';
import { ASSET_HEADERS_META, assetHeaderRules, assetHeadersMeta, type AssetHeaderRule } from './asset-headers.ts';
import { assetPrefixOf, type OpenNextOutput } from './open-next-output.ts';
import { awsErrorName as errorName } from '../../../shell/index.ts';
import {
  cacheControlFor, contentTypeFor, DeploymentNotPublishedError, SiteHostBusyError, siteFunctionName, siteImageFunctionName, siteKeys, translateHostError,
} from './aws-site.ts';

export {
  cacheControlFor, contentTypeFor, DeploymentNotPublishedError, SiteHostBusyError, SiteHostConfigError, siteFunctionName, siteKeys,
} from './aws-site.ts';

/**
 * Options of {@link awsSiteHost}. `site` is what a project's server function is created with
 * the first time (later deployments change only its code).
 *
 * @example
 * awsSiteHost({ lambda, s3, bucket: 'shiplog-sites', prefix: 'shiplog', domain: 'shiplog.example.com',
 *   site: { role: 'arn:aws:iam::123456789012:role/shiplog-site', environment: { CACHE_DYNAMO_TABLE: 'shiplog-site-tags' } } });
 */
export interface AwsSiteHostOptions {
  lambda: LambdaClient;
  s3: S3Client;
  /** Assets (`sites/`), ISR cache (`cache/`) and uploaded function code (`artifacts/`). */
  bucket: string;
  /** Function names are `<prefix>-site-<projectId>`. */
  prefix: string;
  /** The domain CloudFront answers on: `<deployment>-<project>.<domain>` and `<project>.<domain>`. */
  domain: string;
  site: {
    role: string;
    /**
     * The execution role of a project's functions (`site-roles.ts`: its own parameters, cache and
     * logs only); `role` when absent. A function made with another role gets this one at its next publish.
     */
    roleFor?: (projectId: string) => Promise<string>;
    runtime?: Runtime; memorySize?: number; timeoutSeconds?: number; architecture?: Architecture; environment?: Record<string, string>;
  };
  region?: string;
  sleep?: (ms: number) => Promise<void>;
  /** How long to wait for a function update to finish; default 5 minutes. */
  waitTimeoutMs?: number;
  /** Objects copied at once; default 16. */
  concurrency?: number;
  /**
   * The sites' CloudFront front: each published deployment gets its own alias (`d-<deployment>`)
   * with a Function URL that only the distribution may invoke, and its routing record; an alias
   * shift is then one routing write as well. Without it, aliases are Lambda aliases only.
   */
  edge?: { routing: RoutingWriter; distributionArn: string };
  /**
   * OpenNext's tag cache (`dynamodb-lite`): `publish` writes the tags the build found
   * (`dynamodb-provider/dynamodb-cache.json`), as OpenNext's initialization function would.
   */
  tagCache?: { dynamodb: DynamoDBClient; table: string };
}

/**
 * The entry a build adds to the server function (services/build: `runtime-env.ts`): it reads
 * the env var parameters its spec lists from SSM when the function starts.
 */
const RUNTIME_ENV = { spec: 'shiplog-env.json', handler: 'shiplog-env.handler' } as const;

/** The description of a published version and of an alias: the deployment they stand for. */
const describe = (deploymentId: string) => `shiplog:${deploymentId}`;
const deploymentOf = (description: string | undefined) => (description?.startsWith('shiplog:') ? description.slice('shiplog:'.length) : undefined);

/** The Lambda alias of one deployment, which its Function URL is on. */
export const deploymentAlias = (deploymentId: string) => `d-${deploymentId}`;

const inBatches = async <T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
};

/**
 * Deployments on AWS: every deployment is a published version of its project's server
 * function (described `shiplog:<deploymentId>`) plus its assets under
 * `sites/<project>/<deployment>/`; an alias of the project (`production`, `preview-…`) is a
 * Lambda alias, described with the deployment it serves.
 *
 * - `publish` copies assets (S3 → S3 from a CodeBuild artifact, or uploads from a local
 *   directory), seeds the ISR cache, updates the function's code (creating the function the
 *   first time, waiting out updates in progress) and publishes a version guarded by the code's
 *   `CodeSha256`, so a concurrent deployment's code is never published as this one. A
 *   `.published` marker makes it idempotent; a `.publishing` marker makes a retry look for the
 *   version an interrupted attempt published instead of publishing a second one.
 * - `shiftAlias` updates the alias conditionally on the `RevisionId` it read; when another
 *   writer moved it in between, it reads again and retries.
 * - `urls` are host-based behind CloudFront (`<deploymentId>-<project>.<domain>`): Lambda puts
 *   function URLs on aliases only, never on numbered versions, so a per-deployment URL needs a
 *   router that maps the host to `function:version` (the version is in the `.published` marker).
 *
 * @example
 * const host = awsSiteHost(opts);
 * const { functionVersion } = await host.publish({ projectId: 'web', deploymentId: d1, artifactDir: 's3://shiplog-artifacts/artifacts/web/d1/' });
 * await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
 */
export const awsSiteHost = (opts: AwsSiteHostOptions): SiteHost => {
  const { lambda, s3, bucket } = opts;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const waitTimeoutMs = opts.waitTimeoutMs ?? 300_000;
  const send = <T>(p: Promise<T>) => p.catch(translateHostError);

  const readJson = async <T>(key: string): Promise<T | undefined> => {
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null') as T;
    } catch (err) {
      if (errorName(err) === 'NoSuchKey') return undefined;
      return translateHostError(err);
    }
  };
  const exists = (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, (err: unknown) => (errorName(err) === 'NotFound' ? false : translateHostError(err)));
  const put = (key: string, body: string) => send(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));

  /** Waits until no update of the function is in progress and returns its `$LATEST` configuration. */
  const settle = async (fn: string): Promise<FunctionConfiguration> => {
    for (let waited = 0; ; waited += 1000) {
      const cfg = await send(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn })));
      if (cfg.State !== 'Pending' && cfg.LastUpdateStatus !== 'InProgress') return cfg;
      if (waited >= waitTimeoutMs) throw new SiteHostBusyError(`${fn} is still updating after ${waitTimeoutMs} ms`);
      await sleep(1000);
    }
  };

  const findVersion = async (fn: string, deploymentId: string): Promise<string | undefined> => {
    let Marker: string | undefined;
    do {
      const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: fn, Marker, MaxItems: 50 })).catch((err: unknown) =>
        errorName(err) === 'ResourceNotFoundException' ? undefined : translateHostError(err));
      const hit = page?.Versions?.find((v) => v.Version !== '$LATEST' && deploymentOf(v.Description) === deploymentId);
      if (hit) return hit.Version;
      Marker = page?.NextMarker;
    } while (Marker);
    return undefined;
  };

  /** What a function of a project is created with, beside its code: its handler, and its environment when not the server's. */
  interface FunctionShape { handler: string; environment?: Record<string, string>; description?: string }

  const roleOf = (projectId: string): Promise<string> => opts.site.roleFor?.(projectId) ?? Promise.resolve(opts.site.role);

  /** Lambda refuses a role IAM created moments ago ("cannot be assumed") for a few seconds: try again for up to a minute. */
  const whileRolePropagates = async <T>(call: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (attempt >= 30 || errorName(err) !== 'InvalidParameterValueException' || !/cannot be assumed/i.test((err as Error).message)) throw err;
        await sleep(2000);
      }
    }
  };

  const create = async (fn: string, projectId: string, code: { bucket: string; key: string }, shape: FunctionShape): Promise<string | undefined> => {
    const region = opts.region ?? (await s3.config.region());
    const role = await roleOf(projectId);
    try {
      const res = await whileRolePropagates(() => lambda.send(new CreateFunctionCommand({
        FunctionName: fn, Role: role, Runtime: opts.site.runtime ?? 'nodejs22.x', Handler: shape.handler,
        Code: { S3Bucket: code.bucket, S3Key: code.key }, Description: shape.description ?? `shiplog site ${projectId}`,
        MemorySize: opts.site.memorySize ?? 1024, Timeout: opts.site.timeoutSeconds ?? 30, Architectures: [opts.site.architecture ?? 'x86_64'],
        Environment: { Variables: shape.environment ?? { CACHE_BUCKET_NAME: bucket, CACHE_BUCKET_KEY_PREFIX: `cache/${projectId}`, CACHE_BUCKET_REGION: region, ...opts.site.environment } },
        // JSON records (level, request id) are what the observability service reads back.
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' },
        Tags: { 'shiplog:project': projectId },
      })));
      return res.CodeSha256;
    } catch (err) {
      // Created by a concurrent first deployment of the project: update it instead.
      if (errorName(err) === 'ResourceConflictException') return undefined;
      return translateHostError(err);
    }
  };

  const unlessConflict = (err: unknown) => (['ResourceConflictException', 'PreconditionFailedException'].includes(errorName(err)) ? undefined : translateHostError(err));

  const sameEnvironment = (have: Record<string, string> | undefined, want: Record<string, string>) =>
    Object.keys(want).length === Object.keys(have ?? {}).length && Object.entries(want).every(([k, v]) => have?.[k] === v);

  /**
   * Puts a deployment's code (and, for a function whose environment is per deployment, that
   * environment) on `$LATEST` and publishes it as a version guarded by its `CodeSha256`.
   */
  const publishVersion = async (fn: string, projectId: string, deploymentId: string, code: { bucket: string; key: string }, shape: FunctionShape): Promise<string> => {
    const { handler, environment } = shape;
    const role = await roleOf(projectId);
    for (let attempt = 1; attempt <= 6; attempt++) {
      let sha: string | undefined;
      try {
        sha = (await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, S3Bucket: code.bucket, S3Key: code.key }))).CodeSha256;
      } catch (err) {
        const name = errorName(err);
        if (name === 'ResourceNotFoundException') sha = await create(fn, projectId, code, shape);
        else if (name === 'ResourceConflictException') await settle(fn);
        else translateHostError(err);
        if (!sha) continue;
      }
      let cfg = await settle(fn);
      // Another deployment of the project replaced the code meanwhile: put ours back.
      if (cfg.CodeSha256 !== sha) continue;
      const envDiffers = environment !== undefined && !sameEnvironment(cfg.Environment?.Variables, environment);
      if (cfg.Handler !== handler || envDiffers || cfg.Role !== role) {
        // A function created before its builds carried the env entry (or by an older artifact),
        // one whose environment names its deployment (the image function's assets prefix), or
        // one made with the shared site role before its project had its own.
        const updated = await whileRolePropagates(() => lambda.send(new UpdateFunctionConfigurationCommand({
          FunctionName: fn, Handler: handler, Role: role, RevisionId: cfg.RevisionId, ...(environment ? { Environment: { Variables: environment } } : {}),
        }))).catch(unlessConflict);
        if (!updated) continue;
        cfg = await settle(fn);
        if (cfg.CodeSha256 !== sha || cfg.Handler !== handler || cfg.Role !== role || (environment !== undefined && !sameEnvironment(cfg.Environment?.Variables, environment))) continue;
      }
      if (cfg.LastUpdateStatus === 'Failed' || cfg.State === 'Failed') {
        throw new DeploymentNotPublishedError(`${fn} did not take the code of ${deploymentId}: ${cfg.LastUpdateStatusReason ?? cfg.StateReason ?? 'no reason given'}`);
      }
      try {
        const v = await lambda.send(new PublishVersionCommand({ FunctionName: fn, CodeSha256: sha, RevisionId: cfg.RevisionId, Description: describe(deploymentId) }));
        if (v.Version) return v.Version;
      } catch (err) {
        // The code or configuration changed between our update and the publish, or an update started.
        const name = errorName(err);
        const shaMismatch = name === 'InvalidParameterValueException' && /codesha256/i.test((err as Error).message);
        if (name !== 'PreconditionFailedException' && name !== 'ResourceConflictException' && !shaMismatch) translateHostError(err);
      }
    }
    throw new SiteHostBusyError(`could not publish ${deploymentId} on ${fn}: other deployments kept changing its code`);
  };

  const codeOf = async (source: ArtifactSource, output: OpenNextOutput, projectId: string, deploymentId: string) => {
    const origin = output.origins?.default;
    if (origin?.type !== 'function' || !origin.bundle) throw new DeploymentNotPublishedError(`${source.location}: the default origin is not a function`);
    const inBuild = await source.objectOf('server-function.zip');
    if (inBuild) return inBuild;
    const key = siteKeys.code(projectId, deploymentId);
    await send(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await source.zip(origin.bundle.replace(/^\.open-next\//, '')) })));
    return { bucket, key };
  };

  /**
   * The function's handler: the build's env entry when the artifact has it (it reads the
   * project's env vars from SSM, then loads OpenNext's handler), else OpenNext's own.
   */
  const handlerOf = async (source: ArtifactSource, output: OpenNextOutput): Promise<string> => {
    const origin = output.origins?.default;
    const dir = origin?.bundle?.replace(/^\.open-next\//, '');
    const wrapped = dir !== undefined && (await send(source.readText(`${dir}/${RUNTIME_ENV.spec}`))) !== undefined;
    return wrapped ? RUNTIME_ENV.handler : origin?.handler ?? 'index.handler';
  };

  const versionOf = async (projectId: string, deploymentId: string): Promise<string | undefined> =>
    (await readJson<Published>(siteKeys.published(projectId, deploymentId)))?.functionVersion ??
    (await findVersion(siteFunctionName(opts.prefix, projectId), deploymentId));

  const getAlias = (fn: string, alias: string): Promise<AliasConfiguration | undefined> =>
    lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias })).catch((err: unknown) =>
      errorName(err) === 'ResourceNotFoundException' ? undefined : translateHostError(err));


  /** The Function URL of one alias, created (IAM-only: CloudFront signs with its OAC) when missing. */
  const urlOf = async (fn: string, Qualifier: string, streaming: boolean): Promise<string> => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const url = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: fn, Qualifier }));
        if (url.FunctionUrl) return url.FunctionUrl;
      } catch (err) {
        if (errorName(err) !== 'ResourceNotFoundException') translateHostError(err);
      }
      const made = await lambda.send(new CreateFunctionUrlConfigCommand({
        FunctionName: fn, Qualifier, AuthType: 'AWS_IAM', InvokeMode: streaming ? 'RESPONSE_STREAM' : 'BUFFERED',
      })).catch(unlessConflict);
      if (made?.FunctionUrl) return made.FunctionUrl;
    }
    throw new SiteHostBusyError(`${fn}:${Qualifier} has no Function URL after creating one`);
  };

  /**
   * Puts one published deployment behind the sites distribution: its own alias and Function URL
   * (invocable by that distribution only), then its routing record. Every step is idempotent.
   */
  const expose = async (
    edge: NonNullable<AwsSiteHostOptions['edge']>,
    fn: string,
    d: { projectId: string; deploymentId: string; version: string; streaming: boolean; basePath: string; publicNames: string[]; image?: { fn: string; version: string } | undefined },
  ) => {
    const Name = deploymentAlias(d.deploymentId);
    const Description = describe(d.deploymentId);
    /** The deployment's alias on one function, its Function URL and the distribution's permission; the URL's host. */
    const behindEdge = async (functionName: string, version: string, streaming: boolean): Promise<string> => {
      const current = await getAlias(functionName, Name);
      if (!current) await lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name, FunctionVersion: version, Description })).catch(unlessConflict);
      else if (current.FunctionVersion !== version) await send(lambda.send(new UpdateAliasCommand({ FunctionName: functionName, Name, FunctionVersion: version, Description })));
      const url = await urlOf(functionName, Name, streaming);
      await lambda.send(new AddPermissionCommand({
        FunctionName: functionName, Qualifier: Name, StatementId: 'shiplog-sites-distribution', Action: 'lambda:InvokeFunctionUrl',
        Principal: 'cloudfront.amazonaws.com', SourceArn: edge.distributionArn, FunctionUrlAuthType: 'AWS_IAM',
      })).catch(unlessConflict);
      return new URL(url).host;
    };
    const serverHost = await behindEdge(fn, d.version, d.streaming);
    const imageHost = d.image ? await behindEdge(d.image.fn, d.image.version, false) : undefined;
    await edge.routing.put([routingEntries.deployment({
      deploymentId: d.deploymentId, projectId: d.projectId, serverHost, ...(imageHost ? { imageHost } : {}), basePath: d.basePath, publicNames: d.publicNames,
    })]);
  };

  /**
   * The deployment's version of the project's image function, when the build made one (older
   * artifacts have none: `/_next/image` then goes to the server). Its environment names the
   * deployment's assets, so each version reads its own (`BUCKET_KEY_PREFIX`).
   */
  const publishImage = async (source: ArtifactSource, output: OpenNextOutput, projectId: string, deploymentId: string) => {
    const origin = output.origins?.imageOptimizer;
    if (origin?.type !== 'function') return undefined;
    // The buildspec's `ArtifactFile.imageZip` (services/build/adapters/scheduler/buildspec.ts).
    const code = await send(source.objectOf('image-function.zip'));
    if (!code) return undefined;
    const fn = siteImageFunctionName(opts.prefix, projectId);
    const region = opts.region ?? (await s3.config.region());
    const found = await findVersion(fn, deploymentId);
    const version = found ?? (await publishVersion(fn, projectId, deploymentId, code, {
      handler: origin.handler ?? 'index.handler',
      description: `shiplog images ${projectId}`,
      environment: { BUCKET_NAME: bucket, BUCKET_KEY_PREFIX: `sites/${projectId}/${deploymentId}`, BUCKET_REGION: region },
    }));
    return { fn, version };
  };

  /** The build's tag cache entries (already keyed by build id), 25 per BatchWriteItem, unprocessed ones again. */
  const seedTags = async (tagCache: NonNullable<AwsSiteHostOptions['tagCache']>, items: Record<string, AttributeValue>[]) => {
    for (let i = 0; i < items.length; i += 25) {
      let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > 8) throw new SiteHostBusyError(`the tag cache ${tagCache.table} kept ${pending.length} items unprocessed`);
        const res = await tagCache.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tagCache.table]: pending } })).catch(translateHostError);
        pending = (res.UnprocessedItems?.[tagCache.table] ?? []).flatMap((r) => (r.PutRequest ? [{ PutRequest: { Item: r.PutRequest.Item! } }] : []));
        if (pending.length > 0) await sleep(100 * 2 ** attempt);
      }
    }
  };

  /**
   * The `headers()` rules of the build, from the `routes-manifest.json` in its default server
   * function (under the app's package path in a monorepo); none when there is none.
   */
  const assetHeaderRulesOf = async (source: ArtifactSource, output: OpenNextOutput): Promise<AssetHeaderRule[]> => {
    const bundle = output.origins?.default?.bundle?.replace(/^\.open-next\//, '').replace(/\/+$/, '');
    if (!bundle) return [];
    let text = await send(source.readText(`${bundle}/.next/routes-manifest.json`));
    if (text === undefined) {
      const found = (await send(source.list(bundle)))
        .filter((p) => p.endsWith('/.next/routes-manifest.json') && !p.includes('/node_modules/'))
        .sort((a, b) => a.split('/').length - b.split('/').length)[0];
      text = found ? await send(source.readText(found)) : undefined;
    }
    return text ? assetHeaderRules(text) : [];
  };

  /**
   * What ISR on AWS needs of a deployment: the preview id its revalidation sends (from the
   * prerender manifest OpenNext copies for its revalidation function) and its build's tags.
   */
  const prepareIsr = async (source: ArtifactSource, projectId: string, deploymentId: string) => {
    const manifest = await send(source.readText('revalidation-function/prerender-manifest.json'));
    const previewModeId = manifest ? (JSON.parse(manifest) as { preview?: { previewModeId?: unknown } }).preview?.previewModeId : undefined;
    if (typeof previewModeId === 'string') await put(siteKeys.revalidation(projectId, deploymentId), JSON.stringify({ previewModeId }));
    if (!opts.tagCache) return;
    const tags = await send(source.readText('dynamodb-provider/dynamodb-cache.json'));
    if (tags) await seedTags(opts.tagCache, JSON.parse(tags) as Record<string, AttributeValue>[]);
  };

  return {
    async publish({ projectId, deploymentId, artifactDir }) {
      const done = await readJson<Published>(siteKeys.published(projectId, deploymentId));
      if (done) return { assets: done.assets, functionVersion: done.functionVersion };
      const source = artifactSource(artifactDir, s3);
      const output = JSON.parse((await send(source.readText('open-next.output.json'))) ?? 'null') as OpenNextOutput | null;
      if (!output) throw new DeploymentNotPublishedError(`${source.location} is not an OpenNext output (no open-next.output.json)`);
      // 1. the assets, with their headers, and the prerendered ISR cache
      const assets = await send(source.list('assets'));
      // An app with a basePath has its assets requested under it (`/docs/_next/static/…`).
      const basePath = assetPrefixOf(output);
      // The app's headers() for each file, which CloudFront's viewer-response function applies (asset-headers.ts).
      const headerRules = await assetHeaderRulesOf(source, output);
      let headersTooLarge = 0;
      await inBatches(assets, opts.concurrency ?? 16, (path) => {
        const rel = path.slice('assets/'.length);
        const served = `${basePath.slice(1)}${basePath ? '/' : ''}${rel}`;
        const meta = headerRules.length > 0 ? assetHeadersMeta(headerRules, `/${served}`) : undefined;
        if (meta === 'too-large') headersTooLarge++;
        const metadata = meta && meta !== 'too-large' ? { [ASSET_HEADERS_META]: meta } : undefined;
        const key = siteKeys.asset(projectId, deploymentId, served);
        return send(source.copyTo(path, { bucket, key, cacheControl: cacheControlFor(rel), contentType: contentTypeFor(rel), ...(metadata ? { metadata } : {}) }));
      });
      const cache = await send(source.list('cache'));
      await inBatches(cache, opts.concurrency ?? 16, (path) => send(source.copyTo(path, { bucket, key: siteKeys.cache(projectId, path.slice('cache/'.length)) })));
      await prepareIsr(source, projectId, deploymentId);
      // 2. one version of the server function, found again if an earlier attempt published it
      const fn = siteFunctionName(opts.prefix, projectId);
      const code = await codeOf(source, output, projectId, deploymentId);
      let version = (await exists(siteKeys.publishing(projectId, deploymentId))) ? await findVersion(fn, deploymentId) : undefined;
      if (!version) {
        await put(siteKeys.publishing(projectId, deploymentId), '');
        version = await publishVersion(fn, projectId, deploymentId, code, { handler: await handlerOf(source, output) });
      }
      // 3. the image function and, when there is a sites distribution, both behind it
      if (opts.edge) {
        const image = await publishImage(source, output, projectId, deploymentId);
        const publicNames = publicNamesOf(assets.map((path) => path.slice('assets/'.length)));
        await expose(opts.edge, fn, { projectId, deploymentId, version, streaming: output.origins?.default?.streaming === true, basePath, publicNames, image });
      }
      // 4. the marker, last
      const published: Published = { assets: assets.length, functionVersion: version };
      // Files whose matching headers() rules did not fit S3's metadata are served without them; the marker counts them.
      await put(siteKeys.published(projectId, deploymentId), JSON.stringify({ ...published, deploymentId, functionName: fn, ...(headersTooLarge ? { headersTooLarge } : {}) }));
      return published;
    },

    async shiftAlias({ projectId, alias, deploymentId }) {
      const fn = siteFunctionName(opts.prefix, projectId);
      const version = await versionOf(projectId, deploymentId);
      if (!version) throw new DeploymentNotPublishedError(`cannot point ${projectId}/${alias} at ${deploymentId}: it is not published`);
      const Description = describe(deploymentId);
      const moveLambdaAlias = async (): Promise<boolean> => {
        for (let attempt = 1; attempt <= 8; attempt++) {
          const current = await getAlias(fn, alias);
          if (current?.FunctionVersion === version && current.Description === Description) return true;
          try {
            if (current) await lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: version, Description, RevisionId: current.RevisionId }));
            else await lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: version, Description }));
            return true;
          } catch (err) {
            // Another writer created or moved the alias after we read it: read it again.
            if (!['PreconditionFailedException', 'ResourceConflictException'].includes(errorName(err))) translateHostError(err);
          }
        }
        return false;
      };
      if (!(await moveLambdaAlias())) throw new SiteHostBusyError(`${fn}:${alias} kept changing while pointing it at ${deploymentId}`);
      // What the edge serves: one key, written also when a retry finds the Lambda alias already moved.
      if (opts.edge) await opts.edge.routing.put([routingEntries.alias(projectId, alias, deploymentId)]);
    },

    async aliasTarget(projectId, alias) {
      const fn = siteFunctionName(opts.prefix, projectId);
      const current = await getAlias(fn, alias);
      if (!current?.FunctionVersion) return undefined;
      const own = deploymentOf(current.Description);
      if (own) return own;
      // An alias moved by hand: the version's description still names its deployment.
      const version = await send(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn, Qualifier: current.FunctionVersion })));
      return deploymentOf(version.Description);
    },

    ...(opts.edge ? {
      routeMounts: async (projectId: string, mounts: readonly { prefix: string; project: string }[]) => {
        const routing = opts.edge!.routing;
        const entry = routingEntries.mounts(projectId, mounts.map((m) => ({ prefix: m.prefix, projectId: m.project })));
        await (mounts.length > 0 ? routing.put([entry]) : routing.remove([entry.key]));
      },
    } : {}),

    urls: ({ projectId, deploymentId }) => ({
      deployment: `https://${deploymentId.toLowerCase()}-${projectId}.${opts.domain}`,
      production: `https://${projectId}.${opts.domain}`,
    }),
  };
};
