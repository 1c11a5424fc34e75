import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiGatewayV2Client, CreateApiCommand, CreateIntegrationCommand, CreateRouteCommand } from '@aws-sdk/client-apigatewayv2';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invocation } from '../local/sites/function-pool.ts';
import { apiGatewayStandIn } from './api-gateway.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';

// The API Gateway stand-in against an HTTP API held by moto, its integration a real Hono app
// behind `hono/aws-lambda` (what infra/aws/functions/api.ts is): the 2.0 event must be one Hono's
// adapter reads as the request the client sent, and the result one it wrote.

const FUNCTION = `arn:aws:lambda:${BOX_REGION}:${BOX_ACCOUNT}:function:shiplog-test-Api`;

const app = new Hono()
  .post('/echo', async (c) => {
    const body = Buffer.from(await c.req.arrayBuffer());
    return c.body(body, 200, { 'content-type': 'application/octet-stream', 'x-length': String(body.length), 'x-query': c.req.query('q') ?? '' });
  })
  .get('/who', (c) => c.json({ auth: c.req.header('authorization') ?? null, cookie: c.req.header('cookie') ?? null }))
  .get('/fail', () => {
    throw new Error('boom');
  });
const lambda = handle(app);

describe('the API Gateway stand-in (payload format 2.0)', () => {
  let moto: Moto;
  let apigateway: ApiGatewayV2Client;
  const servers: Server[] = [];
  const seen: { functionArn: string; event: Record<string, unknown> }[] = [];

  /** Serves an HTTP API created in moto with a $default route to a proxy integration; `invoke` runs it. */
  const serve = async (invoke: (event: unknown) => Promise<Invocation>, timeoutMs = 29_000) => {
    const { ApiId } = await apigateway.send(new CreateApiCommand({ Name: 'test-api', ProtocolType: 'HTTP' }));
    const { IntegrationId } = await apigateway.send(new CreateIntegrationCommand({
      ApiId, IntegrationType: 'AWS_PROXY', IntegrationUri: FUNCTION, PayloadFormatVersion: '2.0', TimeoutInMillis: timeoutMs,
    }));
    await apigateway.send(new CreateRouteCommand({ ApiId, RouteKey: '$default', Target: `integrations/${IntegrationId}` }));
    const gateway = await apiGatewayStandIn({
      apigateway, apiId: ApiId!, accountId: BOX_ACCOUNT,
      invoke: (functionArn, event) => {
        seen.push({ functionArn, event: event as Record<string, unknown> });
        return invoke(event);
      },
    });
    const server = createServer(gateway.handle);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiId: ApiId! };
  };
  const viaHono = async (event: unknown): Promise<Invocation> => ({ kind: 'result', result: await lambda(event as Parameters<typeof lambda>[0]) });

  beforeAll(async () => {
    moto = await startMoto();
    apigateway = new ApiGatewayV2Client({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
  }, 60_000);
  afterAll(async () => {
    for (const s of servers) s.close();
    await moto?.stop();
  });

  it('sends a binary body base64-encoded and writes the binary result back, byte for byte', async () => {
    const { url, apiId } = await serve(viaHono);
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    const res = await fetch(`${url}/echo?q=a%20b`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/zip' } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    expect(res.headers.get('x-length')).toBe('4096');
    expect(res.headers.get('x-query')).toBe('a b');
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
    const { functionArn, event } = seen.at(-1)!;
    expect(functionArn).toBe(FUNCTION);
    expect(event).toMatchObject({ version: '2.0', routeKey: '$default', rawPath: '/echo', rawQueryString: 'q=a%20b', isBase64Encoded: true });
    expect(event.requestContext).toMatchObject({ apiId, accountId: BOX_ACCOUNT, stage: '$default', http: { method: 'POST', path: '/echo' } });
    expect(Buffer.from(event.body as string, 'base64').equals(bytes)).toBe(true);
  });

  it('hands headers and cookies over as API Gateway does', async () => {
    const { url } = await serve(viaHono);
    const res = await fetch(`${url}/who`, { headers: { authorization: 'Bearer shp_x', cookie: 'a=1; b=2' } });
    expect(await res.json()).toEqual({ auth: 'Bearer shp_x', cookie: 'a=1; b=2' });
    expect(seen.at(-1)!.event.cookies).toEqual(['a=1', 'b=2']);
  });

  it("answers the app's own 500, a failed invocation with 500 and one past the integration timeout with 503", async () => {
    const { url } = await serve(viaHono);
    expect((await fetch(`${url}/fail`)).status).toBe(500);
    const failing = await serve(() => Promise.reject(new Error('the function crashed')));
    const crashed = await fetch(`${failing.url}/x`);
    expect(crashed.status).toBe(500);
    expect(await crashed.json()).toEqual({ message: 'Internal Server Error' });
    const hanging = await serve(() => new Promise<Invocation>(() => undefined), 50);
    const late = await fetch(`${hanging.url}/x`);
    expect(late.status).toBe(503);
    expect(await late.json()).toEqual({ message: 'Service Unavailable' });
  });

  it('refuses a body past the 6 MB Lambda payload with 413, without invoking', async () => {
    const { url } = await serve(viaHono);
    const before = seen.length;
    const res = await fetch(`${url}/echo`, { method: 'POST', body: Buffer.alloc(6 * 1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(seen.length).toBe(before);
  });
});
