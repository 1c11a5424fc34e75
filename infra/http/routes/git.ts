import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import type { gitPushes, GitRepos } from '../../../services/ingest/index.ts';
import { ProjectName } from '../../../services/ingest/index.ts';
import type { ApiEnv } from '../app.ts';
import { HttpError } from '../errors.ts';
import { serveGitHttp } from '../git-http-backend.ts';
import { json } from '../json.ts';

/**
 * Where the shiplog git remote keeps its repositories and how much it buffers.
 *
 * @example
 * const git: GitRemoteOptions = { projectRoot: join(dataDir, 'git') };
 */
export interface GitRemoteOptions {
  /** The directory holding `<project>.git` (`<dataDir>/git`). */
  projectRoot: string;
  /** `GIT_HTTP_MAX_REQUEST_BUFFER` (default 10M). */
  maxRequestBuffer?: string;
  onError?: (err: unknown) => void;
}

// Smart HTTP only: the dumb protocol's file paths are never served.
const SERVICES = new Set(['info/refs', 'git-upload-pack', 'git-receive-pack']);

const basicAuth = (header: string | undefined): { user: string; password: string } | undefined => {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
};

const challenge = (c: Context, message: string): Response =>
  c.body(`${message}\n`, 401, { 'www-authenticate': 'Basic realm="shiplog"', 'content-type': 'text/plain; charset=utf-8' });

/**
 * The shiplog git remote: `GET|POST /git/:repo/*` (`<project>.git/` + `info/refs`,
 * `git-upload-pack` or `git-receive-pack`) through `git http-backend`, behind HTTP Basic auth
 * with the project's push token as password (any user name); ingest records what a push moved
 * and its lines reach the pusher's terminal. Node only: the request body streams into the
 * backend and its output streams back through Node's own request and response
 * (`c.env.incoming`/`outgoing` of `@hono/node-server`).
 *
 * @example
 * app.route('/', gitRoutes({ pushes: gitPushes({ ingest, repos, ids }), repos, git: { projectRoot } }));
 */
export const gitRoutes = ({ pushes, repos, git }: { pushes: ReturnType<typeof gitPushes>; repos: Pick<GitRepos, 'exists'>; git: GitRemoteOptions }) => {
  const app = new Hono<ApiEnv>();
  const handle = async (c: Context<ApiEnv, '/git/:repo/*'>) => {
    const projectId = c.req.param('repo').replace(/\.git$/, '');
    const service = c.req.path.split('/').filter(Boolean).slice(2).join('/');
    if (!ProjectName.safeParse(projectId).success || !SERVICES.has(service)) return json(c, 404, { error: 'not a shiplog git repository' });
    const auth = basicAuth(c.req.header('authorization'));
    if (!auth) return challenge(c, 'shiplog: authentication required: use the push token as the password');
    if (!(await pushes.mayPush(projectId, auth.password))) return challenge(c, 'shiplog: wrong push token for this project');
    if (!(await repos.exists(projectId))) return json(c, 404, { error: `project ${projectId} has no git repository` });
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) throw new HttpError(501, 'the git remote is served only by the Node server');
    const pusher = pushes.pusherName(auth.user);
    try {
      await serveGitHttp(incoming, outgoing, {
        projectRoot: git.projectRoot,
        pathInfo: `/${projectId}.git/${service}`,
        remoteUser: pusher,
        ...(git.maxRequestBuffer ? { maxRequestBuffer: git.maxRequestBuffer } : {}),
        ...(git.onError ? { onError: git.onError } : {}),
        afterReceive: (updates, report) => pushes.record(projectId, pusher, updates, report),
      });
    } catch (err) {
      if (!outgoing.headersSent) throw err;
      outgoing.end();
    }
    return RESPONSE_ALREADY_SENT;
  };
  app.get('/git/:repo/*', handle);
  app.post('/git/:repo/*', handle);
  return app;
};
