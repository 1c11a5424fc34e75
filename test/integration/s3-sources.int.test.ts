import { execFileSync } from 'node:child_process';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../infra/aws-box/moto.ts';
import { s3SourceRepos } from '../../services/ingest/adapters/git-repos/s3.ts';
import { s3SourceUploads, uploadKey } from '../../services/ingest/adapters/source-uploads/s3.ts';

// `shiplog deploy` on AWS against moto's S3: the archive PUT to a presigned URL (its length and
// type signed in), read back and forgotten; kept as sources/<project>/<sha>.zip with its commit
// beside it, where CodeBuild takes its S3 source from.

let moto: Moto;
let s3: S3Client;
const bucket = 'shiplog-test-artifacts';
const zip = execFileSync('zip', ['-q', '-X', '-', 'package.json'], { cwd: process.cwd() });
const upload = '01JE0000000000000000000001';

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: BOX_REGION } }));
}, 60_000);
afterAll(async () => moto?.stop());

describe('s3SourceUploads', () => {
  const uploads = () => s3SourceUploads({ s3, bucket, now: () => Date.parse('2026-12-04T10:00:00Z') });

  it('presigns a PUT of exactly the announced length under uploads/<project>/, then reads it back and forgets it', async () => {
    const { url, headers, expiresAt } = await uploads().presign('web', upload, zip.length);
    const signed = new URL(url);
    expect(signed.pathname).toBe(`/${bucket}/${uploadKey('web', upload)}`);
    expect(signed.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    expect(signed.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(headers).toEqual({ 'content-type': 'application/zip', 'content-length': String(zip.length) });
    expect(expiresAt).toBe('2026-12-04T10:15:00.000Z');
    expect(await uploads().read('web', upload)).toBeUndefined();

    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': headers['content-type']! }, body: zip });
    expect(put.status).toBe(200);
    expect(Buffer.compare((await uploads().read('web', upload))!, zip)).toBe(0);
    await uploads().remove('web', upload);
    expect(await uploads().read('web', upload)).toBeUndefined();
    await uploads().remove('web', upload); // idempotent
  });
});

describe('s3SourceRepos', () => {
  let clock = Date.parse('2026-12-04T10:00:00Z');
  let repos: ReturnType<typeof s3SourceRepos>;
  beforeAll(() => {
    repos = s3SourceRepos({ s3, bucket, now: () => new Date(clock++) });
  });

  it('keeps an upload as sources/<project>/<sha>.zip with its commit beside it, one commit per upload', async () => {
    const a = await repos.importArchive!('web', zip, { message: 'shiplog deploy of 1 file', author: 'token:ci' });
    const b = await repos.importArchive!('web', zip, { message: 'shiplog deploy of 1 file', author: 'token:ci' });
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(b).not.toBe(a);
    const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `sources/web/${a}.zip` }));
    expect(Buffer.compare(Buffer.from(await stored.Body!.transformToByteArray()), zip)).toBe(0);
    expect(await repos.readCommit('web', a)).toEqual({
      sha: a, message: 'shiplog deploy of 1 file', author: { name: 'token:ci', email: 'deploy@shiplog' }, timestamp: '2026-12-04T10:00:00.000Z',
    });
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sources/web/' }));
    expect(Contents.map((o) => o.Key).sort()).toEqual([`sources/web/${a}.json`, `sources/web/${a}.zip`, `sources/web/${b}.json`, `sources/web/${b}.zip`].sort());
    expect(repos.cloneUrl('web')).toBe(`s3://${bucket}/sources/web/`);
  });

  it('has no repositories, refs or ancestry, and no commit for an unknown sha', async () => {
    expect(await repos.exists('web')).toBe(false);
    expect(await repos.resolveRef('web', 'refs/heads/main')).toBeNull();
    expect(await repos.isAncestor('web', 'a'.repeat(40), 'b'.repeat(40))).toBe(false);
    await expect(repos.readCommit('web', 'f'.repeat(40))).rejects.toThrow(/NoSuchKey|does not exist/);
  });
});
