import type { IncomingMessage } from 'node:http';
import type { Actor } from '../../events/envelope.ts';
import { answeringRefusals, readJson, route, sendJson, type Route } from '../../infra/local/api/router.ts';
import { DomainRequestError, type DomainCommands } from './commands.ts';

export interface DomainRouteDeps {
  commands: Pick<DomainCommands, 'add' | 'remove' | 'list'>;
  /** Who sent a request; default: the local user. */
  actorOf?: (req: IncomingMessage) => Actor;
  /** Largest JSON body; default 16 KiB. */
  maxBytes?: number;
}

const answering = answeringRefusals(DomainRequestError);

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
 * http.createServer(dispatch(domainRoutes({ commands: domainCommands(deps) })));
 */
export const domainRoutes = (deps: DomainRouteDeps): Route[] => {
  const actorOf = deps.actorOf ?? ((): Actor => ({ kind: 'user', id: 'local' }));
  const base = '/api/projects/:project/domains';
  return [
    route('POST', base, answering(async ({ req, res, params }) => {
      const { created, domain } = await deps.commands.add(params.project!, await readJson(req, deps.maxBytes ?? 16 << 10), actorOf(req));
      sendJson(res, created ? 201 : 200, domain);
    })),
    route('GET', base, answering(async ({ res, params }) => sendJson(res, 200, { domains: await deps.commands.list(params.project!) }))),
    route('DELETE', `${base}/:host`, answering(async ({ req, res, params }) =>
      sendJson(res, 200, await deps.commands.remove(params.project!, params.host!, actorOf(req))))),
  ];
};
