import type { RequestOutcome, ServedRequest } from '../../services/observability/index.ts';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { siteLayout } from '../../services/deploy/adapters/site-host/local.ts';
import { assetPrefixOf } from '../../services/deploy/adapters/site-host/open-next-output.ts';
import { EventBodyTooLargeError, maxEventBodyBytes, readEventBody, toApiGatewayV2Event, toNodeHeaders, writeApiGatewayV2Result } from './sites/apigw.ts';
import { FunctionInvocationError, functionPool } from './sites/function-pool.ts';
import { parseSiteAddress, parseSiteHost, type SiteAddress } from './sites/host.ts';
import { malformedSiteRequest } from './sites/request-checks.ts';
import { siteFetch } from './sites/site-fetch.ts';
import { varyWithEncoding } from './sites/compression.ts';
import { mountedSite, type MountsOf } from './mounts.ts';
import { ProjectId } from '../../events/index.ts';
import { behaviorMatcher, serveAsset, type Behavior } from './sites/static-files.ts';

/**
 * Options of {@link startSiteRouter}. `envFor` gives a deployment's runtime variables; it is
 * asked when the deployment's function environment starts, not per request.
 *
 * @example
 * startSiteRouter({ port: 3001, dataDir: '.shiplog', envFor: async (projectId, deploymentId) => env.resolve(projectId, deploymentId) });
 */
export interface SiteRouterOptions {
  port: number;
  dataDir: string;
  envFor: (projectId: string, deploymentId: string) => Promise<Record<string, string>>;
  /** Interface to listen on; 127.0.0.1 by default (browsers resolve `*.localhost` to loopback). */
  hostname?: string;
  domain?: string;
  /** Stop a deployment's function after this long without requests; 5 minutes by default. */
  idleMs?: number;
  invokeTimeoutMs?: number;
  /** Output of the functions, line by line; dropped by default. */
  onFunctionLog?: (functionKey: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** A custom domain's project alias, asked for hosts that are not under `domain`. */
  resolveHost?: (host: string) => Promise<{ projectId: string; alias: string } | undefined>;
  /** A project's mounts (multi-zone): path prefixes of its addresses another project's production serves. */
  mountsOf?: MountsOf;
  /**
   * Observability: told of each request a deployment serves (a function or a static file) as it
   * starts; the function it returns is told how it ended (status, duration, bytes sent).
   */
  observe?: (request: ServedRequest) => (outcome: RequestOutcome) => void;
}

/**
 * A running site router.
 *
 * @example
 * const router = await startSiteRouter({ port: 0, dataDir, envFor });
 * console.log(router.port); await router.close();
 */
export interface SiteRouter {
  port: number;
  /** Keys (`<project>/<deployment>/<origin>`) of the function environments now running. */
  runningFunctions(): string[];
  close(): Promise<void>;
}

interface Version {
  dir: string;
  match: (path: string) => string;
  origins: Record<string, { type: string; bundle?: string; originPath?: string; copy?: { from: string; to: string }[] }>;
  /** The path the version's `assets/` answer under: `''`, or an app's basePath (`/docs`). */
  assetPrefix: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const sendPage = (res: ServerResponse, status: number, title: string, message: string, extra: Record<string, string> = {}) => {
  if (res.headersSent) return void res.destroy();
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${escapeHtml(title)}</title></head>`
    + `<body style="font-family:system-ui;margin:4rem"><h1>${status}: ${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`
    + '<p><small>shiplog local router</small></p></body></html>';
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(html), ...extra });
  res.end(html);
};


/**
 * The local stand-in for CloudFront + API Gateway + Lambda aliases. One HTTP server:
 * `http://<project>.localhost:<port>` serves the project's production alias,
 * `http://<branch>--<project>.localhost:<port>` a preview branch's latest live deployment and
 * `http://<deployment id>-<project>.localhost:<port>` one deployment forever. Each request
 * resolves its deployment once, then follows that version's `open-next.output.json`: static
 * assets from its `assets/`, everything else through its OpenNext functions, each version's in
 * its own Lambda-like child process with that deployment's variables (see `functionPool`).
 * A request in flight during an alias shift finishes on the version it started on.
 *
 * @example
 * const router = await startSiteRouter({ port: 3001, dataDir: '.shiplog', envFor: async () => ({}) });
 * // curl -H 'host: web.localhost' http://127.0.0.1:3001/
 * await router.close();
 */
export const startSiteRouter = async (opts: SiteRouterOptions): Promise<SiteRouter> => {
  const domain = opts.domain ?? 'localhost';
  const layout = siteLayout(opts.dataDir);
  // A function's own requests to a site (Next's fetch of a server action's redirect target) come back here.
  const sites = { domain, fetch: siteFetch({ domain, port: () => server.port(), hostname: opts.hostname }) };
  const pool = functionPool({ idleMs: opts.idleMs, invokeTimeoutMs: opts.invokeTimeoutMs, onLog: opts.onFunctionLog, sites });
  const versions = new Map<string, Promise<Version | undefined>>();
  const ids = new Map<string, string>();

  // The deployment an alias points at, read from its pointer file on every request.
  const { aliasTarget } = layout;

  // Host names are lowercase; version directories keep the deployment id's own case.
  const findDeployment = async (projectId: string, lower: string): Promise<string | undefined> => {
    const key = `${projectId}/${lower}`;
    if (!ids.has(key)) {
      const names = await readdir(layout.projectDir(projectId)).catch(() => [] as string[]);
      const id = names.find((n) => n.toLowerCase() === lower && layout.isPublished(join(layout.projectDir(projectId), n)));
      if (id) ids.set(key, id);
    }
    return ids.get(key);
  };

  const loadVersion = async (projectId: string, deploymentId: string): Promise<Version | undefined> => {
    const dir = layout.versionDir(projectId, deploymentId);
    if (!layout.isPublished(dir)) return undefined;
    const output = JSON.parse(await readFile(join(dir, 'open-next.output.json'), 'utf8')) as { behaviors: Behavior[]; origins: Version['origins'] };
    // OpenNext writes a split function's patterns with a leading slash (`/api/*`), its own without;
    // CloudFront treats both alike, and so does the router (else `/api/*` never matched: the default function answered 500).
    const behaviors = output.behaviors.map((b) => ({ ...b, pattern: b.pattern.replace(/^\/+/, '') }));
    return { dir, match: behaviorMatcher(behaviors), origins: output.origins, assetPrefix: assetPrefixOf(output) };
  };
  const versionOf = async (projectId: string, deploymentId: string) => {
    const key = `${projectId}/${deploymentId}`;
    let v = versions.get(key);
    if (!v) versions.set(key, (v = loadVersion(projectId, deploymentId)));
    const version = await v;
    if (!version) versions.delete(key); // not published yet; it may be later
    return version;
  };

  const invoke = async (req: IncomingMessage, res: ServerResponse, fn: { key: string; dir: string; root: string; projectId: string; deploymentId: string; requestId: string }, extra: Record<string, string>) => {
    const body = await readEventBody(req);
    const event = toApiGatewayV2Event(req, body, { requestId: fn.requestId, now: new Date() });
    const inv = await pool.invoke({ key: fn.key, dir: fn.dir, root: fn.root, env: () => opts.envFor(fn.projectId, fn.deploymentId) }, event);
    if (inv.kind === 'result') return writeApiGatewayV2Result(res, inv.result, { head: req.method === 'HEAD', extraHeaders: extra });
    // --- streamed: OpenNext's streaming wrapper labels an uncompressed body `content-encoding: identity`,
    // which `next start` never sends and the buffered wrapper did not: dropped, the headers stay as they were.
    // That wrapper encodes every body by the request's `Accept-Encoding` (Brotli, gzip, deflate or
    // none) without saying so in `vary`, as `next start` does: a cache in front would hand a
    // Brotli body to a client that asked for none.
    const headers = toNodeHeaders(inv.head);
    if (String(headers['content-encoding']).toLowerCase() === 'identity') delete headers['content-encoding'];
    headers.vary = varyWithEncoding(headers.vary);
    res.writeHead(inv.head.statusCode, { ...headers, ...extra });
    await pipeline(inv.body, res).catch(() => res.destroy());
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const custom = req.headers.host && !parseSiteHost(req.headers.host, domain) ? await opts.resolveHost?.(req.headers.host) : undefined;
    const parsed: SiteAddress | undefined = custom ? { kind: 'alias', ...custom } : parseSiteAddress(req.headers.host, domain);
    // A branch URL label (`<branch>--<project>`) that is also a project's own name serves that project.
    const address = parsed?.kind === 'alias' && parsed.orProject && aliasTarget(parsed.orProject, 'production')
      ? ({ kind: 'alias', projectId: parsed.orProject, alias: 'production' } as const) : parsed;
    if (!address) {
      return sendPage(res, 404, 'No site here', `shiplog serves no site at "${req.headers.host ?? ''}". Sites live at http://<project>.${domain}:${server.port()}.`);
    }
    // A custom domain's record may name a project no site can have; it is a bad request, not a router error.
    if (!ProjectId.safeParse(address.projectId).success) return sendPage(res, 400, 'Bad request', `"${address.projectId}" is not a valid project name.`);
    const malformed = malformedSiteRequest(req.url ?? '/');
    if (malformed) return sendPage(res, 400, 'Bad request', `${malformed}.`);
    // Multi-zone: a prefix the project mounts is served by the mounted project's production alias.
    const site = await mountedSite(opts.mountsOf, address, req.url ?? '/');
    const { projectId } = site;
    const deploymentId =
      site.kind === 'alias' ? aliasTarget(projectId, site.alias) : await findDeployment(projectId, site.deploymentId);
    if (!deploymentId) {
      return site.kind === 'alias'
        ? sendPage(res, 404, 'Not deployed', `Project "${projectId}" has no ${site.alias} deployment.`)
        : sendPage(res, 404, 'No such deployment', `Project "${projectId}" has no deployment "${site.deploymentId}".`);
    }
    const extra = { 'x-shiplog-deployment': deploymentId };
    const version = await versionOf(projectId, deploymentId);
    if (!version) return sendPage(res, 404, 'No such deployment', `Deployment "${deploymentId}" of "${projectId}" is not published.`, extra);
    const path = (req.url ?? '/').split('?')[0]!;
    const originName = version.match(path);
    const origin = version.origins[originName];
    // --- observability: each served request, measured from here to the end of its response
    const requestId = randomUUID();
    const functionKey = `${projectId}/${deploymentId}/${originName}`;
    const isFunction = origin?.type !== 's3';
    const ended = opts.observe?.({
      projectId, deploymentId, requestId, method: req.method ?? 'GET', path, origin: isFunction ? 'function' : 'asset',
      ...(isFunction ? { functionKey } : {}), coldStart: isFunction && !pool.running().includes(functionKey),
    });
    if (ended) {
      const t0 = performance.now();
      // The socket as it is now: by the response's close, req.socket may be gone (a request whose
      // body was refused mid-upload), and reading it there threw out of the event handler and
      // took the whole runtime down.
      const socket = req.socket as typeof req.socket | null;
      const written0 = socket?.bytesWritten ?? 0;
      res.once('close', () => ended({ status: res.statusCode, durationMs: Math.round((performance.now() - t0) * 10) / 10, bytesOut: (socket?.bytesWritten ?? written0) - written0 }));
    }
    // --- end observability
    if (origin?.type === 's3') {
      const prefix = version.assetPrefix;
      const assetPath = !prefix ? path : path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
      if (assetPath && (await serveAsset(req, res, join(version.dir, 'assets'), assetPath, extra, path))) return;
      return sendPage(res, 404, 'Not found', `No file at ${path}.`, extra);
    }
    const fnDir = origin?.type === 'function' && origin.bundle ? resolve(version.dir, relative('.open-next', origin.bundle)) : undefined;
    if (!fnDir || !fnDir.startsWith(version.dir + sep)) {
      return sendPage(res, 502, 'Bad deployment', `Origin "${originName}" of this deployment is not a function shiplog can run.`, extra);
    }
    try {
      await invoke(req, res, { key: functionKey, dir: fnDir, root: version.dir, projectId, deploymentId, requestId }, extra);
    } catch (e) {
      if (e instanceof EventBodyTooLargeError) return sendPage(res, 413, 'Payload too large', `Request bodies are limited to ${maxEventBodyBytes} bytes.`, extra);
      if (!(e instanceof FunctionInvocationError)) throw e;
      opts.onFunctionLog?.(`${projectId}/${deploymentId}/${originName}`, e.message, 'stderr');
      const title = e.status === 504 ? 'Function timed out' : 'Function failed';
      return sendPage(res, e.status, title, `${e.message}. The next request starts a fresh instance.`, extra);
    }
  };

  const httpServer = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => sendPage(res, 500, 'Router error', e instanceof Error ? e.message : String(e)));
  });
  const server = { port: () => (httpServer.address() as AddressInfo).port };
  await new Promise<void>((ok, fail) => httpServer.once('error', fail).listen(opts.port, opts.hostname ?? '127.0.0.1', () => ok()));

  return {
    port: server.port(),
    runningFunctions: () => pool.running(),
    close: async () => {
      const closed = new Promise<void>((ok) => httpServer.close(() => ok()));
      httpServer.closeAllConnections();
      await Promise.all([closed, pool.close()]);
    },
  };
};
