import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import {
  CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, InvalidParameterValueException, LambdaClient, ListVersionsByFunctionCommand, PublishVersionCommand,
  TooManyRequestsException, UpdateAliasCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { CopyObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { zipFiles } from './aws-artifact.ts';
import { ARTIFACTS, conflict, FN, lam, resetFakes, s3m, SITE_ROLE, SITES, world } from './aws.fixtures.ts';
import { awsSiteHost, DeploymentNotPublishedError, SiteHostBusyError, type AwsSiteHostOptions } from './aws.ts';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

const work = mkdtempSync(join(tmpdir(), 'shiplog-aws-host-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const output = JSON.stringify({ origins: { default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default', streaming: false } } });
const files: Record<string, string> = {
  'assets/_next/static/chunks/app-3f2a.js': 'console.log(1)', 'assets/favicon.ico': 'ico', 'assets/hello.txt': 'hi', 'assets/BUILD_ID': 'b1',
  'cache/b1/index.cache': '{"type":"app"}', 'server-functions/default/index.mjs': 'export const handler = () => ({ statusCode: 200 });',
  'open-next.output.json': output,
};
const localArtifact = () => {
  const dir = join(work, 'artifact');
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  return dir;
};
const s3Artifact = (d: string) => {
  for (const [p, body] of Object.entries({ ...files, 'server-function.zip': 'PK' })) world.objects.set(`${ARTIFACTS}/artifacts/web/${d}/${p}`, { body: Buffer.from(body) });
  return `s3://${ARTIFACTS}/artifacts/web/${d}/`;
};

let slept: number[];
const host = (over: Partial<AwsSiteHostOptions> = {}) => awsSiteHost({
  lambda: new LambdaClient({ region: 'us-east-1', credentials }), s3: new S3Client({ region: 'us-east-1', credentials }),
  bucket: SITES, prefix: 'shiplog', domain: 'sites.example.com', region: 'us-east-1',
  site: { role: 'arn:aws:iam::123456789012:role/shiplog-site', environment: { CACHE_DYNAMO_TABLE: 'shiplog-site-tags' } },
  sleep: async (ms) => void slept.push(ms), ...over,
});
const written = (key: string) => world.objects.get(`${SITES}/${key}`);

beforeEach(() => {
  resetFakes();
  slept = [];
});

describe('publish', () => {
  it('uploads a local build with per-path cache headers, creates the function the first time and publishes a guarded version', async () => {
    const published = await host().publish({ projectId: 'web', deploymentId: 'd1', artifactDir: `file://${localArtifact()}` });
    expect(published).toEqual({ assets: 4, functionVersion: '1' });
    expect(written('sites/web/d1/_next/static/chunks/app-3f2a.js')).toMatchObject({ cacheControl: 'public, max-age=31536000, immutable', contentType: 'text/javascript; charset=utf-8' });
    expect(written('sites/web/d1/favicon.ico')).toMatchObject({ cacheControl: 'public, max-age=0, must-revalidate', contentType: 'image/x-icon' });
    expect(written('sites/web/d1/hello.txt')).toMatchObject({ cacheControl: 'public, max-age=0, must-revalidate' });
    expect(written('cache/web/b1/index.cache')!.body.toString()).toBe('{"type":"app"}');
    expect(written('artifacts/web/d1/server-function.zip')!.body.subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));
    expect(lam.commandCalls(CreateFunctionCommand)[0]!.args[0].input).toMatchObject({
      FunctionName: FN, Handler: 'index.handler', Role: 'arn:aws:iam::123456789012:role/shiplog-site',
      Code: { S3Bucket: SITES, S3Key: 'artifacts/web/d1/server-function.zip' },
      Environment: { Variables: { CACHE_BUCKET_NAME: SITES, CACHE_BUCKET_KEY_PREFIX: 'cache/web', CACHE_BUCKET_REGION: 'us-east-1', CACHE_DYNAMO_TABLE: 'shiplog-site-tags' } },
    });
    expect(slept.length).toBeGreaterThan(0); // waited for Pending → Active
    expect(lam.commandCalls(PublishVersionCommand)[0]!.args[0].input).toEqual({
      FunctionName: FN, CodeSha256: 'sha-of-artifacts/web/d1/server-function.zip', RevisionId: 'rev-1', Description: 'shiplog:d1',
    });
    expect(JSON.parse(written('sites/web/.published/d1.json')!.body.toString())).toMatchObject({ assets: 4, functionVersion: '1', deploymentId: 'd1' });
  });

  it('copies a CodeBuild artifact S3 → S3, uses the build\'s zip, and waits out an update already in progress', async () => {
    world.fn = { sha: 'sha-of-other', revision: 4, updating: 1, created: false, versions: [] };
    const published = await host().publish({ projectId: 'web', deploymentId: 'd2', artifactDir: s3Artifact('d2') });
    expect(published).toEqual({ assets: 4, functionVersion: '1' });
    const copy = s3m.commandCalls(CopyObjectCommand).find((c) => c.args[0].input.Key === 'sites/web/d2/_next/static/chunks/app-3f2a.js')!.args[0].input;
    expect(copy).toMatchObject({ Bucket: SITES, CopySource: `${ARTIFACTS}/artifacts/web/d2/assets/_next/static/chunks/app-3f2a.js`, MetadataDirective: 'REPLACE', CacheControl: 'public, max-age=31536000, immutable' });
    const updates = lam.commandCalls(UpdateFunctionCodeCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(2); // ResourceConflictException first, then after waiting
    expect(updates[1]).toEqual({ FunctionName: FN, S3Bucket: ARTIFACTS, S3Key: 'artifacts/web/d2/server-function.zip' });
    expect(lam.commandCalls(CreateFunctionCommand)).toHaveLength(0);
  });

  it('is idempotent: a published deployment publishes nothing again', async () => {
    const h = host();
    const artifactDir = `file://${localArtifact()}`;
    const first = await h.publish({ projectId: 'web', deploymentId: 'd1', artifactDir });
    lam.resetHistory();
    s3m.resetHistory();
    expect(await h.publish({ projectId: 'web', deploymentId: 'd1', artifactDir })).toEqual(first);
    expect(lam.calls()).toHaveLength(0);
    expect(s3m.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('finds the version an interrupted attempt published instead of publishing it twice', async () => {
    world.fn = { sha: 's', revision: 9, updating: 0, created: false, versions: [] };
    world.fn.versions.push({ Version: '1', Description: 'shiplog:d0' }, { Version: '2', Description: 'shiplog:d1' }, { Version: '3', Description: 'shiplog:d9' });
    world.objects.set(`${SITES}/sites/web/.publishing/d1`, { body: Buffer.from('') }); // crashed before the marker
    expect(await host().publish({ projectId: 'web', deploymentId: 'd1', artifactDir: `file://${localArtifact()}` })).toEqual({ assets: 4, functionVersion: '2' });
    expect(lam.commandCalls(ListVersionsByFunctionCommand).length).toBeGreaterThan(1); // paged
    expect(lam.commandCalls(PublishVersionCommand)).toHaveLength(0);
  });

  it('never publishes another deployment\'s code: puts its own back when $LATEST changed while updating', async () => {
    world.fn = { sha: 'sha-0', revision: 1, updating: 0, created: false, versions: [] };
    let polls = 0;
    // A concurrent deployment replaces $LATEST while ours is still updating.
    world.onPoll = () => {
      if (++polls === 1) Object.assign(world.fn!, { sha: 'sha-of-artifacts/web/other/server-function.zip', revision: world.fn!.revision + 1 });
    };
    expect(await host().publish({ projectId: 'web', deploymentId: 'd1', artifactDir: `file://${localArtifact()}` })).toMatchObject({ functionVersion: '1' });
    expect(lam.commandCalls(UpdateFunctionCodeCommand).length).toBeGreaterThanOrEqual(2);
    expect(world.fn!.versions).toEqual([expect.objectContaining({ Description: 'shiplog:d1', CodeSha256: 'sha-of-artifacts/web/d1/server-function.zip' })]);
  });

  it('retries a publish refused because $LATEST changed between its update and the publish', async () => {
    world.fn = { sha: 'sha-0', revision: 1, updating: 0, created: false, versions: [] };
    let publishes = 0;
    world.beforePublish = () => {
      if (++publishes === 1) Object.assign(world.fn!, { sha: 'sha-of-artifacts/web/other/server-function.zip', revision: world.fn!.revision + 1 });
    };
    expect(await host().publish({ projectId: 'web', deploymentId: 'd1', artifactDir: `file://${localArtifact()}` })).toMatchObject({ functionVersion: '1' });
    expect(lam.commandCalls(PublishVersionCommand)).toHaveLength(2);
    expect(world.fn!.versions).toEqual([expect.objectContaining({ Description: 'shiplog:d1', CodeSha256: 'sha-of-artifacts/web/d1/server-function.zip' })]);
  });

  it("makes the build's env entry the handler when the artifact has it, on a new function and on one created before", async () => {
    const entry = { 'server-functions/default/shiplog-env.json': '{"handler":"index.handler","parameters":{}}', 'server-functions/default/shiplog-env.mjs': 'export const handler = 1;' };
    Object.assign(files, entry);
    try {
      await host().publish({ projectId: 'web', deploymentId: 'd1', artifactDir: `file://${localArtifact()}` });
      expect(lam.commandCalls(CreateFunctionCommand)[0]!.args[0].input.Handler).toBe('shiplog-env.handler');
      expect(lam.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(0);

      resetFakes();
      world.fn = { sha: 'sha-0', revision: 1, updating: 0, created: false, versions: [] }; // handler: index.handler
      await host().publish({ projectId: 'web', deploymentId: 'd2', artifactDir: s3Artifact('d2') });
      expect(lam.commandCalls(UpdateFunctionConfigurationCommand).map((c) => c.args[0].input)).toEqual([{ FunctionName: FN, Handler: 'shiplog-env.handler', Role: SITE_ROLE, RevisionId: 'rev-2' }]);
      expect(world.fn.versions).toEqual([expect.objectContaining({ Description: 'shiplog:d2', Handler: 'shiplog-env.handler', CodeSha256: 'sha-of-artifacts/web/d2/server-function.zip' })]);
    } finally {
      for (const k of Object.keys(entry)) delete files[k];
    }
  });

  it("gives a project's functions its own role, waiting while IAM propagates a new one, and moves a function made with the shared role", async () => {
    const own = 'arn:aws:iam::123456789012:role/shiplog/shiplog/site-web';
    const asked: string[] = [];
    const roleFor = async (projectId: string) => (asked.push(projectId), own);
    let refusals = 2;
    lam.on(CreateFunctionCommand).callsFake(async ({ Code, Handler, Role }) => {
      if (refusals-- > 0) throw new InvalidParameterValueException({ message: 'The role defined for the function cannot be assumed by Lambda.', $metadata: { httpStatusCode: 400 } });
      world.fn = { sha: `sha-of-${Code!.S3Key}`, revision: 1, updating: 0, created: true, versions: [], handler: Handler!, role: Role! };
      return { CodeSha256: world.fn.sha };
    });
    await host({ site: { role: SITE_ROLE, roleFor } }).publish({ projectId: 'web', deploymentId: 'd1', artifactDir: `file://${localArtifact()}` });
    expect(lam.commandCalls(CreateFunctionCommand).map((c) => c.args[0].input.Role)).toEqual([own, own, own]);
    expect(slept.filter((ms) => ms === 2000)).toHaveLength(2);
    expect(world.fn!.versions).toEqual([expect.objectContaining({ Role: own, Description: 'shiplog:d1' })]);
    expect(new Set(asked)).toEqual(new Set(['web']));

    resetFakes();
    world.fn = { sha: 'sha-0', revision: 1, updating: 0, created: false, versions: [] }; // made with the shared role
    await host({ site: { role: SITE_ROLE, roleFor } }).publish({ projectId: 'web', deploymentId: 'd2', artifactDir: s3Artifact('d2') });
    expect(lam.commandCalls(UpdateFunctionConfigurationCommand).map((c) => c.args[0].input.Role)).toEqual([own]);
    expect(world.fn.versions).toEqual([expect.objectContaining({ Role: own, Description: 'shiplog:d2' })]);
  });

  it('refuses what is not an OpenNext output', async () => {
    await expect(host().publish({ projectId: 'web', deploymentId: 'd1', artifactDir: 's3://shiplog-artifacts/artifacts/web/none/' })).rejects.toBeInstanceOf(DeploymentNotPublishedError);
  });
});

describe('world.aliases', () => {
  const published = (d: string, version: string) => world.objects.set(`${SITES}/sites/web/.published/${d}.json`, { body: Buffer.from(JSON.stringify({ assets: 1, functionVersion: version })) });
  beforeEach(() => {
    world.fn = { sha: 's', revision: 1, updating: 0, created: false, versions: [{ Version: '2', Description: 'shiplog:d0' }, { Version: '3', Description: 'shiplog:d1' }] };
    published('d0', '2');
    published('d1', '3');
  });

  it('creates the alias the first time, described with its deployment', async () => {
    await host().shiftAlias({ projectId: 'web', alias: 'production', deploymentId: 'd1' });
    expect(lam.commandCalls(CreateAliasCommand)[0]!.args[0].input).toEqual({ FunctionName: FN, Name: 'production', FunctionVersion: '3', Description: 'shiplog:d1' });
  });

  it('shifts conditionally on RevisionId, and re-reads and retries when another writer moved it', async () => {
    world.aliases.set('production', { Name: 'production', FunctionVersion: '2', Description: 'shiplog:d0', RevisionId: 'a-1' });
    let raced = false;
    lam.on(GetAliasCommand).callsFake(async ({ Name }) => {
      const seen = { ...world.aliases.get(Name)! };
      if (!raced) { raced = true; world.aliases.set(Name, { ...seen, FunctionVersion: '4', Description: 'shiplog:d9', RevisionId: 'a-2' }); }
      return seen;
    });
    await host().shiftAlias({ projectId: 'web', alias: 'production', deploymentId: 'd1' });
    expect(lam.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input.RevisionId)).toEqual(['a-1', 'a-2']);
    expect(world.aliases.get('production')).toMatchObject({ FunctionVersion: '3', Description: 'shiplog:d1' });
  });

  it('updates an alias created concurrently, and does nothing when it already points there', async () => {
    lam.on(CreateAliasCommand).callsFake(async ({ Name }) => {
      world.aliases.set(Name, { Name, FunctionVersion: '2', Description: 'shiplog:d0', RevisionId: 'a-7' });
      throw conflict(`Alias already exists: ${Name}`);
    });
    const h = host();
    await h.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: 'd1' });
    expect(lam.commandCalls(UpdateAliasCommand)[0]!.args[0].input).toMatchObject({ RevisionId: 'a-7', FunctionVersion: '3' });
    lam.resetHistory();
    await h.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: 'd1' });
    expect(lam.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it('refuses a deployment that was never published', async () => {
    await expect(host().shiftAlias({ projectId: 'web', alias: 'production', deploymentId: 'nope' })).rejects.toBeInstanceOf(DeploymentNotPublishedError);
    expect(lam.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it('maps an alias back to its deployment, from its description or its version\'s', async () => {
    const h = host();
    expect(await h.aliasTarget('web', 'production')).toBeUndefined();
    await h.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: 'd1' });
    expect(await h.aliasTarget('web', 'production')).toBe('d1');
    world.aliases.set('production', { Name: 'production', FunctionVersion: '2', RevisionId: 'a-9' }); // moved by hand
    expect(await h.aliasTarget('web', 'production')).toBe('d0');
  });

  it('turns throttling into a retryable error', async () => {
    lam.on(GetAliasCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', Type: 'User', Reason: 'CallerRateLimitExceeded', $metadata: { httpStatusCode: 429 } }));
    await expect(host().aliasTarget('web', 'production')).rejects.toSatisfy((e: unknown) => e instanceof SiteHostBusyError && e.retryable);
  });
});

describe('urls and code packaging', () => {
  it('gives host-based URLs behind CloudFront', () => {
    expect(host().urls({ projectId: 'web', deploymentId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ' })).toEqual({
      deployment: 'https://01jd2z8j6x3q4r5s6t7v8w9xyz-web.sites.example.com', production: 'https://web.sites.example.com',
    });
  });

  it('zips a directory into an archive any unzip reads, byte for byte the same each time', () => {
    const entries = [{ name: 'index.mjs', data: Buffer.from('export const handler = 1;\n'.repeat(50)), mode: 0o644 }, { name: 'bin/run', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 }];
    const zip = zipFiles(entries);
    expect(zipFiles(entries)).toEqual(zip);
    const end = zip.length - 22;
    expect([zip.readUInt32LE(end), zip.readUInt16LE(end + 10)]).toEqual([0x06054b50, 2]);
    const size = zip.readUInt32LE(18);
    const nameLength = zip.readUInt16LE(26);
    expect(inflateRawSync(zip.subarray(30 + nameLength, 30 + nameLength + size)).toString()).toBe(entries[0]!.data.toString());
    const file = join(work, 'code.zip');
    writeFileSync(file, zip);
    let listing: string;
    try { listing = execFileSync('unzip', ['-Z', file], { encoding: 'utf8' }); } catch { return; } // no unzip here: the byte checks above stand
    expect(listing).toMatch(/-rw-r--r--.*index\.mjs/);
    expect(listing).toMatch(/-rwxr-xr-x.*bin\/run/);
    expect(execFileSync('unzip', ['-tq', file], { encoding: 'utf8' })).toMatch(/No errors/);
  });
});
