import { Hono } from 'hono';
import { Target } from '../../../events/index.ts';
import type { ReleaseExpected } from '../../../services/deploy/index.ts';
import type { Ingest } from '../../../services/ingest/index.ts';
import { parseInput, PromoteInput, RedeployInput, RollbackInput, type CreateProjectInput, type EnvVarInput, type SettingsInput } from '../../../services/ingest/index.ts';
import type { ActorOf, ApiEnv } from '../app.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../errors.ts';
import { json } from '../json.ts';

/**
 * The command side of projects and deployments (the ingest service):
 *
 * | route | does |
 * | --- | --- |
 * | `POST /api/projects` | create a project; answers its credentials once (201) |
 * | `GET /api/projects/:project` | the project, folded from its stream |
 * | `PATCH /api/projects/:project` | change settings |
 * | `POST /api/projects/:project/credentials/rotate` | rotate the webhook secret and push token; the new ones are answered once |
 * | `POST /api/projects/:project/env` | set an env var (201, never echoes the value) |
 * | `DELETE /api/projects/:project/env/:key[?target=]` | remove an env var |
 * | `POST /api/projects/:project/rollback` | request a rollback (202) |
 * | `POST /api/deployments/:id/promote`, `…/redeploy` | request a promote or a redeploy (202) |
 *
 * Request bodies are validated by ingest's zod inputs; a refusal answers its status. A rollback or
 * promote is also told to `expectRelease` (locally, the deploy service: it starts the target's
 * health probe while ingest appends the request).
 *
 * @example
 * app.route('/', projectRoutes({ ingest: ingestCommands(deps), actorOf, maxBytes: 1 << 20 }));
 */
export const projectRoutes = ({ ingest, actorOf, maxBytes, expectRelease }: { ingest: Ingest; actorOf: ActorOf; maxBytes: number; expectRelease?: ((r: ReleaseExpected) => void) | undefined }) => {
  const app = new Hono<ApiEnv>();
  const body = (c: Parameters<typeof readJson>[0]) => readJson(c, maxBytes);

  app.post('/api/projects', async (c) => json(c, 201, await ingest.createProject((await body(c)) as CreateProjectInput, actorOf(c.req))));
  app.get('/api/projects/:project', async (c) => {
    const name = c.req.param('project');
    const project = await ingest.getProject(name);
    if (!project) throw new HttpError(404, `no project "${name}"`);
    return json(c, 200, project);
  });
  app.patch('/api/projects/:project', async (c) => json(c, 200, await ingest.changeSettings(c.req.param('project'), (await body(c)) as SettingsInput, actorOf(c.req))));
  app.post('/api/projects/:project/credentials/rotate', async (c) => {
    const name = c.req.param('project');
    const creds = await ingest.rotateCredentials(name);
    return json(c, 200, { ...creds, gitRemoteUrl: await ingest.gitRemoteUrl(name) });
  });
  app.post('/api/projects/:project/env', async (c) => json(c, 201, await ingest.setEnvVar(c.req.param('project'), (await body(c)) as EnvVarInput, actorOf(c.req))));
  app.delete('/api/projects/:project/env/:key', async (c) => {
    const target = c.req.query('target');
    const t = target === undefined ? undefined : parseInput(Target, target, 'target (production or preview)');
    return json(c, 200, { removed: await ingest.removeEnvVar(c.req.param('project'), c.req.param('key'), t, actorOf(c.req)) });
  });
  app.post('/api/projects/:project/rollback', async (c) => {
    const input = parseInput(RollbackInput, await body(c), 'rollback');
    expectRelease?.({ kind: 'rollback', projectId: c.req.param('project'), alias: input.alias, to: input.to });
    return json(c, 202, await ingest.requestRollback(c.req.param('project'), { ...input, actor: actorOf(c.req) }));
  });
  app.post('/api/deployments/:id/promote', async (c) => {
    const { reason } = parseInput(PromoteInput, await body(c), 'promote');
    expectRelease?.({ kind: 'promote', deploymentId: c.req.param('id') });
    return json(c, 202, await ingest.requestPromote(c.req.param('id'), actorOf(c.req), reason));
  });
  app.post('/api/deployments/:id/redeploy', async (c) => {
    const { settings, target } = parseInput(RedeployInput, await body(c), 'redeploy');
    return json(c, 202, await ingest.requestRedeploy(c.req.param('id'), actorOf(c.req), settings, target));
  });
  return app;
};
