import { existsSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import {
  CopyObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';

/**
 * Where an object goes, and the headers it is served with.
 *
 * @example
 * const t: ObjectTarget = { bucket: 'shiplog-sites', key: 'sites/web/d1/favicon.ico', contentType: 'image/x-icon' };
 */
export interface ObjectTarget {
  bucket: string;
  key: string;
  cacheControl?: string;
  contentType?: string;
  /** S3 user metadata (served as `x-amz-meta-<name>`). */
  metadata?: Record<string, string>;
}

/**
 * A build's `.open-next` output, wherever it is: an S3 prefix (a CodeBuild artifact) or a
 * directory on this machine. Paths are relative to the output's root, with `/`.
 *
 * @example
 * const source = artifactSource('s3://shiplog-artifacts/artifacts/web/d1/', s3);
 * for (const p of await source.list('assets')) await source.copyTo(p, { bucket, key: `sites/web/d1/${p.slice(7)}` });
 */
export interface ArtifactSource {
  location: string;
  /** Every file under `dir` (recursively). */
  list(dir: string): Promise<string[]>;
  /** A file's text, or undefined when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  copyTo(path: string, target: ObjectTarget): Promise<void>;
  /** The S3 object of a file if the artifact holds it; undefined otherwise. */
  objectOf(path: string): Promise<{ bucket: string; key: string } | undefined>;
  /** A directory of the artifact as a zip (for a Lambda function's code). */
  zip(dir: string): Promise<Buffer>;
}

const isMissing = (err: unknown) => ['NoSuchKey', 'NotFound'].includes((err as Error).name);

const s3Source = (s3: S3Client, bucket: string, prefix: string): ArtifactSource => ({
  location: `s3://${bucket}/${prefix}`,
  async list(dir) {
    const out: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${dir}/`, ContinuationToken }));
      for (const o of res.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) out.push(o.Key.slice(prefix.length));
      ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out;
  },
  async readText(path) {
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + path }));
      return await res.Body?.transformToString('utf8');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  },
  async copyTo(path, t) {
    const headers = t.cacheControl || t.contentType || t.metadata;
    await s3.send(new CopyObjectCommand({
      Bucket: t.bucket, Key: t.key,
      CopySource: `${bucket}/${(prefix + path).split('/').map(encodeURIComponent).join('/')}`,
      // REPLACE drops the source's headers, so the content type is always given with it.
      ...(headers ? { MetadataDirective: 'REPLACE', CacheControl: t.cacheControl, ContentType: t.contentType, ...(t.metadata ? { Metadata: t.metadata } : {}) } : {}),
    }));
  },
  async objectOf(path) {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: prefix + path }));
      return { bucket, key: prefix + path };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  },
  zip: async (dir) => {
    throw new Error(`cannot zip ${dir} of an S3 artifact: the build uploads the function's zip itself`);
  },
});

const walk = async (root: string, dir: string): Promise<{ path: string; abs: string }[]> => {
  const out: { path: string; abs: string }[] = [];
  // Follow symlinks (pnpm's node_modules are made of them), so the copy owns every byte.
  const visit = async (abs: string, seen: ReadonlySet<string>): Promise<void> => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      const s = e.isSymbolicLink() ? await stat(p).catch(() => undefined) : e;
      if (s?.isFile()) out.push({ abs: p, path: relative(root, p).split(sep).join('/') });
      else if (s?.isDirectory()) {
        const real = await realpath(p);
        if (!seen.has(real)) await visit(p, new Set([...seen, real]));
      }
    }
  };
  const start = join(root, dir);
  if (existsSync(start)) await visit(start, new Set([await realpath(start)]));
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
};

const dirSource = (s3: S3Client, root: string): ArtifactSource => ({
  location: root,
  list: async (dir) => (await walk(root, dir)).map((f) => f.path),
  readText: async (path) => (existsSync(join(root, path)) ? readFile(join(root, path), 'utf8') : undefined),
  async copyTo(path, t) {
    await s3.send(new PutObjectCommand({
      Bucket: t.bucket, Key: t.key, Body: await readFile(join(root, path)),
      ...(t.cacheControl ? { CacheControl: t.cacheControl } : {}), ...(t.contentType ? { ContentType: t.contentType } : {}),
      ...(t.metadata ? { Metadata: t.metadata } : {}),
    }));
  },
  objectOf: async () => undefined,
  zip: async (dir) => zipFiles(await Promise.all((await walk(root, dir)).map(async (f) => ({
    name: f.path.slice(dir.length + 1), data: await readFile(f.abs), mode: (await stat(f.abs)).mode & 0o777,
  })))),
});

/**
 * The artifact behind a `BuildSucceeded` artifact URI: `s3://bucket/prefix/`, `file:///dir`, or
 * a plain absolute path.
 *
 * @example
 * artifactSource('file:///var/lib/shiplog/builds/d1/artifact', s3).location; // '/var/lib/shiplog/builds/d1/artifact'
 */
export const artifactSource = (uri: string, s3: S3Client): ArtifactSource => {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (m) return s3Source(s3, m[1]!, m[2] && !m[2].endsWith('/') ? `${m[2]}/` : (m[2] ?? ''));
  const dir = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  if (!isAbsolute(dir)) throw new Error(`not an artifact location: ${uri}`);
  return dirSource(s3, dir);
};

/**
 * A zip archive (deflate, no zip64) of the given files, with Unix permissions, every entry
 * dated 1980-01-01 so the same files give the same bytes (and the same Lambda `CodeSha256`).
 *
 * @example
 * zipFiles([{ name: 'index.mjs', data: Buffer.from('export const handler = () => 1;'), mode: 0o644 }]);
 */
export const zipFiles = (files: { name: string; data: Buffer; mode: number }[]): Buffer => {
  if (files.length > 0xffff) throw new Error(`${files.length} files are more than a zip without zip64 holds`);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const packed = deflateRawSync(f.data);
    const common = (b: Buffer, at: number) => {
      b.writeUInt16LE(20, at); // version needed: 2.0
      b.writeUInt16LE(0x0800, at + 2); // names are UTF-8
      b.writeUInt16LE(8, at + 4); // deflate
      b.writeUInt32LE(0x00210000, at + 6); // 00:00:00, 1980-01-01
      b.writeUInt32LE(crc32(f.data), at + 10);
      b.writeUInt32LE(packed.length, at + 14);
      b.writeUInt32LE(f.data.length, at + 18);
      b.writeUInt16LE(name.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    common(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0
    common(central, 6);
    central.writeUInt32LE(((0o100000 | f.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
};
