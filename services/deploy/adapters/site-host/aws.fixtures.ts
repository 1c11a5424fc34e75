import {
  CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient, ListVersionsByFunctionCommand,
  PreconditionFailedException, PublishVersionCommand, ResourceConflictException, ResourceNotFoundException,
  UpdateAliasCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, type AliasConfiguration, type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import {
  CopyObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, NotFound, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * Lambda and S3 for the site host's tests: small stateful fakes behind `aws-sdk-client-mock`
 * that answer with the response and error shapes AWS documents (`ResourceConflictException`
 * while an update is in progress, `PreconditionFailedException` on a stale `RevisionId`,
 * `NoSuchKey` / `NotFound` for missing objects). `world` holds their state; the hooks let a test
 * slip a concurrent deployment in between two calls.
 */

export const [SITES, ARTIFACTS, FN] = ['shiplog-sites', 'shiplog-artifacts', 'shiplog-site-web'];
/** The shared site role the tests' host is made with (`role` unset on a function: this one). */
export const SITE_ROLE = 'arn:aws:iam::123456789012:role/shiplog-site';
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

interface World {
  objects: Map<string, { body: Buffer; cacheControl?: string | undefined; contentType?: string | undefined }>;
  /** `handler` unset: `index.handler`. */
  fn: { sha: string; revision: number; updating: number; created: boolean; versions: FunctionConfiguration[]; handler?: string; role?: string } | undefined;
  aliases: Map<string, AliasConfiguration>;
  onPoll: (() => void) | undefined;
  beforePublish: (() => void) | undefined;
}

/** The fakes' state, reset by {@link resetFakes} before each test. */
export const world: World = { objects: new Map(), fn: undefined, aliases: new Map(), onPoll: undefined, beforePublish: undefined };

export const lam = mockClient(LambdaClient);
export const s3m = mockClient(S3Client);

// S3, as far as the host uses it: objects by `bucket/key`.
const s3Fake = () => {
  const get = (b: string, k: string) => world.objects.get(`${b}/${k}`);
  s3m.on(GetObjectCommand).callsFake(async ({ Bucket, Key }) => {
    const o = get(Bucket, Key);
    if (!o) throw new NoSuchKey({ message: 'The specified key does not exist.', ...meta(404) });
    return { Body: { transformToString: async () => o.body.toString('utf8') } };
  });
  s3m.on(HeadObjectCommand).callsFake(async ({ Bucket, Key }) => {
    if (!get(Bucket, Key)) throw new NotFound({ message: 'Not Found', ...meta(404) });
    return { ContentLength: get(Bucket, Key)!.body.length };
  });
  s3m.on(PutObjectCommand).callsFake(async ({ Bucket, Key, Body, CacheControl, ContentType }) => {
    world.objects.set(`${Bucket}/${Key}`, { body: Buffer.from(Body as Buffer | string), cacheControl: CacheControl, contentType: ContentType });
    return { ETag: '"e"' };
  });
  s3m.on(CopyObjectCommand).callsFake(async ({ Bucket, Key, CopySource, CacheControl, ContentType }) => {
    const source = world.objects.get(decodeURIComponent(CopySource));
    if (!source) throw new NoSuchKey({ message: 'The specified key does not exist.', ...meta(404) });
    world.objects.set(`${Bucket}/${Key}`, { body: source.body, cacheControl: CacheControl, contentType: ContentType });
    return { CopyObjectResult: { ETag: '"e"' } };
  });
  s3m.on(ListObjectsV2Command).callsFake(async ({ Bucket, Prefix }) => {
    const keys = [...world.objects.keys()].filter((k) => k.startsWith(`${Bucket}/${Prefix}`)).map((k) => k.slice(Bucket.length + 1));
    return { Contents: keys.map((Key) => ({ Key, Size: 1 })), KeyCount: keys.length, IsTruncated: false };
  });
};

// Lambda, as far as the host uses it: one function, its versions and world.aliases, updates that take two polls.
const config = (): FunctionConfiguration => ({
  FunctionName: FN, Version: '$LATEST', CodeSha256: world.fn!.sha, RevisionId: `rev-${world.fn!.revision}`, Handler: world.fn!.handler ?? 'index.handler', Role: world.fn!.role ?? SITE_ROLE,
  State: world.fn!.updating > 0 && world.fn!.created ? 'Pending' : 'Active', LastUpdateStatus: world.fn!.updating > 0 ? 'InProgress' : 'Successful',
});
export const conflict = (m: string) => new ResourceConflictException({ message: m, Type: 'User', ...meta(409) });
const notFound = () => new ResourceNotFoundException({ message: `Function not found: arn:aws:lambda:us-east-1:123456789012:function:${FN}`, Type: 'User', ...meta(404) });
const lambdaFake = () => {
  lam.on(UpdateFunctionCodeCommand).callsFake(async ({ S3Key }) => {
    if (!world.fn) throw notFound();
    if (world.fn.updating > 0) throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${FN}`);
    Object.assign(world.fn, { sha: `sha-of-${S3Key}`, revision: world.fn.revision + 1, updating: 2, created: false });
    return config();
  });
  lam.on(CreateFunctionCommand).callsFake(async ({ Code, Handler, Role }) => {
    if (world.fn) throw conflict(`Function already exist: ${FN}`);
    world.fn = { sha: `sha-of-${Code.S3Key}`, revision: 1, updating: 2, created: true, versions: [], ...(Handler ? { handler: Handler } : {}), ...(Role ? { role: Role } : {}) };
    return config();
  });
  lam.on(UpdateFunctionConfigurationCommand).callsFake(async ({ Handler, Role, RevisionId }) => {
    if (!world.fn) throw notFound();
    if (world.fn.updating > 0) throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${FN}`);
    if (RevisionId && RevisionId !== `rev-${world.fn.revision}`) throw new PreconditionFailedException({ message: 'The Revision Id provided does not match the latest Revision Id.', Type: 'User', ...meta(412) });
    Object.assign(world.fn, { revision: world.fn.revision + 1, updating: 2, ...(Handler ? { handler: Handler } : {}), ...(Role ? { role: Role } : {}) });
    return config();
  });
  lam.on(GetFunctionConfigurationCommand).callsFake(async ({ Qualifier }) => {
    if (!world.fn) throw notFound();
    if (Qualifier) return world.fn.versions.find((v) => v.Version === Qualifier) ?? Promise.reject(notFound());
    world.onPoll?.();
    if (world.fn.updating > 0) world.fn.updating -= 1;
    return config();
  });
  lam.on(PublishVersionCommand).callsFake(async ({ CodeSha256, RevisionId, Description }) => {
    world.beforePublish?.();
    if (world.fn!.updating > 0) throw conflict('An update is in progress');
    if (RevisionId !== `rev-${world.fn!.revision}` || CodeSha256 !== world.fn!.sha) throw new PreconditionFailedException({ message: 'The Revision Id provided does not match the latest Revision Id.', Type: 'User', ...meta(412) });
    const v = { ...config(), Version: String(world.fn!.versions.length + 1), Description };
    world.fn!.versions.push(v);
    return v;
  });
  lam.on(ListVersionsByFunctionCommand).callsFake(async ({ Marker }) => {
    const all = [{ ...config(), Description: '' }, ...world.fn!.versions];
    const from = Number(Marker ?? 0);
    return { Versions: all.slice(from, from + 2), ...(from + 2 < all.length ? { NextMarker: String(from + 2) } : {}) };
  });
  lam.on(GetAliasCommand).callsFake(async ({ Name }) => world.aliases.get(Name) ?? Promise.reject(new ResourceNotFoundException({ message: `Cannot find alias arn: ${Name}`, Type: 'User', ...meta(404) })));
  lam.on(CreateAliasCommand).callsFake(async ({ Name, FunctionVersion, Description }) => {
    if (world.aliases.has(Name)) throw conflict(`Alias already exists: ${Name}`);
    world.aliases.set(Name, { Name, FunctionVersion, Description, RevisionId: 'a-1' });
    return world.aliases.get(Name);
  });
  lam.on(UpdateAliasCommand).callsFake(async ({ Name, FunctionVersion, Description, RevisionId }) => {
    const current = world.aliases.get(Name)!;
    if (RevisionId !== current.RevisionId) throw new PreconditionFailedException({ message: 'The Revision Id provided does not match the latest Revision Id.', Type: 'User', ...meta(412) });
    world.aliases.set(Name, { Name, FunctionVersion, Description, RevisionId: `a-${Number(current.RevisionId!.slice(2)) + 1}` });
    return world.aliases.get(Name);
  });
};


/**
 * Empties the fakes and installs them on the mocks.
 *
 * @example
 * beforeEach(resetFakes);
 */
export const resetFakes = () => {
  lam.reset();
  s3m.reset();
  Object.assign(world, { objects: new Map(), fn: undefined, aliases: new Map(), onPoll: undefined, beforePublish: undefined });
  s3Fake();
  lambdaFake();
};
