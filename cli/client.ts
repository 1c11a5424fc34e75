import { localConfig } from '../infra/local/config.ts';
import { readRuntimeFile, type RuntimeFile } from '../infra/local/runtime-file.ts';

/** A failure the CLI reports as one line, with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
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
 * Calls the local API and returns its JSON; an error status becomes a one-line CliError.
 *
 * @example
 * const project = await api<{ productionUrl: string }>('GET', '/api/projects/web');
 */
export const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const { apiUrl } = runningInstance();
  let res: Response;
  try {
    res = await fetch(new URL(path, apiUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new CliError(`cannot reach shiplog at ${apiUrl}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below when the status says it failed
  }
  if (!res.ok) {
    const message = (parsed as { error?: string } | undefined)?.error ?? (text.slice(0, 200) || res.statusText);
    throw new CliError(`${method} ${path} failed (${res.status}): ${message}`);
  }
  return parsed as T;
};

/** Prints data as JSON (for `--json`) or through a formatter for people. */
export const output = (data: unknown, json: boolean | undefined, human: () => string): void => {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
};
