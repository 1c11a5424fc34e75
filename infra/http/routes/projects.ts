import type { IncomingMessage } from 'node:http';
import { Target, type Actor } from '../../events/index.ts';
import { answeringRefusals, HttpError, readJson, route, sendJson, type Route, type RouteHandler } from '../../infra/local/api/router.ts';
import { ingestCommands, localUser } from './commands.ts';
import { CommandRejectedError } from './errors.ts';
import { GITHUB_MAX_PAYLOAD_BYTES, webhookRoutes } from './http-webhook.ts';
import { gitRemoteRoutes, type GitRemoteOptions } from './http-git.ts';
import { parseInput, PromoteInput, RedeployInput, RollbackInput, type CreateProjectInput, type EnvVarInput, type SettingsInput } from './inputs.ts';
import type { IngestDeps } from './ports.ts';

/**
 * What the ingest routes need: the command ports, plus limits and the git remote.
 *
 * @example
 * const deps: IngestRouteDeps = { ...ingestDeps, git: { projectRoot: join(dataDir, 'git') } };
 */
export interface IngestRouteDeps extends IngestDeps {
  /** Largest webhook body accepted; default 25 MB, GitHub's own cap. */
  webhookMaxBytes?: number;
  /** Largest JSON body of an API request; default 1 MiB. */
  apiMaxBytes?: number;
  /** The shiplog git remote; without it the `/git` routes are not served. */
  git?: GitRemoteOptions;
  /** Who sent an API request; default: the local user. */
  actorOf?: (req: IncomingMessage) => Actor;
}

// Refusals become their HTTP status; everything else stays a 500.
const answering = answeringRefusals(CommandRejectedError);

/**
 * Every route of the ingest service for the local API server:
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/projects` | create a project; answers its credentials once (201) |
 * | `GET /api/projects/:name` | the project, folded from its stream |
 * | `PATCH /api/projects/:name` | change settings |
 * | `POST /api/projects/:name/credentials` | rotate the webhook secret and push token |
 * | `POST /api/projects/:name/env` | set an env var (201, never echoes the value) |
 * | `DELETE /api/projects/:name/env/:key[?target=]` | remove an env var |
 * | `POST /api/projects/:name/rollback` | request a rollback (202) |
 * | `POST /api/deployments/:id/promote`, `…/redeploy` | request a promote or a redeploy (202) |
 * | `POST /webhooks/github[/:project]` | GitHub webhooks |
 * | `GET|POST /git/:project.git/…` | the shiplog git remote |
 *
 * Request bodies are validated with zod; a refusal answers 400 with the issues.
 *
 * @example
 * http.createServer(dispatch(ingestRoutes(deps))).listen(3000);
 */
export const ingestRoutes = (deps: IngestRouteDeps): Route[] => {
  const ingest = ingestCommands(deps);
  const limit = deps.apiMaxBytes ?? 1 << 20;
  const actorOf = deps.actorOf ?? (() => localUser);
  const body = (req: IncomingMessage) => readJson(req, limit);
  const api = (method: string, path: string, handler: RouteHandler) => route(method, path, answering(handler));

  return [
    api('POST', '/api/projects', async ({ req, res }) => sendJson(res, 201, await ingest.createProject((await body(req)) as CreateProjectInput, actorOf(req)))),
    api('GET', '/api/projects/:name', async ({ res, params }) => {
      const project = await ingest.getProject(params.name!);
      if (!project) throw new HttpError(404, `no project "${params.name}"`);
      sendJson(res, 200, project);
    }),
    api('PATCH', '/api/projects/:name', async ({ req, res, params }) => sendJson(res, 200, await ingest.changeSettings(params.name!, (await body(req)) as SettingsInput, actorOf(req)))),
    api('POST', '/api/projects/:name/credentials', async ({ res, params }) => {
      const creds = await ingest.rotateCredentials(params.name!);
      sendJson(res, 200, { ...creds, gitRemoteUrl: await ingest.gitRemoteUrl(params.name!) });
    }),
    api('POST', '/api/projects/:name/env', async ({ req, res, params }) => sendJson(res, 201, await ingest.setEnvVar(params.name!, (await body(req)) as EnvVarInput, actorOf(req)))),
    api('DELETE', '/api/projects/:name/env/:key', async ({ req, res, params, query }) => {
      const target = query.get('target') ?? undefined;
      const t = target === undefined ? undefined : parseInput(Target, target, 'target (production or preview)');
      sendJson(res, 200, { removed: await ingest.removeEnvVar(params.name!, params.key!, t, actorOf(req)) });
    }),
    api('POST', '/api/projects/:name/rollback', async ({ req, res, params }) => {
      const input = parseInput(RollbackInput, await body(req), 'rollback');
      sendJson(res, 202, await ingest.requestRollback(params.name!, { ...input, actor: actorOf(req) }));
    }),
    api('POST', '/api/deployments/:id/promote', async ({ req, res, params }) => {
      const { reason } = parseInput(PromoteInput, await body(req), 'promote');
      sendJson(res, 202, await ingest.requestPromote(params.id!, actorOf(req), reason));
    }),
    api('POST', '/api/deployments/:id/redeploy', async ({ req, res, params }) => {
      const { settings } = parseInput(RedeployInput, await body(req), 'redeploy');
      sendJson(res, 202, await ingest.requestRedeploy(params.id!, actorOf(req), settings));
    }),
    ...webhookRoutes({ ingest, finder: deps.finder, maxBytes: deps.webhookMaxBytes ?? GITHUB_MAX_PAYLOAD_BYTES }).map((r) => ({ ...r, handle: answering(r.handle) })),
    ...(deps.git ? gitRemoteRoutes({ ingest, repos: deps.repos, ids: deps.ids, git: deps.git }).map((r) => ({ ...r, handle: answering(r.handle) })) : []),
  ];
};
