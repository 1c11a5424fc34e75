import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../../services/shell/index.ts';
import { EventBodyTooLargeError, maxEventBodyBytes, readEventBody, toApiGatewayV2Event, toNodeHeaders, writeApiGatewayV2Result } from '../local/sites/apigw.ts';
import { FunctionInvocationError, type Invocation } from '../local/sites/function-pool.ts';
import { malformedSiteRequest } from '../local/sites/request-checks.ts';
import type { loadOriginRequestFunction } from '../aws/edge/body-hash.ts';
import {
  viewerRequest, type ViewerRequest, type ViewerRequestEvent, type ViewerRequestOutcome, type ViewerResponse, type ViewerResponseEvent,
} from '../aws/edge/runner.ts';
import type { FunctionUrl } from './function-urls.ts';

/**
 * Options of {@link frontDoor}. `invoke` runs one alias of a site function (the box's Lambda
 * stand-in); it rejects when the function fails, with a `FunctionInvocationError` whose status is
 * answered (504 for a timeout), any other error being a 502. `edge` is the stack's CloudFront
 * front: `run` is the declared viewer-request function on the box's KeyValueStore, `urls` says
 * which alias a Function URL invokes, `servesHost` whether an enabled distribution tenant carries
 * a host (CloudFront answers no other).
 *
 * @example
 * frontDoor({ s3, sitesBucket: 'shiplog-sites', invoke: (fn, event) => lambdaStandIn.invokeRaw(fn.functionName, fn.qualifier, event),
 *   edge: { run: (e) => siteRouter.run(e), urls: (h) => functionUrls.resolve(h), servesHost: (h) => tenants.servesHost(h) } });
 */
export interface FrontDoorOptions {
  s3: S3Client;
  sitesBucket: string;
  invoke: (fn: { functionName: string; qualifier: string }, event: unknown) => Promise<Invocation>;
  edge: {
    run: (event: ViewerRequestEvent) => Promise<ViewerRequestOutcome>;
    urls: (host: string) => FunctionUrl | undefined;
    servesHost?: (host: string) => boolean;
    /** The declared origin-request Lambda@Edge function on the site behaviours, if any (edge/body-hash.ts). */
    originRequest?: ReturnType<typeof loadOriginRequestFunction>;
    /** The declared viewer-response CloudFront Function (edge/asset-headers.ts), run on a file's answer from S3. */
    viewerResponse?: (event: ViewerResponseEvent) => Promise<ViewerResponseEvent['response']>;
  };
  log?: (line: string) => void;
}

/** Methods whose request carries a body that a signed Function URL request must hash. */
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What the front door invokes for a request: a site function's alias, for one deployment. */
interface Target {
  deploymentId: string;
  functionName: string;
  qualifier: string;
}

const reply = (res: ServerResponse, status: number, text: string, extra: OutgoingHttpHeaders = {}) => {
  if (res.headersSent) return void res.destroy();
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
};

const isMissing = (err: unknown) => ['ResourceNotFoundException', 'NoSuchKey', 'NotFound'].includes(awsErrorName(err));
const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

/**
 * The box's stand-in for CloudFront + Lambda Function URLs: serves each site from the routing
 * state the AWS site host leaves in the box (the sites' KeyValueStore, Function URLs per
 * deployment alias). Every request first runs the stack's viewer-request function; its own answer
 * (a 404, a redirect) is written back, else the request goes to the origin it chose: an S3 prefix
 * of the sites bucket, served with the objects' stored `Content-Type` and `Cache-Control` (a
 * missing file is a 404; HEAD, ranges and conditional GETs as S3 answers them), or a Function
 * URL, whose alias runs as an API Gateway v2 (payload 2.0) event with the viewer's headers as the
 * function left them and the URL's own `Host`, the result or stream written back. A failed
 * invocation is a 502 (504 on timeout), like CloudFront's.
 *
 * @example
 * const door = frontDoor({ s3, sitesBucket: 'shiplog-sites', invoke, edge });
 * createServer(door.handle).listen(8080); // curl -H 'host: web.localhost' http://127.0.0.1:8080/
 */
export const frontDoor = (opts: FrontDoorOptions): { handle(req: IncomingMessage, res: ServerResponse): void } => {
  const { s3, sitesBucket: Bucket } = opts;

  // CloudFront hands a viewer-response function the response it is about to send, the object's
  // metadata among its headers (x-amz-meta-<name>), and sends what the function returns.
  const atViewerResponse = async (request: ViewerRequest, status: number, headers: OutgoingHttpHeaders, metadata: Record<string, string> | undefined) => {
    const run = opts.edge.viewerResponse;
    if (!run || status >= 400) return headers;
    const cf: ViewerResponseEvent['response']['headers'] = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) cf[name.toLowerCase()] = { value: String(value) };
    for (const [name, value] of Object.entries(metadata ?? {})) cf[`x-amz-meta-${name.toLowerCase()}`] = { value };
    const out = await run({ version: '1.0', context: { eventType: 'viewer-response' }, viewer: { ip: '127.0.0.1' }, request, response: { statusCode: status, headers: cf } });
    const back: OutgoingHttpHeaders = {};
    for (const [name, h] of Object.entries(out.headers)) back[name] = h.value;
    return back;
  };

  const serveAsset = async (req: IncomingMessage, res: ServerResponse, Key: string, extra: OutgoingHttpHeaders, viewer: ViewerRequest) => {
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
    const status = 'ContentRange' in out && out.ContentRange ? 206 : 200;
    res.writeHead(status, await atViewerResponse(viewer, status, headers, out.Metadata));
    if (!('Body' in out) || !out.Body) return void res.end();
    await pipeline(out.Body as Readable, res).catch(() => res.destroy());
  };

  const invokeSite = async (req: IncomingMessage, res: ServerResponse, name: string, site: Target, extra: OutgoingHttpHeaders, iam = false) => {
    let body: Buffer;
    try {
      body = await readEventBody(req);
    } catch (err) {
      if (err instanceof EventBodyTooLargeError) return reply(res, 413, `Request bodies are limited to ${maxEventBodyBytes} bytes.`, extra);
      throw err;
    }
    if (WITH_BODY.has(req.method ?? '')) {
      // CloudFront runs the origin-request function with the body, then signs for the origin.
      if (opts.edge.originRequest) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        const out = await opts.edge.originRequest({ method: req.method ?? 'POST', uri: (req.url ?? '/').split('?')[0]!, headers, body });
        if (out.kind === 'response') return void res.writeHead(out.status, { ...out.headers, ...extra }).end(out.body);
        Object.assign(req.headers, out.headers);
      }
      // Lambda takes no unsigned payload: a signed request's body must match its x-amz-content-sha256.
      if (iam && req.headers['x-amz-content-sha256'] !== createHash('sha256').update(body).digest('hex')) {
        res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException', ...extra });
        return void res.end(JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.' }));
      }
    }
    const event = toApiGatewayV2Event(req, body, { requestId: randomUUID(), now: new Date() });
    let inv: Invocation;
    try {
      inv = await opts.invoke({ functionName: site.functionName, qualifier: site.qualifier }, event);
    } catch (err) {
      const status = err instanceof FunctionInvocationError ? err.status : awsErrorName(err) === 'TimeoutError' ? 504 : 502;
      opts.log?.(`front door: ${name} (${site.functionName}:${site.qualifier}) failed with ${status}: ${err instanceof Error ? err.message : String(err)}`);
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
    const viewer = viewerRequest({ host: req.headers.host ?? '', uri, method: req.method ?? 'GET', query, headers });
    const out = await edge.run(viewer);
    if (out.kind === 'response') return answer(res, out.response);
    const { origin, request } = out;
    const deploymentId = request.headers['x-shiplog-deployment']?.value;
    const extra: OutgoingHttpHeaders = deploymentId ? { 'x-shiplog-deployment': deploymentId } : {};
    if (!origin?.domainName) return reply(res, 502, 'The sites function chose no origin for this request.', extra);
    if (origin.originAccessControlConfig?.originType === 's3') {
      const key = `${(origin.originPath ?? '').replace(/^\//, '')}${decodeURIComponent(request.uri)}`;
      return serveAsset(req, res, key, extra, viewer.request);
    }
    const target = edge.urls(origin.domainName);
    if (!target) return reply(res, 502, `No Function URL answers at ${origin.domainName}.`, extra);
    if (target.authType !== 'AWS_IAM') opts.log?.(`front door: ${origin.domainName} is a public Function URL (AuthType ${target.authType})`);
    // As CloudFront sends it with AllViewerExceptHostHeader: the viewer's headers as the function
    // left them, and the Function URL's own host.
    for (const [name, h] of Object.entries(request.headers)) req.headers[name] = h.value;
    req.headers.host = origin.domainName;
    const name = `${target.functionName}:${target.qualifier ?? '$LATEST'}`;
    return invokeSite(req, res, `${deploymentId ?? '?'} at ${name}`, { deploymentId: deploymentId ?? '', functionName: target.functionName, qualifier: target.qualifier ?? '$LATEST' }, extra, target.authType === 'AWS_IAM');
  };

  const serve = (req: IncomingMessage, res: ServerResponse) => serveAtEdge(req, res, opts.edge);

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
