import { Hono } from 'hono';
import type { Ingest } from '../../../services/ingest/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { json } from '../json.ts';

/**
 * Multi-zone: the projects a project serves at path prefixes of its domain (ingest).
 *
 * | route | does |
 * | --- | --- |
 * | `GET /api/projects/:project/mounts` | `{ mounts: [{ prefix, project }] }`, by prefix |
 * | `POST /api/projects/:project/mounts` | `{ prefix, project }`: mount (201; 200 when it was already mounted) |
 * | `DELETE /api/projects/:project/mounts?prefix=/outreach` | unmount (200; 404 when nothing is mounted there) |
 *
 * The prefix goes in the query on DELETE, since it holds slashes. An invalid prefix, or a project
 * mounting itself, answers 400; an unknown project 404; a prefix that overlaps a mount 409.
 *
 * @example
 * app.route('/', mountRoutes({ ingest: ingestCommands(deps), actorOf, maxBytes: 16 << 10 }));
 */
export const mountRoutes = ({ ingest, actorOf, maxBytes }: { ingest: Pick<Ingest, 'addMount' | 'removeMount' | 'listMounts'>; actorOf: ActorOf; maxBytes: number }) => {
  const app = new Hono<ApiEnv>();
  const base = '/api/projects/:project/mounts';
  app.get(base, async (c) => json(c, 200, { mounts: await ingest.listMounts(c.req.param('project')) }));
  app.post(base, async (c) => {
    const { mounts, changed } = await ingest.addMount(c.req.param('project'), (await readJson(c, maxBytes)) as { prefix: string; project: string }, actorOf(c.req));
    return json(c, changed ? 201 : 200, { mounts });
  });
  app.delete(base, async (c) => json(c, 200, await ingest.removeMount(c.req.param('project'), c.req.query('prefix') ?? '', actorOf(c.req))));
  return app;
};
