import { Hono } from 'hono';
import type { DomainCommands } from '../../../services/domains/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { json } from '../json.ts';

/**
 * The routes of the domains service:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/projects/:project/domains` | `{ host, alias = 'production', redirectTo? }`: attach (201; 200 if already attached) |
 * | `GET /api/projects/:project/domains` | the project's domains, with status and the DNS records to create |
 * | `DELETE /api/projects/:project/domains/:host` | detach |
 *
 * An invalid or reserved host answers 400, a host another project holds 409.
 *
 * @example
 * app.route('/', domainRoutes({ commands: domainCommands(deps), actorOf, maxBytes: 16 << 10 }));
 */
export const domainRoutes = ({ commands, actorOf, maxBytes }: { commands: Pick<DomainCommands, 'add' | 'remove' | 'list'>; actorOf: ActorOf; maxBytes: number }) => {
  const app = new Hono<ApiEnv>();
  const base = '/api/projects/:project/domains';
  app.post(base, async (c) => {
    const { created, domain } = await commands.add(c.req.param('project'), await readJson(c, maxBytes), actorOf(c.req));
    return json(c, created ? 201 : 200, domain);
  });
  app.get(base, async (c) => json(c, 200, { domains: await commands.list(c.req.param('project')) }));
  app.delete(`${base}/:host`, async (c) => json(c, 200, await commands.remove(c.req.param('project'), c.req.param('host'), actorOf(c.req))));
  return app;
};
