import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GetIntegrationCommand, GetRoutesCommand, type ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { EventBodyTooLargeError, readEventBody, toApiGatewayV2Event, writeApiGatewayV2Result } from '../local/sites/apigw.ts';
import type { Invocation } from '../local/sites/function-pool.ts';

/**
 * The header API Gateway (HTTP APIs) puts on every response; the CLI reads it to tell that it is
 * talking through API Gateway, which cannot stream (`cli/sse.ts`).
 *
 * @example
 * res.headers.get(API_GATEWAY_REQUEST_ID) !== null; // behind API Gateway
 */
export const API_GATEWAY_REQUEST_ID = 'apigw-requestid';

/**
 * Options of {@link apiGatewayStandIn}: the HTTP API as moto holds it (`materialize.ts` created it
 * from the declaration) and how to run its Lambda integration (the box's Lambda stand-in).
 *
 * @example
 * const opts: ApiGatewayOptions = { apigateway, apiId, accountId: '123456789012', invoke: (arn, e) => lambda.invokeRaw(arn, undefined, e) };
 */
export interface ApiGatewayOptions {
  apigateway: ApiGatewayV2Client;
  apiId: string;
  accountId: string;
  invoke: (functionArn: string, event: unknown) => Promise<Invocation>;
  log?: (line: string) => void;
}

const message = (res: ServerResponse, status: number, text: string, requestId: string) => {
  const body = JSON.stringify({ message: text });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [API_GATEWAY_REQUEST_ID]: requestId });
  res.end(body);
};

/**
 * The integration of an HTTP API's `$default` route, read back from moto: a Lambda proxy with
 * payload format 2.0 is the only kind the box runs.
 *
 * @example
 * await defaultIntegration(apigateway, apiId); // { functionArn: 'arn:aws:lambda:…:function:shiplog-box-Api', timeoutMs: 29000 }
 */
export const defaultIntegration = async (apigateway: ApiGatewayV2Client, apiId: string) => {
  const { Items: routes = [] } = await apigateway.send(new GetRoutesCommand({ ApiId: apiId }));
  const route = routes.find((r) => r.RouteKey === '$default');
  if (!route?.Target?.startsWith('integrations/')) throw new Error(`HTTP API ${apiId} has no $default route to an integration`);
  const integration = await apigateway.send(new GetIntegrationCommand({ ApiId: apiId, IntegrationId: route.Target.slice('integrations/'.length) }));
  if (integration.IntegrationType !== 'AWS_PROXY' || integration.PayloadFormatVersion !== '2.0' || !integration.IntegrationUri) {
    throw new Error(`HTTP API ${apiId}: the box runs Lambda proxy integrations with payload format 2.0 only, not ${integration.IntegrationType} ${integration.PayloadFormatVersion}`);
  }
  return { functionArn: integration.IntegrationUri, timeoutMs: integration.TimeoutInMillis ?? 30_000 };
};

const buffered = async (inv: Invocation): Promise<unknown> => {
  if (inv.kind === 'result') return inv.result;
  // API Gateway buffers: a streamed response reaches the client whole, once the function is done.
  const chunks: Buffer[] = [];
  for await (const c of inv.body) chunks.push(Buffer.from(c as Buffer));
  const body = Buffer.concat(chunks);
  return { statusCode: inv.head.statusCode, headers: inv.head.headers, cookies: inv.head.cookies, body: body.toString('base64'), isBase64Encoded: true };
};

/**
 * The box's stand-in for an API Gateway HTTP API: each request becomes the payload 2.0 event API
 * Gateway sends its `$default` Lambda integration (read from moto: route → integration →
 * function ARN), bodies base64-encoded, and the function's result becomes the response, buffered
 * (no streaming, as on AWS). Like API Gateway it answers 413 past Lambda's 6 MB payload, 500 when
 * the function fails and 503 when it runs past the integration timeout, and puts an
 * `apigw-requestid` header on every response.
 *
 * @example
 * const gateway = await apiGatewayStandIn({ apigateway, apiId, accountId, invoke: (arn, e) => lambda.invokeRaw(arn, undefined, e) });
 * createServer(gateway.handle).listen(3000);
 */
export const apiGatewayStandIn = async (opts: ApiGatewayOptions) => {
  const { functionArn, timeoutMs } = await defaultIntegration(opts.apigateway, opts.apiId);
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    let body: Buffer;
    try {
      body = await readEventBody(req);
    } catch (err) {
      if (err instanceof EventBodyTooLargeError) return message(res, 413, 'Request Entity Too Large', requestId);
      throw err;
    }
    const event = toApiGatewayV2Event(req, body, { requestId, now: new Date() });
    event.requestContext = { ...event.requestContext, apiId: opts.apiId, accountId: opts.accountId };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      const outcome = await Promise.race([opts.invoke(functionArn, event).then(buffered), timedOut]);
      if (outcome === 'timeout') {
        opts.log?.(`api gateway: ${req.method} ${event.rawPath} ran past the integration timeout (${timeoutMs} ms)`);
        return message(res, 503, 'Service Unavailable', requestId);
      }
      writeApiGatewayV2Result(res, outcome, { head: req.method === 'HEAD', extraHeaders: { [API_GATEWAY_REQUEST_ID]: requestId } });
    } catch (err) {
      opts.log?.(`api gateway: ${req.method} ${event.rawPath} failed in its integration: ${err instanceof Error ? err.message : String(err)}`);
      message(res, 500, 'Internal Server Error', requestId);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    functionArn,
    handle(req: IncomingMessage, res: ServerResponse): void {
      serve(req, res).catch((err: unknown) => {
        opts.log?.(`api gateway: ${(err as Error).message}`);
        if (!res.headersSent) message(res, 500, 'Internal Server Error', 'none');
        else res.destroy();
      });
    },
  };
};
