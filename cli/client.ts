import { request as httpRequest, type IncomingMessage } from 'node:http';
import { readAdminToken } from '../infra/local/access.ts';
import { localConfig } from '../infra/local/config.ts';
import { credentialsPath, instanceKey, storedToken } from './credentials.ts';
import { readRuntimeFile, type RuntimeFile } from '../infra/local/runtime-file.ts';

/** A failure the CLI reports as one line, with its exit code. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * A failed API call: the HTTP status, or `null` when the API could not be reached; `reason` is
 * the API's own `error` text.
 *
 * @example
 * if (err instanceof ApiError && err.status === 404) throw new CliError(`no deployment ${id}`);
 */
export class ApiError extends CliError {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly reason = message,
  ) {
    super(message);
  }
}

/**
 * The running local instance, found through the data dir (no login step locally).
 *
 * @example
 * const rt = runningInstance(); rt.apiUrl; // 'http://localhost:3000'
 */
export const runningInstance = (): RuntimeFile & { apiUrl: string } => {
  const cfg = localConfig();
  const rt = readRuntimeFile(cfg.dataDir);
  if (!rt) throw new CliError(`shiplog is not running here (no live instance in ${cfg.dataDir}; start it with \`npm start\`)`);
  if (!rt.apiUrl) throw new CliError('shiplog is still starting; try again in a moment');
  return rt as RuntimeFile & { apiUrl: string };
};

/**
 * The API the CLI talks to and the token it sends. `--url`/`SHIPLOG_URL` names an instance
 * (its token from `shiplog login`, or the local admin token when it is the local instance);
 * otherwise the local instance of the data dir, with the admin token its first start wrote.
 * `SHIPLOG_TOKEN` overrides the token.
 *
 * @example
 * const { apiUrl, token } = apiTarget(); // { apiUrl: 'http://localhost:3000', token: 'shp_…' }
 */
export const apiTarget = (env: NodeJS.ProcessEnv = process.env): { apiUrl: string; token: string } => {
  const named = env.SHIPLOG_URL?.trim();
  if (named) {
    let key: string;
    try {
      key = instanceKey(named);
    } catch {
      throw new CliError(`SHIPLOG_URL/--url is not a URL: "${named}"`);
    }
    const local = readRuntimeFile(localConfig(env).dataDir);
    const token =
      env.SHIPLOG_TOKEN ||
      storedToken(key, env) ||
      (local?.apiUrl && instanceKey(local.apiUrl) === key ? readAdminToken(localConfig(env).dataDir) : undefined);
    if (!token) throw new CliError(`no token for ${key} in ${credentialsPath(env)}: run \`shiplog login --url ${key} --token <token>\``);
    return { apiUrl: key, token };
  }
  const { apiUrl } = runningInstance();
  const dataDir = localConfig(env).dataDir;
  const token = env.SHIPLOG_TOKEN || readAdminToken(dataDir);
  if (!token) throw new CliError(`no admin token in ${dataDir}/admin-token (shiplog dev writes it on start); set SHIPLOG_TOKEN or use \`shiplog login\``);
  return { apiUrl, token };
};

// One request through node:http (node:https for an https API), not `fetch`: a command makes one
// or two calls, and the first `fetch` of a process loads and starts undici, which cost about
// 30–60 ms of a command's ~200 ms here. The status and the whole body, as text.
const send = async (url: URL, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; statusText: string; text: string }> => {
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
};

/**
 * Calls the API (see {@link apiTarget}) and returns its JSON; an error status becomes a one-line CliError.
 *
 * @example
 * const project = await api<{ productionUrl: string }>('GET', '/api/projects/web');
 */
export const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const { apiUrl, token } = apiTarget();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  let res: { status: number; statusText: string; text: string };
  try {
    res = await send(new URL(path, apiUrl), method, {
      authorization: `Bearer ${token}`,
      ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
    }, payload);
  } catch (err) {
    throw new ApiError(`cannot reach shiplog at ${apiUrl}: ${(err as Error).message}`, null);
  }
  const { text } = res;
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below when the status says it failed
  }
  if (res.status < 200 || res.status > 299) {
    const message = (parsed as { error?: string } | undefined)?.error ?? (text.slice(0, 200) || res.statusText);
    throw new ApiError(`${method} ${path} failed (${res.status}): ${message}`, res.status, message);
  }
  return parsed as T;
};

/**
 * Whether the CLI talks to a named instance (`--url`/`SHIPLOG_URL`, e.g. shiplog on AWS), whose
 * store it cannot read itself: the commands that read the store locally ask its API instead.
 *
 * @example
 * const r = isNamedInstance() ? await api('GET', `/api/events/${id}`) : await withLocal(({ store }) => store.getEvent(id));
 */
export const isNamedInstance = (env: NodeJS.ProcessEnv = process.env): boolean => Boolean(env.SHIPLOG_URL?.trim());

/** Prints data as JSON (for `--json`) or through a formatter for people. */
export const output = (data: unknown, json: boolean | undefined, human: () => string): void => {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
};
