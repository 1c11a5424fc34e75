import { Hono } from 'hono';
import type { AccessCommands } from '../../../services/access/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { principalOf } from '../auth.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';

/**
 * The API token routes (the access service); managing tokens needs an `admin` token:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/tokens` | `{ name, kind? }` (`user` default, `admin`, `dashboard`): a new token, shown once (201) |
 * | `GET /api/tokens` | every token (revoked ones too): id, name, kind, prefix, dates; never a hash |
 * | `DELETE /api/tokens/:token` | revoke a token by id or name |
 * | `GET /api/whoami` | (any token) the caller's token name and kind, and the actor it records |
 *
 * @example
 * app.route('/', tokenRoutes({ access: accessCommands(deps), actorOf, maxBytes: 16 << 10 }));
 */
export const tokenRoutes = ({ access, actorOf, maxBytes }: { access: Pick<AccessCommands, 'create' | 'list' | 'revoke'>; actorOf: ActorOf; maxBytes: number }) => {
  const app = new Hono<ApiEnv>();
  app.use('/api/tokens', async (c, next) => {
    if (principalOf(c.req)?.kind !== 'admin') throw new HttpError(403, 'managing tokens needs an admin token');
    await next();
  });
  app.use('/api/tokens/*', async (c, next) => {
    if (principalOf(c.req)?.kind !== 'admin') throw new HttpError(403, 'managing tokens needs an admin token');
    await next();
  });
  app.post('/api/tokens', async (c) => {
    const input = (await readJson(c, maxBytes)) as { name?: unknown; kind?: unknown };
    const { token, record } = await access.create(input, actorOf(c.req).id);
    return json(c, 201, { ...record, token });
  });
  app.get('/api/whoami', (c) => {
    const p = principalOf(c.req);
    if (!p) throw new HttpError(401, 'no token');
    return json(c, 200, { tokenId: p.tokenId, name: p.name, kind: p.kind, actor: actorOf(c.req) });
  });
  app.get('/api/tokens', async (c) => json(c, 200, { tokens: await access.list() }));
  app.delete('/api/tokens/:token', async (c) => json(c, 200, await access.revoke(c.req.param('token'), actorOf(c.req).id)));
  return app;
};
