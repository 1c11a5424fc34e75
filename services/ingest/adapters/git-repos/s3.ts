import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Commit } from '../../../../events/index.ts';
import type { GitRepos } from '../../ports.ts';

/**
 * A project's sources on AWS, where shiplog hosts no git repositories: an uploaded source
 * (`shiplog deploy`) is kept as `sources/<project>/<sha>.zip` in the artifacts bucket, where
 * the AWS build service points CodeBuild (`awsBuild`'s `repoFor`), with its commit beside it as
 * `<sha>.json`. The sha names the archive, its message, author and time, as a git commit's
 * does, so two uploads of the same files are two commits. Branches, refs and ancestry do not
 * exist here: `resolveRef` finds nothing and `isAncestor` is false.
 *
 * @example
 * const repos = s3SourceRepos({ s3: new S3Client({}), bucket: 'shiplog-prod-artifacts' });
 * const sha = await repos.importArchive!('web', zip, { message: 'shiplog deploy', author: 'token:ci' });
 */
export const s3SourceRepos = ({ s3, bucket, now = () => new Date() }: { s3: S3Client; bucket: string; now?: () => Date }): GitRepos => {
  const key = (projectId: string, sha: string, ext: 'zip' | 'json') => `sources/${projectId}/${sha}.${ext}`;
  return {
    create: async () => {},
    exists: async () => false,
    resolveRef: async () => null,
    isAncestor: async () => false,
    cloneUrl: (projectId) => `s3://${bucket}/sources/${projectId}/`,
    readCommit: async (projectId, sha) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key(projectId, sha, 'json') }));
      return Commit.parse(JSON.parse(await res.Body!.transformToString()));
    },
    importArchive: async (projectId, zip, meta) => {
      const timestamp = now().toISOString();
      const sha = createHash('sha1').update(zip).update(`\0${meta.message}\0${meta.author}\0${timestamp}`).digest('hex');
      const commit: Commit = { sha, message: meta.message.slice(0, 4096), author: { name: meta.author, email: 'deploy@shiplog' }, timestamp };
      // The archive first: a commit record never names a source that is not there.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key(projectId, sha, 'zip'), Body: zip, ContentType: 'application/zip' }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key(projectId, sha, 'json'), Body: JSON.stringify(commit), ContentType: 'application/json' }));
      return sha;
    },
  };
};
