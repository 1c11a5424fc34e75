import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DistributionTenantStandIn } from './distribution-tenants.ts';
import type { EventBridgeStandIn, PutEventsEntry } from './eventbridge.ts';
import type { FunctionUrlStandIn } from './function-urls.ts';
import type { KeyValueStoreStandIn } from './key-value-store.ts';
import type { LambdaStandIn } from './lambda.ts';

// The box's one AWS endpoint (`AWS_ENDPOINT_URL` of every function, build and CLI call): each
// request goes where its SigV4 signature says its service is — DynamoDB (and its streams) to
// DynamoDB Local, CodeBuild to the CodeBuild stand-in, EventBridge's PutEvents to the EventBridge
// stand-in, Lambda's Invoke to the Lambda stand-in, everything else to moto. Lambda code passing
// through CreateFunction / UpdateFunctionCode is kept by the Lambda stand-in on its way to moto.

/** Options of {@link awsEndpoint}. */
export interface AwsEndpointOptions {
  moto: string;
  dynamodb: () => string;
  codebuild: { handle(req: IncomingMessage, res: ServerResponse): void };
  eventbridge: EventBridgeStandIn;
  lambda: LambdaStandIn;
  /** CloudFront KeyValueStore's data plane (`cloudfront-keyvaluestore`), which moto does not serve. */
  keyValueStores?: KeyValueStoreStandIn;
  /** Function URL configurations per alias, which moto keeps per function only. */
  functionUrls?: FunctionUrlStandIn;
  /** CloudFront SaaS Manager's distribution tenants, which moto does not model. */
  tenants?: DistributionTenantStandIn;
  log?: (line: string) => void;
}

/**
 * The signing name of a request: from `Authorization` (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`,
 * or SigV4a's `Credential=KEY/DATE/SERVICE/aws4_request`) or a presigned URL's `X-Amz-Credential`;
 * undefined when unsigned.
 *
 * @example
 * serviceOf({ authorization: 'AWS4-HMAC-SHA256 Credential=k/20261203/eu-west-1/events/aws4_request, …' }, '/'); // 'events'
 */
export const serviceOf = (headers: IncomingMessage['headers'], url: string): string | undefined => {
  const auth = headers.authorization ?? '';
  const fromHeader = /Credential=[^/]+\/\d{8}\/(?:[^/]+\/)?([^/]+)\/aws4_request/.exec(auth);
  if (fromHeader) return fromHeader[1];
  const q = new URL(url, 'http://box').searchParams.get('X-Amz-Credential');
  return q?.split('/')[3];
};

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const forward = (target: string, req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<void> =>
  new Promise((resolve) => {
    const url = new URL(req.url ?? '/', target);
    const headers = { ...req.headers };
    if (body) headers['content-length'] = String(body.length);
    const out = httpRequest(url, { method: req.method, headers }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
      upstream.on('end', () => resolve());
    });
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`the AWS box could not reach ${url.origin}: ${err.message}`);
      resolve();
    });
    if (body) out.end(body);
    else req.pipe(out);
  });

const json = (res: ServerResponse, status: number, body: unknown, type = 'application/x-amz-json-1.1', extra: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': type, ...extra });
  res.end(JSON.stringify(body));
};

/** A request body that is not JSON: answered 400 with the error type the service uses, as AWS does. */
class BadRequestBody extends Error {
  constructor(readonly type: string, readonly contentType: string, what: string) {
    super(`${what} is not valid JSON`);
  }
}

const parseBody = <T>(raw: string, type: string, contentType: string, what: string): T => {
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new BadRequestBody(type, contentType, what);
  }
};

const RULE_CHANGES = new Set(['PutRule', 'DeleteRule', 'PutTargets', 'RemoveTargets', 'EnableRule', 'DisableRule']);

/**
 * The endpoint's request handler.
 *
 * @example
 * createServer(awsEndpoint({ moto: moto.endpoint, dynamodb: () => db.endpoint, codebuild, eventbridge, lambda }).handle).listen(port);
 */
export const awsEndpoint = (opts: AwsEndpointOptions) => {
  const log = opts.log ?? (() => {});

  const lambdaRoute = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://box').pathname;
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    if (invoke && req.method === 'POST') {
      const name = decodeURIComponent(invoke[1]!);
      const qualifier = new URL(req.url ?? '/', 'http://box').searchParams.get('Qualifier') ?? undefined;
      const raw = (await readBody(req)).toString('utf8');
      const payload: unknown = raw ? parseBody(raw, 'InvalidRequestContentException', 'application/json', 'the invocation payload') : {};
      const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
      if (type === 'DryRun') {
        res.writeHead(204).end();
      } else if (type === 'Event') {
        opts.lambda.invokeAsync(qualifier ? `${name}:${qualifier}` : name, undefined, payload);
        res.writeHead(202).end();
      } else {
        const out = await opts.lambda.invoke(name, qualifier, payload);
        const headers: Record<string, string> = { 'x-amz-executed-version': out.executedVersion };
        if (out.error) json(res, 200, out.error, 'application/json', { ...headers, 'x-amz-function-error': 'Unhandled' });
        else if (out.raw) res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers }).end(out.raw);
        else json(res, 200, out.payload ?? null, 'application/json', headers);
      }
      return true;
    }
    const create = req.method === 'POST' && path === '/2015-03-31/functions';
    const update = req.method === 'PUT' ? /^\/2015-03-31\/functions\/[^/]+\/code$/.exec(path) : null;
    const configure = req.method === 'PUT' ? /^\/2015-03-31\/functions\/([^/]+)\/configuration$/.exec(path) : null;
    if (create || update || configure) {
      const body = await readBody(req);
      const parsed = parseBody<{ Code?: Record<string, string>; LoggingConfig?: { LogFormat?: string; LogGroup?: string } } & Record<string, string>>(
        body.toString('utf8'), 'InvalidRequestContentException', 'application/json', 'the request body');
      if (create) opts.lambda.captureConfig(parsed.FunctionName ?? '', parsed);
      if (configure) opts.lambda.captureConfig(decodeURIComponent(configure[1]!), parsed);
      if (create || update) await opts.lambda.captureCode(create ? (parsed.Code ?? {}) : parsed);
      await forward(opts.moto, req, res, body);
      return true;
    }
    return false;
  };

  const eventsRoute = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const op = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    const body = await readBody(req);
    if (op === 'PutEvents') {
      const input = parseBody<{ Entries?: PutEventsEntry[] }>(body.toString('utf8'), 'SerializationException', 'application/x-amz-json-1.1', 'the PutEvents request');
      json(res, 200, await opts.eventbridge.putEvents(input.Entries ?? []));
      return;
    }
    await forward(opts.moto, req, res, body);
    if (RULE_CHANGES.has(op)) opts.eventbridge.invalidate();
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const service = serviceOf(req.headers, req.url ?? '/');
    if (service === 'dynamodb') return forward(opts.dynamodb(), req, res);
    if (service === 'codebuild') return opts.codebuild.handle(req, res);
    if (service === 'events') return eventsRoute(req, res);
    if (service === 'cloudfront-keyvaluestore' && opts.keyValueStores) return opts.keyValueStores.handle(req, res);
    if (service === 'cloudfront' && opts.tenants && (await opts.tenants.route(req, res))) return;
    if (service === 'lambda' && opts.functionUrls && (await opts.functionUrls.route(req, res))) return;
    if (service === 'lambda' && (await lambdaRoute(req, res))) return;
    return forward(opts.moto, req, res);
  };

  return {
    handle: (req: IncomingMessage, res: ServerResponse): void => {
      route(req, res).catch((err: unknown) => {
        if (err instanceof BadRequestBody && !res.headersSent) {
          res.writeHead(400, { 'content-type': err.contentType, 'x-amzn-errortype': err.type }).end(JSON.stringify({ __type: err.type, message: err.message }));
          return;
        }
        log(`aws endpoint: ${req.method} ${req.url}: ${(err as Error).message}`);
        if (!res.headersSent) json(res, 500, { __type: 'InternalFailure', message: (err as Error).message });
        else res.end();
      });
    },
  };
};
