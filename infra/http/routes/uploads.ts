import { Hono } from 'hono';
import { MAX_UPLOAD_BYTES, type Ingest, type UploadDeploymentInput } from '../../../services/ingest/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';

/** The largest JSON body of an upload: the archive base64-encoded (4 bytes per 3), plus room for the rest. */
export const UPLOAD_JSON_BYTES = Math.ceil(MAX_UPLOAD_BYTES / 3) * 4 + 64 * 1024;

/**
 * `shiplog deploy` through the API (the local runtime):
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/projects/:project/deployments` | `{ archive, target?, branch?, message? }`: `archive` is a base64 zip of the source; records it and requests its deployment (202) |
 *
 * @example
 * app.route('/', uploadRoutes({ ingest, actorOf }));
 * // curl -H 'authorization: Bearer shp_…' -H 'content-type: application/json' -d '{"archive":"UEsDB…","target":"production"}' …/api/projects/web/deployments
 */
export const uploadRoutes = ({ ingest, actorOf }: { ingest: Pick<Ingest, 'deployUpload'>; actorOf: ActorOf }) => {
  const app = new Hono<ApiEnv>();
  app.post('/api/projects/:project/deployments', async (c) => {
    const { archive, ...rest } = (await readJson(c, UPLOAD_JSON_BYTES)) as { archive?: unknown } & UploadDeploymentInput;
    if (typeof archive !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(archive)) throw new HttpError(400, 'archive must be a base64 zip of the source');
    return json(c, 202, await ingest.deployUpload(c.req.param('project'), Buffer.from(archive, 'base64'), rest, actorOf(c.req)));
  });
  return app;
};
