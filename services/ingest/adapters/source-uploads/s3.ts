import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SourceUploads } from '../../ports.ts';

/** How long a presigned upload URL stays valid. */
export const UPLOAD_URL_SECONDS = 15 * 60;

/**
 * The object key of an upload: `uploads/<project>/<id>.zip` (the artifacts bucket expires the
 * prefix, so an upload nobody deploys is not kept; `infra/aws/storage.ts`).
 *
 * @example
 * uploadKey('web', '01JE0000000000000000000001'); // 'uploads/web/01JE0000000000000000000001.zip'
 */
export const uploadKey = (projectId: string, uploadId: string): string => `uploads/${projectId}/${uploadId}.zip`;

/**
 * `shiplog deploy`'s archives on AWS: a presigned `PutObject` of exactly the announced size (the
 * length is signed, so S3 refuses another), read back by the API when the deployment is asked for.
 *
 * @example
 * const uploads = s3SourceUploads({ s3: new S3Client({}), bucket: 'shiplog-prod-artifacts' });
 */
export const s3SourceUploads = ({ s3, bucket, now = () => Date.now() }: { s3: S3Client; bucket: string; now?: () => number }): SourceUploads => ({
  presign: async (projectId, uploadId, bytes) => {
    const put = new PutObjectCommand({ Bucket: bucket, Key: uploadKey(projectId, uploadId), ContentLength: bytes, ContentType: 'application/zip' });
    const url = await getSignedUrl(s3, put, { expiresIn: UPLOAD_URL_SECONDS, signableHeaders: new Set(['content-length', 'content-type']) });
    return { url, headers: { 'content-type': 'application/zip', 'content-length': String(bytes) }, expiresAt: new Date(now() + UPLOAD_URL_SECONDS * 1000).toISOString() };
  },
  read: async (projectId, uploadId) => {
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: uploadKey(projectId, uploadId) }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (err instanceof NoSuchKey || (err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  },
  remove: async (projectId, uploadId) => {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: uploadKey(projectId, uploadId) }));
  },
});
