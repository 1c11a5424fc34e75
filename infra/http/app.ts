import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { Actor } from '../../events/index.ts';
import type { AccessCommands } from '../../services/access/index.ts';
import type { DomainCommands } from '../../services/domains/index.ts';
import type { ReleaseExpected } from '../../services/deploy/index.ts';
import { ingestCommands, localUser, type Ingest, gitPushes, GITHUB_MAX_PAYLOAD_BYTES, githubWebhooks } from '../../services/ingest/index.ts';
import type { GitRepos, Ids, IngestDeps, ProjectFinder } from '../../services/ingest/index.ts';
import type { SubscriptionCommands } from '../../services/subscriptions/index.ts';
import { actorOfPrincipal, hostCheck, principalOf, requireToken, type ApiGuard } from './auth.ts';
import { answerError } from './errors.ts';
import { json } from './json.ts';
import { rejectMalformedPaths } from './paths.ts';
import { deploymentRoutes, type DeploymentRouteDeps } from './routes/deployments.ts';
import { domainRoutes } from './routes/domains.ts';
import { eventRoutes, type EventRouteDeps } from './routes/events.ts';
import { gitRoutes, type GitRemoteOptions } from './routes/git.ts';
import { mountRoutes } from './routes/mounts.ts';
import { observabilityRoutes } from './routes/observability.ts';
import type { ObservabilityCommands } from '../../services/observability/index.ts';
import { projectRoutes } from './routes/projects.ts';
import { subscriptionRoutes } from './routes/subscriptions.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookRoutes } from './routes/webhooks.ts';

/**
 * The API's Hono environment. Served by `@hono/node-server`, `c.env` holds Node's own request
 * and response (only the git remote uses them); on Lambda it holds the event instead.
 */
export type ApiEnv = { Bindings: Partial<HttpBindings> };

/**
 * Who sent a request, from its headers, for requests no token names (`/api/*` always has one:
 * its actor is the token's, see `auth.ts`).
 *
 * @example
 * const actorOf: ActorOf = (req) => ({ kind: 'user', id: req.header('x-user') ?? 'local' });
 */
export type ActorOf = (req: { header(name: string): string | undefined }) => Actor;

/**
 * The ingest service as the API uses it: its commands, the project finder (webhooks without a
 * project in the URL), and, for the shiplog git remote, its repositories and where they live.
 */
export interface IngestApiDeps {
  commands: Ingest;
  finder: ProjectFinder;
  repos: GitRepos;
  ids: Ids;
  /** The shiplog git remote (Node only); without it the `/git` routes are not served. */
  git?: GitRemoteOptions | undefined;
}

/**
 * What the GitHub webhook routes need: the ingest commands that read a project's webhook secret
 * and record a push, and the project finder for hooks that name no project.
 *
 * @example
 * platformApi({ guard, webhooks: { commands: ingestCommands(deps), finder: storeProjectFinder(store) } });
 */
export interface WebhookApiDeps {
  commands: Pick<Ingest, 'credentials' | 'receivePush'>;
  finder: ProjectFinder;
}

/** Largest request bodies, in bytes. */
export interface ApiLimits {
  /** JSON bodies of ingest, replay and DLQ requests; default 1 MiB. */
  jsonBytes: number;
  /** Webhook deliveries; default 25 MB, GitHub's own cap. */
  webhookBytes: number;
  /** Domain requests; default 16 KiB. */
  domainBytes: number;
  /** Subscription requests; default 64 KiB. */
  subscriptionBytes: number;
}

/**
 * The ports and commands the platform API is built from. Each group is optional: a route group
 * is served only when its service is given.
 *
 * @example
 * platformApi({ ingest: ingestApi(await localIngestDeps(opts)), guard: { verify: tokenVerifier(access), hosts } });
 */
export interface PlatformApiDeps {
  ingest?: IngestApiDeps | undefined;
  /**
   * The GitHub webhook routes alone, for a runtime that serves them without the rest of ingest
   * (the Api function on AWS); when `ingest` is given its own commands and finder serve them.
   */
  webhooks?: WebhookApiDeps | undefined;
  domains?: Pick<DomainCommands, 'add' | 'remove' | 'list'> | undefined;
  subscriptions?: Pick<SubscriptionCommands, 'create' | 'remove' | 'list'> | undefined;
  deployments?: DeploymentRouteDeps | undefined;
  events?: EventRouteDeps | undefined;
  /** Runtime logs, metrics, alarm rules and costs (`routes/observability.ts`). */
  observability?: ObservabilityCommands | undefined;
  /** The API token commands, for `/api/tokens`. */
  access?: Pick<AccessCommands, 'create' | 'list' | 'revoke'> | undefined;
  /**
   * How requests are checked (`auth.ts`): every `/api/*` route needs a bearer token it verifies,
   * and the `Host` must be one the API serves. Required, so no runtime serves an open API.
   */
  guard: ApiGuard;
  /**
   * Told of each valid rollback or promote request before ingest appends it, where the deploy
   * service runs in the API's process (locally: `deployService().expectRelease`, which starts the
   * target's health probe then). Not given on AWS.
   */
  expectRelease?: ((r: ReleaseExpected) => void) | undefined;
  /** Who sent a request when no token names it; default: the local user. */
  actorOf?: ActorOf | undefined;
  limits?: Partial<ApiLimits> | undefined;
  /** What `/healthz` reports: 503 with the unusable parts (`{ ok: false, unavailable: ['database'] }`); default always ok. */
  health?: (() => Promise<{ ok: boolean; unavailable: string[] }>) | undefined;
}

/**
 * The ingest part of {@link PlatformApiDeps} from ingest's ports.
 *
 * @example
 * platformApi({ ingest: ingestApi({ ...deps, git: { projectRoot } }) });
 */
export const ingestApi = (deps: IngestDeps & { git?: GitRemoteOptions | undefined }): IngestApiDeps => ({
  commands: ingestCommands(deps),
  finder: deps.finder,
  repos: deps.repos,
  ids: deps.ids,
  git: deps.git,
});

/**
 * The platform API, written once: the same Hono app runs on Node's http server
 * (`infra/local`, through `@hono/node-server`) and as a Lambda behind API Gateway
 * (`infra/aws/functions/api.ts`). Routes only parse the request, call a service's command or
 * query, and answer; a service's refusal answers its status (`errors.ts`), anything else 500,
 * always as `{ error }`. `GET /healthz` answers 200. Every `/api/*` route needs a bearer token
 * (`guard`, `auth.ts`); webhooks keep their signatures and the git remote its push tokens.
 *
 * @example
 * const app = platformApi({ ingest, domains, subscriptions, deployments, events, access, guard });
 * routeTable(app); // [{ method: 'GET', path: '/healthz' }, …]
 */
export const platformApi = (deps: PlatformApiDeps): Hono<ApiEnv> => {
  const limits: ApiLimits = { jsonBytes: 1 << 20, webhookBytes: GITHUB_MAX_PAYLOAD_BYTES, domainBytes: 16 << 10, subscriptionBytes: 64 << 10, ...deps.limits };
  const fallback = deps.actorOf ?? (() => localUser);
  // The actor of a request is its token's (`token:<name>`, or the dashboard's signed-in user).
  const actorOf: ActorOf = (req) => {
    const principal = principalOf(req);
    return principal ? actorOfPrincipal(principal, req) : fallback(req);
  };
  const app = new Hono<ApiEnv>({ strict: false });
  app.use('*', hostCheck(deps.guard.hosts));
  app.use('*', rejectMalformedPaths);
  app.use('/api/*', requireToken(deps.guard.verify));
  app.get('/healthz', async (c) => {
    const h = deps.health ? await deps.health() : { ok: true, unavailable: [] };
    return json(c, h.ok ? 200 : 503, h.ok ? { ok: true } : h);
  });
  if (deps.deployments) app.route('/', deploymentRoutes(deps.deployments));
  if (deps.events) app.route('/', eventRoutes(deps.events, limits.jsonBytes));
  if (deps.ingest) {
    const { commands: ingest, repos, ids, git } = deps.ingest;
    app.route('/', projectRoutes({ ingest, actorOf, maxBytes: limits.jsonBytes, expectRelease: deps.expectRelease }));
    app.route('/', mountRoutes({ ingest, actorOf, maxBytes: limits.domainBytes }));
    app.route('/', uploadRoutes({ ingest, actorOf }));
    if (git) app.route('/', gitRoutes({ pushes: gitPushes({ ingest, repos, ids }), repos, git }));
  }
  const hooks = deps.ingest ? { commands: deps.ingest.commands, finder: deps.ingest.finder } : deps.webhooks;
  if (hooks) app.route('/', webhookRoutes({ webhooks: githubWebhooks({ ingest: hooks.commands, finder: hooks.finder }), maxBytes: limits.webhookBytes }));
  if (deps.subscriptions) app.route('/', subscriptionRoutes({ commands: deps.subscriptions, actorOf, maxBytes: limits.subscriptionBytes }));
  if (deps.access) app.route('/', tokenRoutes({ access: deps.access, actorOf, maxBytes: limits.domainBytes }));
  if (deps.domains) app.route('/', domainRoutes({ commands: deps.domains, actorOf, maxBytes: limits.domainBytes }));
  if (deps.observability) app.route('/', observabilityRoutes({ commands: deps.observability, actorOf, maxBytes: limits.domainBytes }));
  app.notFound((c) => json(c, 404, { error: `no route for ${c.req.method} ${c.req.path}` }));
  app.onError(answerError);
  return app;
};

/**
 * One route of the API: its method and path pattern.
 *
 * @example
 * { method: 'DELETE', path: '/api/projects/:project/domains/:host' }
 */
export interface ApiRoute {
  method: string;
  path: string;
}

/**
 * Every route an app serves, once each, in declaration order: what a security check walks to
 * assert each one needs a credential.
 *
 * @example
 * routeTable(platformApi(deps)).filter((r) => r.path.startsWith('/git/'));
 */
export const routeTable = (app: Hono<ApiEnv>): ApiRoute[] => {
  const seen = new Set<string>();
  return app.routes
    .filter((r) => r.method !== 'ALL' && !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`))
    .map(({ method, path }) => ({ method, path }));
};
