import { execFile, spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { parseReceivePackCommands, parseReportStatus, sidebandMessages, type RefUpdate } from '../../services/ingest/index.ts';

/**
 * How to serve one smart-HTTP git request through `git http-backend`.
 *
 * @example
 * await serveGitHttp(req, res, { projectRoot: '/data/git', pathInfo: '/web.git/info/refs', remoteUser: 'ada' });
 */
export interface GitHttpOptions {
  /** `GIT_PROJECT_ROOT`: the directory holding `<project>.git`. */
  projectRoot: string;
  /** `PATH_INFO`: `/<project>.git/<service path>`. */
  pathInfo: string;
  remoteUser: string;
  /** `GIT_HTTP_MAX_REQUEST_BUFFER` (git's default is 10M). */
  maxRequestBuffer?: string;
  /**
   * Called after a receive-pack ran, with the ref updates the request asked for and, when the
   * reply carried one, receive-pack's verdict per ref (`ok` or why it refused). The lines it
   * returns are shown to the pusher.
   */
  afterReceive?: (updates: RefUpdate[], report: Map<string, string> | undefined) => Promise<string[]>;
  /** Where failures after the response started are reported (default: console.error). */
  onError?: (err: unknown) => void;
}

let backendPath: Promise<string> | undefined;
const gitHttpBackend = (): Promise<string> =>
  (backendPath ??= promisify(execFile)('git', ['--exec-path']).then(({ stdout }) => join(stdout.trim(), 'git-http-backend')));

// The ref commands sit at the start of the body, and receive-pack's reply is a short report:
// a megabyte holds thousands of refs.
const HEAD_BYTES = 1024 * 1024;
const FLUSH = Buffer.from('0000', 'latin1');

const parseCgiHeaders = (text: string): { status: number; headers: Record<string, string> } => {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
};

/**
 * Serves a git smart-HTTP request (`info/refs`, `git-upload-pack`, `git-receive-pack`) by running
 * `git http-backend` as a CGI: the request body is piped in (gunzipped when the client sent
 * `Content-Encoding: gzip`), the CGI headers are parsed out of stdout and the rest streamed back.
 * After a receive-pack, `afterReceive` runs before the response ends, and what it returns is
 * added as side-band progress lines (`remote: …` on the pusher's terminal).
 *
 * @example
 * await serveGitHttp(c.env.incoming, c.env.outgoing, { projectRoot, pathInfo, remoteUser, afterReceive });
 */
export const serveGitHttp = async (req: IncomingMessage, res: ServerResponse, opts: GitHttpOptions): Promise<void> => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const receive = req.method === 'POST' && opts.pathInfo.endsWith('/git-receive-pack');
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  const gzipped = encoding === 'gzip' || encoding === 'x-gzip';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_HTTP_MAX_REQUEST_BUFFER: opts.maxRequestBuffer ?? '10M',
    PATH_INFO: opts.pathInfo,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
    REMOTE_USER: opts.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    ...(req.headers['git-protocol'] ? { HTTP_GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    // The body is decompressed here, so its length is only known without gzip; without it the backend reads to EOF.
    ...(!gzipped && req.headers['content-length'] ? { CONTENT_LENGTH: String(req.headers['content-length']) } : {}),
  };
  const child = spawn(await gitHttpBackend(), [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.length < 64 && stderr.push(c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.on('error', () => undefined);

  // 1. request body → backend, keeping the start of a push for its ref commands
  let head = Buffer.alloc(0);
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (receive && head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      done(null, chunk);
    },
  });
  const body: Readable = gzipped ? req.pipe(createGunzip()) : req;
  const fed = pipeline(body, tap, child.stdin).catch((err: unknown) => {
    // A broken pipe just means the backend stopped reading (it answers with its own error); anything else aborts.
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') child.kill();
    return err;
  });

  // 2. backend stdout → CGI headers, then the body; a push's last 4 bytes (the final flush) are held back
  let pending = Buffer.alloc(0);
  let started = false;
  let tail = Buffer.alloc(0);
  let reply = Buffer.alloc(0);
  const forward = (chunk: Buffer): void => {
    if (receive && reply.length < HEAD_BYTES) reply = Buffer.concat([reply, chunk.subarray(0, HEAD_BYTES - reply.length)]);
    if (!receive) {
      if (!res.write(chunk)) child.stdout.pause();
      return;
    }
    const all = Buffer.concat([tail, chunk]);
    tail = all.subarray(Math.max(0, all.length - 4));
    if (!res.write(all.subarray(0, all.length - tail.length))) child.stdout.pause();
  };
  res.on('drain', () => child.stdout.resume());
  child.stdout.on('data', (chunk: Buffer) => {
    if (started) return forward(chunk);
    pending = Buffer.concat([pending, chunk]);
    const text = pending.toString('latin1');
    const end = /\r?\n\r?\n/.exec(text);
    if (!end) return;
    const { status, headers } = parseCgiHeaders(text.slice(0, end.index));
    if (receive) delete headers['Content-Length'];
    res.writeHead(status, headers);
    started = true;
    forward(pending.subarray(end.index + end[0].length));
  });

  const code = await exited;
  await fed;
  if (!started) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`git http-backend failed (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}\n`);
    return;
  }
  // 3. after a push: record it, and tell the pusher what happened before the final flush
  if (receive && opts.afterReceive && res.statusCode === 200) {
    const { updates, capabilities } = parseReceivePackCommands(head);
    const sideband = capabilities.includes('side-band-64k') || capabilities.includes('side-band');
    let lines: string[];
    try {
      lines = await opts.afterReceive(updates, parseReportStatus(reply, sideband));
    } catch (err) {
      (opts.onError ?? console.error)(err);
      lines = [`shiplog: the push was stored but could not be recorded (${err instanceof Error ? err.message : String(err)}); redeploy or push again`];
    }
    if (sideband && lines.length > 0 && tail.equals(FLUSH)) res.write(sidebandMessages(lines.map((l) => l.slice(0, 900))));
  }
  res.end(tail);
};
