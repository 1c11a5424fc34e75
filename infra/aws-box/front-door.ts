import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetAliasCommand, GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Alias, ProjectId } from '../../events/index.ts';
import { awsErrorName } from '../../services/shell/index.ts';
import { siteFunctionName, siteKeys } from '../../services/deploy/adapters/site-host/aws-site.ts';
import { EventBodyTooLargeError, maxEventBodyBytes, readEventBody, toApiGatewayV2Event, toNodeHeaders, writeApiGatewayV2Result } from '../local/sites/apigw.ts';
import { FunctionInvocationError, type Invocation } from '../local/sites/function-pool.ts';
import { parseSiteHost } from '../local/sites/host.ts';
import { malformedSiteRequest } from '../local/sites/request-checks.ts';
import { viewerRequest, type ViewerRequestEvent, type ViewerRequestOutcome, type ViewerResponse } from './cloudfront-function.ts';
import type { FunctionUrl } from './function-urls.ts';

/**
 * Options of {@link frontDoor}. `invoke` runs one numbered version of a site function (the
 * box's Lambda stand-in); it rejects when the function fails, with a `FunctionInvocationError`
 * whose status is answered (504 for a timeout), any other error being a 502.
 *
 * @example
 * frontDoor({ lambda, s3, prefix: 'shiplog', sitesBucket: 'shiplog-sites', siteDomain: 'sites.localhost',
 *   invoke: (fn, event) => lambdaStandIn.invoke(fn, event), log: console.error });
 */
export interface FrontDoorOptions {
  lambda: LambdaClient;
  s3: S3Client;
  prefix: string;
  sitesBucket: string;
  siteDomain: string;
  invoke: (fn: { functionName: string; qualifier: string }, event: unknown) => Promise<Invocation>;
  log?: (line: string) => void;
  /** How long an alias lookup is reused; 1000 ms by default, 0 to look it up on every request. */
  aliasCacheMs?: number;
  /**
   * The stack's CloudFront front: every request first runs the declared viewer-request function
   * (`run`, its code on the box's KeyValueStore), then goes to the origin it chose, an S3 prefix
   * of the sites bucket or a Function URL (`urls` says which alias it invokes). Without it, the
   * front door finds deployments from Lambda aliases and markers itself.
   */
  edge?: {
    run: (event: ViewerRequestEvent) => Promise<ViewerRequestOutcome>;
    urls: (host: string) => FunctionUrl | undefined;
    /** Whether an enabled distribution tenant carries the host; CloudFront answers no other host. */
    servesHost?: (host: string) => boolean;
  };
}

/**
 * What a `Host` names: an alias of a project (`web.<domain>` is `production`,
 * `preview-login--web.<domain>` is `preview-login`), or one deployment (`<ulid>-web.<domain>`).
 *
 * @example
 * const a: FrontDoorAddress = { kind: 'alias', projectId: 'web', alias: 'preview-login' };
 */
export type FrontDoorAddress = { kind: 'alias'; projectId: string; alias: string } | { kind: 'deployment'; projectId: string; deploymentId: string };

/**
 * Parses a `Host` header under `domain` (port ignored) like the local router does, plus preview
 * aliases as `<alias>--<project>`: preview aliases never hold `--` (`aliasFor` collapses runs of
 * hyphens), so the first `--` splits the label. A project whose id holds `--` is then reachable
 * only on its deployment hosts.
 *
 * @example
 * parseFrontDoorHost('preview-login--web.sites.localhost:8080', 'sites.localhost');
 * // { kind: 'alias', projectId: 'web', alias: 'preview-login' }
 */
export const parseFrontDoorHost = (host: string | undefined, domain: string): FrontDoorAddress | undefined => {
  const parsed = parseSiteHost(host, domain);
  if (parsed?.kind !== 'alias') return parsed;
  const at = parsed.projectId.indexOf('--');
  if (at < 0) return parsed;
  const [alias, projectId] = [parsed.projectId.slice(0, at), parsed.projectId.slice(at + 2)];
  return Alias.safeParse(alias).success && ProjectId.safeParse(projectId).success ? { kind: 'alias', projectId, alias } : undefined;
};

/** One published deployment, as the front door serves it. */
interface Site {
  deploymentId: string;
  functionName: string;
  version: string;
  /** Paths (no leading slash) of its assets in the sites bucket. */
  assets: ReadonlySet<string>;
}
type Found = Site | { missing: string };
interface Marker {
  functionVersion?: string;
  functionName?: string;
  deploymentId?: string;
}


const reply = (res: ServerResponse, status: number, text: string, extra: OutgoingHttpHeaders = {}) => {
  if (res.headersSent) return void res.destroy();
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
};

const isMissing = (err: unknown) => ['ResourceNotFoundException', 'NoSuchKey', 'NotFound'].includes(awsErrorName(err));
const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

/** Caches a lookup's promise by key; a lookup that fails or finds nothing is asked again next time. */
const memo = <T>(lookup: (key: string) => Promise<T | undefined>) => {
  const known = new Map<string, Promise<T | undefined>>();
  return (key: string): Promise<T | undefined> => {
    let hit = known.get(key);
    if (!hit) {
      known.set(key, (hit = lookup(key)));
      const mine = hit;
      const forget = () => known.get(key) === mine && known.delete(key);
      hit.then((v) => v === undefined && forget(), forget);
    }
    return hit;
  };
};

/**
 * The box's stand-in for CloudFront + Lambda function URLs: serves each site from the routing
 * state the AWS site host leaves in moto. A request resolves its deployment once
 * (`GetAlias`, reused for `aliasCacheMs`, then the version's `shiplog:<deployment>` description
 * and that deployment's `.published` marker, both kept: they never change), then serves the
 * deployment's assets from the sites bucket with their stored `Content-Type` and `Cache-Control`
 * (a missing `_next/static/*` file is a 404, as from CloudFront's S3 behaviour), and sends
 * everything else to the version's function as an API Gateway v2 event, the result or stream
 * written back. Unknown hosts and projects, and aliases never shifted, are 404s; a failed
 * invocation a 502 (504 on timeout), like CloudFront's.
 *
 * @example
 * const door = frontDoor({ lambda, s3, prefix: 'shiplog', sitesBucket: 'shiplog-sites', siteDomain: 'sites.localhost', invoke });
 * createServer(door.handle).listen(8080); // curl -H 'host: web.sites.localhost' http://127.0.0.1:8080/
 */
export const frontDoor = (opts: FrontDoorOptions): { handle(req: IncomingMessage, res: ServerResponse): void } => {
  const { lambda, s3, sitesBucket: Bucket } = opts;
  const aliasCacheMs = opts.aliasCacheMs ?? 1000;

  const listKeys = async (Prefix: string): Promise<string[]> => {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(Prefix.length));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys;
  };

  // `<project>/<deployment id>` → the deployment, once its marker exists (it is written last).
  const siteOf = memo(async (key): Promise<Site | undefined> => {
    const [projectId, deploymentId] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const res = await s3.send(new GetObjectCommand({ Bucket, Key: siteKeys.published(projectId, deploymentId) })).catch((err: unknown) => {
      if (isMissing(err)) return undefined;
      throw err;
    });
    if (!res) return undefined;
    const marker = JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null') as Marker | null;
    if (!marker?.functionVersion) return undefined;
    const assets = new Set(await listKeys(siteKeys.asset(projectId, deploymentId, '')));
    return { deploymentId, functionName: marker.functionName ?? siteFunctionName(opts.prefix, projectId), version: marker.functionVersion, assets };
  });

  // Host names are lowercase; markers keep the deployment id's own case.
  const deploymentIdOf = memo(async (key): Promise<string | undefined> => {
    const [projectId, lower] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const names = await listKeys(siteKeys.published(projectId, '').slice(0, -'.json'.length));
    return names.map((n) => n.replace(/\.json$/, '')).find((id) => id.toLowerCase() === lower);
  });

  // `<function>:<version>` → the deployment that version was published for.
  const deploymentOfVersion = memo(async (key): Promise<string | undefined> => {
    const at = key.lastIndexOf(':');
    const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: key.slice(0, at), Qualifier: key.slice(at + 1) }));
    return cfg.Description?.startsWith('shiplog:') ? cfg.Description.slice('shiplog:'.length) : undefined;
  });

  const aliases = new Map<string, { at: number; version: Promise<string | { missing: string }> }>();
  const aliasVersion = (fn: string, projectId: string, alias: string): Promise<string | { missing: string }> => {
    const key = `${fn}:${alias}`;
    const cached = aliases.get(key);
    if (cached && Date.now() - cached.at < aliasCacheMs) return cached.version;
    const version = (async () => {
      try {
        const a = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias }));
        if (a.FunctionVersion) return a.FunctionVersion;
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
      const exists = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn })).then(() => true, (err: unknown) => {
        if (isMissing(err)) return false;
        throw err;
      });
      if (!exists) return { missing: `No site "${projectId}".` };
      return { missing: alias === 'production' ? `Project "${projectId}" has no production deployment.` : `Project "${projectId}" has no alias "${alias}".` };
    })();
    aliases.set(key, { at: Date.now(), version });
    version.catch(() => aliases.get(key)?.version === version && aliases.delete(key));
    return version;
  };

  const locate = async (address: FrontDoorAddress): Promise<Found> => {
    const { projectId } = address;
    if (address.kind === 'deployment') {
      const deploymentId = await deploymentIdOf(`${projectId}/${address.deploymentId}`);
      const site = deploymentId && (await siteOf(`${projectId}/${deploymentId}`));
      return site || { missing: `Project "${projectId}" has no deployment "${address.deploymentId}".` };
    }
    const fn = siteFunctionName(opts.prefix, projectId);
    const version = await aliasVersion(fn, projectId, address.alias);
    if (typeof version !== 'string') return version;
    const deploymentId = await deploymentOfVersion(`${fn}:${version}`);
    const site = deploymentId && (await siteOf(`${projectId}/${deploymentId}`));
    // The alias points at the version itself, whatever the marker says.
    return site ? { ...site, functionName: fn, version } : { missing: `Version ${version} of "${projectId}" is not a published deployment.` };
  };

  const serveAsset = async (req: IncomingMessage, res: ServerResponse, Key: string, extra: OutgoingHttpHeaders) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'Assets answer GET and HEAD only.', { allow: 'GET, HEAD', ...extra });
    const h = req.headers;
    const input = { Bucket, Key, IfNoneMatch: h['if-none-match'], IfModifiedSince: h['if-modified-since'] ? new Date(h['if-modified-since']) : undefined };
    let out;
    try {
      out = req.method === 'HEAD' ? await s3.send(new HeadObjectCommand(input)) : await s3.send(new GetObjectCommand({ ...input, Range: h.range }));
    } catch (err) {
      const status = statusOf(err);
      if (status === 304) return void res.writeHead(304, { etag: h['if-none-match'], ...extra }).end();
      if (status === 416) return reply(res, 416, 'Range not satisfiable.', extra);
      if (isMissing(err) || status === 404) return reply(res, 404, `No file at ${req.url?.split('?')[0]}.`, extra);
      throw err;
    }
    const headers: OutgoingHttpHeaders = {
      'content-type': out.ContentType ?? 'application/octet-stream', 'accept-ranges': 'bytes', ...extra,
      ...(out.CacheControl ? { 'cache-control': out.CacheControl } : {}), ...(out.ETag ? { etag: out.ETag } : {}),
      ...(out.LastModified ? { 'last-modified': out.LastModified.toUTCString() } : {}),
      ...(out.ContentLength !== undefined ? { 'content-length': out.ContentLength } : {}),
      ...('ContentRange' in out && out.ContentRange ? { 'content-range': out.ContentRange } : {}),
    };
    res.writeHead('ContentRange' in out && out.ContentRange ? 206 : 200, headers);
    if (!('Body' in out) || !out.Body) return void res.end();
    await pipeline(out.Body as Readable, res).catch(() => res.destroy());
  };

  const invokeSite = async (req: IncomingMessage, res: ServerResponse, name: string, site: Site, extra: OutgoingHttpHeaders) => {
    let body: Buffer;
    try {
      body = await readEventBody(req);
    } catch (err) {
      if (err instanceof EventBodyTooLargeError) return reply(res, 413, `Request bodies are limited to ${maxEventBodyBytes} bytes.`, extra);
      throw err;
    }
    const event = toApiGatewayV2Event(req, body, { requestId: randomUUID(), now: new Date() });
    let inv: Invocation;
    try {
      inv = await opts.invoke({ functionName: site.functionName, qualifier: site.version }, event);
    } catch (err) {
      const status = err instanceof FunctionInvocationError ? err.status : awsErrorName(err) === 'TimeoutError' ? 504 : 502;
      opts.log?.(`front door: ${name} (${site.functionName}:${site.version}) failed with ${status}: ${err instanceof Error ? err.message : String(err)}`);
      return reply(res, status, status === 504 ? 'The site function timed out.' : 'The site function failed.', extra);
    }
    if (inv.kind === 'result') return writeApiGatewayV2Result(res, inv.result, { head: req.method === 'HEAD', extraHeaders: extra });
    res.writeHead(inv.head.statusCode, { ...toNodeHeaders(inv.head), ...extra });
    await pipeline(inv.body, res).catch(() => res.destroy());
  };

  const answer = (res: ServerResponse, out: ViewerResponse) => {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, h] of Object.entries(out.headers ?? {})) headers[name] = h.value;
    const body = out.body === undefined ? '' : typeof out.body === 'string' ? out.body : out.body.encoding === 'base64' ? Buffer.from(out.body.data, 'base64') : out.body.data;
    res.writeHead(out.statusCode, out.statusDescription, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const serveAtEdge = async (req: IncomingMessage, res: ServerResponse, edge: NonNullable<FrontDoorOptions['edge']>) => {
    const hostName = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (edge.servesHost && !edge.servesHost(hostName)) return reply(res, 403, `No distribution tenant serves "${hostName}".`);
    const malformed = malformedSiteRequest(req.url ?? '/');
    if (malformed) return reply(res, 400, `Bad request: ${malformed}.`);
    const [uri, query] = [(req.url ?? '/').split('?')[0]!, (req.url ?? '').split('?').slice(1).join('?')];
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && name !== 'host') headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const out = await edge.run(viewerRequest({ host: req.headers.host ?? '', uri, method: req.method ?? 'GET', query, headers }));
    if (out.kind === 'response') return answer(res, out.response);
    const { origin, request } = out;
    const deploymentId = request.headers['x-shiplog-deployment']?.value;
    const extra: OutgoingHttpHeaders = deploymentId ? { 'x-shiplog-deployment': deploymentId } : {};
    if (!origin?.domainName) return reply(res, 502, 'The sites function chose no origin for this request.', extra);
    if (origin.originAccessControlConfig?.originType === 's3') {
      const key = `${(origin.originPath ?? '').replace(/^\//, '')}${decodeURIComponent(request.uri)}`;
      return serveAsset(req, res, key, extra);
    }
    const target = edge.urls(origin.domainName);
    if (!target) return reply(res, 502, `No Function URL answers at ${origin.domainName}.`, extra);
    if (target.authType !== 'AWS_IAM') opts.log?.(`front door: ${origin.domainName} is a public Function URL (AuthType ${target.authType})`);
    // As CloudFront sends it with AllViewerExceptHostHeader: the viewer's headers as the function
    // left them, and the Function URL's own host.
    for (const [name, h] of Object.entries(request.headers)) req.headers[name] = h.value;
    req.headers.host = origin.domainName;
    const name = `${target.functionName}:${target.qualifier ?? '$LATEST'}`;
    return invokeSite(req, res, name, { deploymentId: deploymentId ?? '', functionName: target.functionName, version: target.qualifier ?? '$LATEST', assets: new Set() }, extra);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    if (opts.edge) return serveAtEdge(req, res, opts.edge);
    const address = parseFrontDoorHost(req.headers.host, opts.siteDomain);
    if (!address) return reply(res, 404, `No site at "${req.headers.host ?? ''}": sites live at <project>.${opts.siteDomain}.`);
    const malformed = malformedSiteRequest(req.url ?? '/');
    if (malformed) return reply(res, 400, `Bad request: ${malformed}.`);
    const found = await locate(address);
    if ('missing' in found) return reply(res, 404, found.missing);
    const extra = { 'x-shiplog-deployment': found.deploymentId };
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/^\//, '');
    if (found.assets.has(path)) return serveAsset(req, res, siteKeys.asset(address.projectId, found.deploymentId, path), extra);
    if (path.startsWith('_next/static/')) return reply(res, 404, `No file at /${path}.`, extra);
    return invokeSite(req, res, `${address.projectId}/${found.deploymentId}`, found, extra);
  };

  return {
    handle(req, res) {
      serve(req, res).catch((err: unknown) => {
        const name = awsErrorName(err) || 'Error';
        opts.log?.(`front door: ${req.headers.host ?? ''}${(req.url ?? '/').split('?')[0]} failed: ${name}: ${err instanceof Error ? err.message : String(err)}`);
        // Reading the routing state from AWS failed (an upstream), or a fault of ours.
        reply(res, statusOf(err) !== undefined ? 502 : 500, `The front door could not serve this request (${name}).`);
      });
    },
  };
};
