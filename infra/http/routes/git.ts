import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { route, sendJson, type Route, type RouteRequest } from '../../infra/local/api/router.ts';
import { serveGitHttp } from './adapters/local/git-http-backend.ts';
import type { RefUpdate } from './adapters/local/pkt-line.ts';
import type { Ingest, PushOutcome } from './commands.ts';
import type { GitRepos, Ids } from './ports.ts';
import { branchOf, isZeroSha, ProjectName } from './rules.ts';

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

const basicAuth = (req: IncomingMessage): { user: string; password: string } | undefined => {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(String(req.headers.authorization ?? ''));
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
};

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const challenge = (res: ServerResponse, message: string): void => {
  res.writeHead(401, { 'www-authenticate': 'Basic realm="shiplog"', 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
};

const describe = (o: PushOutcome, ref: string): string => {
  switch (o.status) {
    case 'deploying':
      return `shiplog: ${o.target} deployment ${o.deploymentId} requested for ${o.branch} (${o.sha.slice(0, 7)}) -> ${o.alias}`;
    case 'ignored':
      return `shiplog: ${ref} not deployed (${o.reason}${o.detail ? `: ${o.detail}` : ''})`;
    case 'duplicate':
      return `shiplog: ${ref} was already recorded`;
  }
};

/**
 * The shiplog git remote: `GET|POST /git/:project.git/(info/refs|git-upload-pack|git-receive-pack)`
 * through `git http-backend`, behind HTTP Basic auth with the project's push token as password
 * (any user name). After a push, every ref it moved is recorded exactly as a GitHub webhook
 * push would be (`PushReceived`, then `DeploymentRequested` or `PushIgnored`), with the commit's
 * message and author read from the repository, and the outcome is printed on the pusher's terminal.
 *
 * @example
 * const routes = gitRemoteRoutes({ ingest, repos, ids, git: { projectRoot: join(dataDir, 'git') } });
 */
export const gitRemoteRoutes = ({ ingest, repos, ids, git }: { ingest: Ingest; repos: GitRepos; ids: Ids; git: GitRemoteOptions }): Route[] => {
  const recordPush = async (projectId: string, pusher: string, updates: RefUpdate[], report: Map<string, string> | undefined): Promise<string[]> => {
    const lines: string[] = [];
    const repository = { source: 'git' as const, fullName: projectId, cloneUrl: repos.cloneUrl(projectId) };
    for (const u of updates) {
      // Only refs the push really moved: receive-pack may have refused some. Without a report, the ref itself says.
      const moved = report ? report.get(u.ref) === 'ok' : (await repos.resolveRef(projectId, u.ref)) === (isZeroSha(u.after) ? null : u.after);
      if (!moved) continue;
      const created = isZeroSha(u.before);
      const deleted = isZeroSha(u.after);
      const push = {
        deliveryId: ids(),
        source: 'git' as const,
        repository: projectId,
        ref: u.ref,
        branch: branchOf(u.ref),
        before: u.before,
        after: u.after,
        headCommit: deleted ? null : await repos.readCommit(projectId, u.after),
        pusher: { name: pusher },
        forced: !created && !deleted && !(await repos.isAncestor(projectId, u.before, u.after)),
      };
      lines.push(describe(await ingest.receivePush(projectId, push, { actor: { kind: 'git', id: pusher }, repository }), u.ref));
    }
    return lines;
  };

  const handle = async ({ req, res, params }: RouteRequest): Promise<void> => {
    const projectId = params.repo!.replace(/\.git$/, '');
    const service = params['*'] ?? '';
    if (!ProjectName.safeParse(projectId).success || !SERVICES.has(service)) return sendJson(res, 404, { error: 'not a shiplog git repository' });
    const auth = basicAuth(req);
    if (!auth) return challenge(res, 'shiplog: authentication required: use the push token as the password');
    const creds = await ingest.credentials(projectId);
    if (!creds || !sameSecret(auth.password, creds.pushToken)) return challenge(res, 'shiplog: wrong push token for this project');
    if (!(await repos.exists(projectId))) return sendJson(res, 404, { error: `project ${projectId} has no git repository` });
    // The user name is the pusher's own claim (the token is per project): kept printable and short.
    const pusher = [...auth.user].filter((c) => c >= ' ' && c !== '\x7f').join('').slice(0, 100) || 'git';
    await serveGitHttp(req, res, {
      projectRoot: git.projectRoot,
      pathInfo: `/${projectId}.git/${service}`,
      remoteUser: pusher,
      ...(git.maxRequestBuffer ? { maxRequestBuffer: git.maxRequestBuffer } : {}),
      ...(git.onError ? { onError: git.onError } : {}),
      afterReceive: (updates, report) => recordPush(projectId, pusher, updates, report),
    });
  };
  return [route('GET', '/git/:repo/*', handle), route('POST', '/git/:repo/*', handle)];
};
