import { Hono } from 'hono';
import { MAX_UPLOAD_BYTES, type Ingest, type UploadDeploymentInput, type UploadRequestInput } from '../../../services/ingest/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';

/** The largest JSON body of an upload: the archive base64-encoded (4 bytes per 3), plus room for the rest. */
export const UPLOAD_JSON_BYTES = Math.ceil(MAX_UPLOAD_BYTES / 3) * 4 + 64 * 1024;

/**
 * `shiplog deploy` through the API, on either runtime:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/projects/:project/uploads` | `{ bytes }`: how to send an archive of that size: on AWS `{ method: 'PUT', upload, url, headers, expiresAt }` (a presigned S3 URL), locally `{ method: 'inline' }` (in the deployment request) |
 * | `POST /api/projects/:project/deployments` | `{ archive \| upload, target?, branch?, message? }`: `archive` is a base64 zip of the source, `upload` the id of one PUT as above; records it and requests its deployment (202) |
 *
 * @example
 * app.route('/', uploadRoutes({ ingest, actorOf }));
 * // curl -H 'authorization: Bearer shp_…' -H 'content-type: application/json' -d '{"archive":"UEsDB…","target":"production"}' …/api/projects/web/deployments
 */
export const uploadRoutes = ({ ingest, actorOf }: { ingest: Pick<Ingest, 'deployUpload' | 'deployUploaded' | 'requestUpload'>; actorOf: ActorOf }) => {
  const app = new Hono<ApiEnv>();
  app.post('/api/projects/:project/uploads', async (c) =>
    json(c, 200, await ingest.requestUpload(c.req.param('project'), (await readJson(c, 4096)) as UploadRequestInput)));
  app.post('/api/projects/:project/deployments', async (c) => {
    const { archive, upload, ...rest } = (await readJson(c, UPLOAD_JSON_BYTES)) as { archive?: unknown; upload?: unknown } & UploadDeploymentInput;
    const project = c.req.param('project');
    if (archive !== undefined && upload !== undefined) throw new HttpError(400, 'give archive or upload, not both');
    if (upload !== undefined) {
      if (typeof upload !== 'string') throw new HttpError(400, 'upload must be the id POST /uploads gave');
      return json(c, 202, await ingest.deployUploaded(project, upload, rest, actorOf(c.req)));
    }
    if (typeof archive !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(archive)) throw new HttpError(400, 'archive must be a base64 zip of the source');
    return json(c, 202, await ingest.deployUpload(project, Buffer.from(archive, 'base64'), rest, actorOf(c.req)));
  });
  return app;
};
