import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSiteHost, siteKeys } from '../../services/deploy/adapters/site-host/aws.ts';
import type { SiteHost } from '../../services/deploy/ports.ts';
import { FunctionInvocationError, type Invocation } from '../local/sites/function-pool.ts';
import { frontDoor, parseFrontDoorHost } from './front-door.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';

const SITES = 'shiplog-sites';
const DOMAIN = 'sites.localhost';
const ulid = monotonicFactory();
const work = mkdtempSync(join(tmpdir(), 'shiplog-front-door-'));

/** A directory shaped like an OpenNext output whose server function answers `<tag> <path>`. */
const artifact = (tag: string, handler = `export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: '${tag} ' + event.rawPath });`) => {
  const dir = join(work, `artifact-${tag}-${ulid()}`);
  const files: Record<string, string> = {
    'open-next.output.json': JSON.stringify({
      origins: { default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default', streaming: false }, s3: { type: 's3' } },
      behaviors: [{ pattern: '_next/static*', origin: 's3' }, { pattern: 'robots.txt', origin: 's3' }, { pattern: '*', origin: 'default' }],
    }),
    [`assets/_next/static/chunks/app-${tag}.js`]: `console.log('${tag}')`,
    'assets/robots.txt': `User-agent: * (${tag})`,
    'server-functions/default/index.mjs': handler,
  };
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  return `file://${dir}`;
};

/** The entries of a zip (the site host's deflate archives). */
const unzip = (zip: Buffer): { name: string; data: Buffer }[] => {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const out: { name: string; data: Buffer }[] = [];
  for (let i = 0, at = zip.readUInt32LE(end + 16); i < zip.readUInt16LE(end + 10); i++) {
    const [method, size, nameLength, local] = [zip.readUInt16LE(at + 10), zip.readUInt32LE(at + 20), zip.readUInt16LE(at + 28), zip.readUInt32LE(at + 42)];
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + size);
    out.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), data: method === 8 ? inflateRawSync(raw) : raw });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
};

let moto: Moto;
let lambda: LambdaClient;
let s3: S3Client;
let host: SiteHost;
let server: Server;
/** Code published to moto, by CodeSha256 (moto keeps no code we could download). */
const codes = new Map<string, Buffer>();

const deploy = async (projectId: string, tag: string, handler?: string) => {
  const deploymentId = ulid();
  await host.publish({ projectId, deploymentId, artifactDir: artifact(tag, handler) });
  const zip = await s3.send(new GetObjectCommand({ Bucket: SITES, Key: siteKeys.code(projectId, deploymentId) }));
  const bytes = Buffer.from(await zip.Body!.transformToByteArray());
  codes.set(createHash('sha256').update(bytes).digest('base64'), bytes);
  return deploymentId;
};

/** A minimal Lambda runner: the version's code by its sha, unzipped once, its handler imported. */
const run = async (fn: { functionName: string; qualifier: string }, event: unknown): Promise<Invocation> => {
  const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn.functionName, Qualifier: fn.qualifier }));
  const zip = codes.get(cfg.CodeSha256!);
  if (!zip) throw new Error(`no code captured for ${fn.functionName}:${fn.qualifier}`);
  const dir = join(work, 'code', createHash('sha256').update(zip).digest('hex'));
  for (const f of unzip(zip)) {
    mkdirSync(join(dir, f.name, '..'), { recursive: true });
    writeFileSync(join(dir, f.name), f.data);
  }
  const [file, name] = cfg.Handler!.split('.') as [string, string];
  const mod = (await import(pathToFileURL(join(dir, `${file}.mjs`)).href)) as Record<string, (e: unknown) => Promise<unknown>>;
  // Stands in for a function that runs past its timeout, as the box's Lambda stand-in reports it.
  if ((event as { rawPath: string }).rawPath === '/timeout') throw new FunctionInvocationError(504, `${fn.functionName}:${fn.qualifier} timed out`);
  const result = await mod[name]!(event);
  // Stands in for a streaming function: the result's body, sent in two chunks.
  if ((event as { rawPath: string }).rawPath === '/stream') {
    const r = result as { statusCode: number; body: string };
    return { kind: 'stream', head: { statusCode: r.statusCode, headers: { 'content-type': 'text/plain' } }, body: Readable.from([r.body, ' (streamed)']) };
  }
  return { kind: 'result', result };
};

const logs: string[] = [];
const get = (hostName: string, path = '/', opts: { method?: string; headers?: Record<string, string> } = {}) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const port = (server.address() as AddressInfo).port;
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: `${hostName}:${port}`, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject).end();
  });
const text = async (hostName: string, path = '/') => (await get(hostName, path)).body;

let d1: string;

beforeAll(async () => {
  moto = await startMoto();
  const client = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  lambda = new LambdaClient(client);
  s3 = new S3Client({ ...client, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: SITES, CreateBucketConfiguration: { LocationConstraint: BOX_REGION } }));
  const role = await new IAMClient(client).send(new CreateRoleCommand({
    RoleName: 'shiplog-site',
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
  }));
  host = awsSiteHost({
    lambda, s3, bucket: SITES, prefix: 'shiplog', domain: DOMAIN, region: BOX_REGION, site: { role: role.Role!.Arn! },
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
  });
  const door = frontDoor({ lambda, s3, prefix: 'shiplog', sitesBucket: SITES, siteDomain: DOMAIN, invoke: run, log: (line) => logs.push(line) });
  server = createServer((req, res) => door.handle(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  d1 = await deploy('web', 'v1');
  await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('front door', () => {
  it('serves the production alias through the server function, with the deployment it resolved', async () => {
    const res = await get(`web.${DOMAIN}`, '/hello?x=1');
    expect([res.status, res.body, res.headers['x-shiplog-deployment'], res.headers['content-type']]).toEqual([200, 'v1 /hello', d1, 'text/plain']);
  });

  it('follows the alias to a new deployment, back on rollback, while each deployment host keeps its own version', async () => {
    const d2 = await deploy('web', 'v2');
    expect(await text(`web.${DOMAIN}`)).toBe('v1 /');
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d2 });
    await expect.poll(() => text(`web.${DOMAIN}`), { timeout: 10_000 }).toBe('v2 /');
    expect(await text(`${d1.toLowerCase()}-web.${DOMAIN}`, '/p')).toBe('v1 /p');
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    await expect.poll(() => text(`web.${DOMAIN}`), { timeout: 10_000 }).toBe('v1 /');
    expect(await text(`${d2.toLowerCase()}-web.${DOMAIN}`, '/p')).toBe('v2 /p');
    expect((await get(`${d2.toLowerCase()}-web.${DOMAIN}`)).headers['x-shiplog-deployment']).toBe(d2);
  });

  it('serves a preview alias on <alias>--<project>', async () => {
    await host.shiftAlias({ projectId: 'web', alias: 'preview-login', deploymentId: d1 });
    expect(await text(`preview-login--web.${DOMAIN}`, '/x')).toBe('v1 /x');
    expect((await get(`preview-nope--web.${DOMAIN}`)).status).toBe(404);
  });

  it('serves assets from the sites bucket with their stored content type and cache control', async () => {
    const js = await get(`${d1.toLowerCase()}-web.${DOMAIN}`, '/_next/static/chunks/app-v1.js');
    expect([js.status, js.body, js.headers['content-type'], js.headers['cache-control']])
      .toEqual([200, "console.log('v1')", 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    const robots = await get(`${d1.toLowerCase()}-web.${DOMAIN}`, '/robots.txt');
    expect([robots.status, robots.body, robots.headers['cache-control']]).toEqual([200, 'User-agent: * (v1)', 'public, max-age=0, must-revalidate']);
    const again = await get(`${d1.toLowerCase()}-web.${DOMAIN}`, '/_next/static/chunks/app-v1.js', { headers: { 'if-none-match': js.headers.etag! } });
    expect(again.status).toBe(304);
    const part = await get(`${d1.toLowerCase()}-web.${DOMAIN}`, '/robots.txt', { headers: { range: 'bytes=0-3' } });
    expect([part.status, part.body, part.headers['content-range']]).toEqual([206, 'User', `bytes 0-3/${'User-agent: * (v1)'.length}`]);
    const head = await get(`${d1.toLowerCase()}-web.${DOMAIN}`, '/robots.txt', { method: 'HEAD' });
    expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', String('User-agent: * (v1)'.length)]);
    // Another deployment's hashed file, and a missing one, are not this deployment's: 404, not the function.
    expect((await get(`${d1.toLowerCase()}-web.${DOMAIN}`, '/_next/static/chunks/app-v2.js')).status).toBe(404);
    expect((await get(`${d1.toLowerCase()}-web.${DOMAIN}`, '/robots.txt', { method: 'POST' })).status).toBe(405);
  });

  it('writes a streamed response back as it comes', async () => {
    const res = await get(`web.${DOMAIN}`, '/stream');
    expect([res.status, res.body, res.headers['x-shiplog-deployment']]).toEqual([200, 'v1 /stream (streamed)', d1]);
  });

  it('answers 404 for unknown hosts, projects, deployments and a project with no production deployment', async () => {
    const unknown = await get(`nope.${DOMAIN}`);
    expect([unknown.status, unknown.body]).toEqual([404, 'No site "nope".\n']);
    expect((await get('example.com')).status).toBe(404);
    expect((await get(`${ulid().toLowerCase()}-web.${DOMAIN}`)).status).toBe(404);
    await deploy('staging', 'v1');
    const none = await get(`staging.${DOMAIN}`);
    expect([none.status, none.body]).toEqual([404, 'Project "staging" has no production deployment.\n']);
  });

  it('answers 502 when the function throws, and logs it', async () => {
    const broken = await deploy('broken', 'v1', 'export const handler = async () => { throw new Error("boom"); };');
    await host.shiftAlias({ projectId: 'broken', alias: 'production', deploymentId: broken });
    const res = await get(`broken.${DOMAIN}`);
    expect([res.status, res.headers['x-shiplog-deployment']]).toEqual([502, broken]);
    expect(logs.some((l) => l.includes('broken/') && l.includes('boom'))).toBe(true);
  });

  it('answers 504 when the function times out', async () => {
    const res = await get(`web.${DOMAIN}`, '/timeout');
    expect([res.status, res.body]).toEqual([504, 'The site function timed out.\n']);
  });

  it('answers 400 for a path that does not decode', async () => {
    expect((await get(`web.${DOMAIN}`, '/%ZZ')).status).toBe(400);
  });
});

describe('parseFrontDoorHost', () => {
  it('reads production, preview and deployment hosts, port ignored', () => {
    expect(parseFrontDoorHost(`web.${DOMAIN}:8080`, DOMAIN)).toEqual({ kind: 'alias', projectId: 'web', alias: 'production' });
    expect(parseFrontDoorHost(`preview-login--my-app.${DOMAIN}`, DOMAIN)).toEqual({ kind: 'alias', projectId: 'my-app', alias: 'preview-login' });
    expect(parseFrontDoorHost(`01jd2z8j6x3q4r5s6t7v8w9xyz-web.${DOMAIN}`, DOMAIN)).toEqual({ kind: 'deployment', projectId: 'web', deploymentId: '01jd2z8j6x3q4r5s6t7v8w9xyz' });
    expect(parseFrontDoorHost('web.example.com', DOMAIN)).toBeUndefined();
  });
});
