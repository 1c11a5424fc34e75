// A Lambda-like execution environment for one deployed function, forked by function-pool.ts
// with the function's directory as cwd and the deployment's variables as its whole environment.
// It imports the handler once, then serves invocations over IPC:
//   parent → { type: 'invoke', id, event } | { type: 'abort', id }  (the client of a stream left)
//   child  → { type: 'ready' } | { type: 'init-error', message }
//            { type: 'result', id, result } | { type: 'error', id, message }
//            { type: 'head', id, head } { type: 'chunk', id, data } { type: 'end', id }  (streaming)
//            { type: 'done', id }  (streaming: the handler returned, after the response ended;
//                                   work it awaited past the end, e.g. OpenNext's waitUntil, is over)
//            { type: 'revalidate', request: { host, url, headers } }  (shiplog's OpenNext queue: a
//                                   STALE page to regenerate, as OpenNext's revalidation function would)
//            { type: 'fetch', fetchId, fetch: { method, url, headers, body } }  (with --site-domain=<d>: the
//                                   function's fetch of a site of the router, <label>.<d>, which its
//                                   sandboxed network cannot reach; answered by
//   parent → { type: 'fetch-result', fetchId, response: { status, headers, body } | error })
// Plain JavaScript on purpose: it runs under a bare `node`, like a Lambda runtime bootstrap.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

// Lambda's handler setting, `<file>.<export>` (default `index.handler`), then the options.
const args = process.argv.slice(2);
const siteDomain = args.find((a) => a.startsWith('--site-domain='))?.slice('--site-domain='.length).toLowerCase();

// Lambda's JSON log format (AWS_LAMBDA_LOG_FORMAT=JSON, set by Lambda from the function's
// LoggingConfig; the AWS box sets it too): the runtime records each console method at its own
// level. A line's level cannot be told from its stream alone (warn and error both go to stderr),
// so the levels other than log and error are written as one JSON record each, as Lambda does.
if (process.env.AWS_LAMBDA_LOG_FORMAT === 'JSON') {
  // A line that already is one JSON object (a structured logger's) keeps its own fields.
  const asRecord = (level, message) => {
    if (message.startsWith('{')) {
      try {
        const own = JSON.parse(message);
        if (own && typeof own === 'object' && !Array.isArray(own)) return JSON.stringify({ level, ...own });
      } catch {
        // not JSON: recorded as a message
      }
    }
    return JSON.stringify({ level, message });
  };
  const record = (level, write) => (...parts) => write(`${asRecord(level, format(...parts))}\n`);
  console.warn = record('WARN', (l) => process.stderr.write(l));
  console.info = record('INFO', (l) => process.stdout.write(l));
  console.debug = record('DEBUG', (l) => process.stdout.write(l));
}

const streamingHandler = Symbol('streamingHandler');
const integrationType = 'application/vnd.awslambda.http-integration-response';
const delimiter = Buffer.alloc(8);

const send = (message) =>
  new Promise((resolve, reject) => {
    if (!process.connected) return reject(new Error('IPC channel closed'));
    process.send(message, (err) => (err ? reject(err) : resolve()));
  });

// What Lambda's Node.js runtime offers response-streaming handlers (OpenNext's
// `aws-lambda-streaming` wrapper). The stream carries a JSON prelude, 8 NUL bytes, then the body.
globalThis.awslambda = {
  streamifyResponse: (fn) => Object.assign(fn, { [streamingHandler]: true }),
  HttpResponseStream: {
    from: (stream, prelude) => {
      stream.setContentType(integrationType);
      stream.write(JSON.stringify(prelude));
      stream.write(delimiter);
      return stream;
    },
  },
};

// What shiplog's local OpenNext queue calls for a STALE page: the pool invokes this function
// again with that request (a HEAD with the preview id), as the revalidation function does on AWS.
globalThis.shiplogRevalidate = (request) => send({ type: 'revalidate', request });

// A site of the router (`<label>.<domain>`) is reached through the pool: on AWS the function
// fetches its CloudFront domain; here its network namespace has no route to the router. Next's own
// fetch of a server action's redirect target (its RSC payload, sent with the action's answer) is
// one such request; any other host goes out as before.
/* global Request, Response */
const siteFetches = new Map();
if (siteDomain) {
  const networkFetch = globalThis.fetch;
  let nextFetchId = 1;
  globalThis.fetch = async function fetch(input, init) {
    const request = new Request(input, init);
    const { hostname } = new URL(request.url);
    if (!hostname.toLowerCase().endsWith(`.${siteDomain}`)) return networkFetch(input, init);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
    const fetchId = nextFetchId++;
    const answer = new Promise((resolve, reject) => siteFetches.set(fetchId, { resolve, reject }));
    try {
      await send({ type: 'fetch', fetchId, fetch: { method: request.method, url: request.url, headers: [...request.headers], body } });
      const { status, headers, body: data } = await answer;
      const empty = status === 204 || status === 304 || request.method === 'HEAD';
      return new Response(empty ? null : data, { status, headers });
    } catch (e) {
      throw new TypeError('fetch failed', { cause: e });
    } finally {
      siteFetches.delete(fetchId);
    }
  };
}

// The AWS box (SHIPLOG_BOX_AWS_ENDPOINT): OpenNext's lite adapters (s3-lite, dynamodb-lite,
// sqs-lite) sign their own fetches to AWS's public hosts and ignore AWS_ENDPOINT_URL; the box sends
// them to its endpoint (S3 path-style), which routes each by the service its signature names.
const boxEndpoint = process.env.SHIPLOG_BOX_AWS_ENDPOINT;
if (boxEndpoint) {
  const direct = globalThis.fetch;
  globalThis.fetch = async function fetch(input, init) {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (!url.hostname.endsWith('.amazonaws.com')) return direct(input, init);
    const bucket = /^(.+)\.s3[.-]/.exec(url.hostname)?.[1];
    const target = new URL(`${bucket ? `/${bucket}` : ''}${url.pathname}${url.search}`, boxEndpoint);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
    return direct(target, { method: request.method, headers: request.headers, body });
  };
}

const responseStream = (id) => {
  let contentType = 'application/octet-stream';
  let pending = Buffer.alloc(0);
  let headSent = false;
  // What pipes into this stream, and into those (OpenNext: the compressor, then Next's response).
  const sources = new Set();
  let aborted = false;
  const track = (writable) =>
    writable.on('pipe', (src) => {
      if (aborted) return void process.nextTick(() => src.destroy());
      sources.add(src);
      if (typeof src.on === 'function' && typeof src.write === 'function') track(src);
    });
  const sendHead = async (head) => {
    headSent = true;
    await send({ type: 'head', id, head });
  };
  const stream = new Writable({
    async write(chunk, _enc, done) {
      try {
        let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        if (!headSent && contentType !== integrationType) {
          await sendHead({ statusCode: 200, headers: { 'content-type': contentType }, cookies: [] });
        }
        if (!headSent) {
          pending = Buffer.concat([pending, data]);
          const at = pending.indexOf(delimiter);
          if (at < 0) return done();
          await sendHead(JSON.parse(pending.subarray(0, at).toString('utf8')));
          data = pending.subarray(at + delimiter.length);
        }
        if (data.length > 0) await send({ type: 'chunk', id, data });
        done();
      } catch (e) {
        done(e);
      }
    },
    async final(done) {
      try {
        if (!headSent) await sendHead({ statusCode: 200, headers: { 'content-type': contentType }, cookies: [] });
        await send({ type: 'end', id });
        done();
      } catch (e) {
        done(e);
      }
    },
  });
  stream.setContentType = (type) => {
    contentType = type;
  };
  // The client left: destroying what writes into the stream closes Next's response, which
  // cancels the body it was streaming (a route handler's ReadableStream sees cancel(), its
  // request.signal aborts), as when a client leaves `next start`; the handler then returns.
  stream.abort = () => {
    aborted = true;
    for (const src of sources) src.destroy();
    stream.destroy();
  };
  track(stream);
  return stream;
};
const streams = new Map();

const context = (id, deadline) => ({
  awsRequestId: String(id),
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'shiplog-local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
});

const invoke = async (handler, { id, event, deadline }) => {
  try {
    if (handler[streamingHandler]) {
      const stream = responseStream(id);
      streams.set(id, stream);
      try {
        // OpenNext's streaming wrapper ends the stream when the response is complete, then awaits
        // its waitUntil work (after() callbacks) before returning: the pool hears 'end', then 'done'.
        await handler(event, stream, context(id, deadline));
        if (!stream.writableFinished && !stream.destroyed) {
          await new Promise((resolve, reject) => stream.once('finish', resolve).once('close', resolve).once('error', reject));
        }
      } finally {
        streams.delete(id);
      }
      await send({ type: 'done', id });
      return;
    }
    const result = await handler(event, context(id, deadline));
    await send({ type: 'result', id, result });
  } catch (e) {
    console.error(e);
    await send({ type: 'error', id, message: e instanceof Error ? e.message : String(e) }).catch(() => undefined);
  }
};

// The handler in Lambda's form, `<file>.<export>` (default `index.handler`): the file is
// `<file>.mjs`, else `<file>.js`.
const handlerName = args.find((a) => !a.startsWith('--')) ?? 'index.handler';
const dot = handlerName.lastIndexOf('.');
const [file, exported] = dot > 0 ? [handlerName.slice(0, dot), handlerName.slice(dot + 1)] : ['index', handlerName];
let handler;
try {
  const { existsSync } = await import('node:fs');
  const path = [`${file}.mjs`, `${file}.js`].map((f) => join(process.cwd(), f)).find((f) => existsSync(f)) ?? join(process.cwd(), `${file}.mjs`);
  const mod = await import(pathToFileURL(path).href);
  handler = mod[exported];
  if (typeof handler !== 'function') throw new Error(`the function module ${file} exports no \`${exported}\``);
} catch (e) {
  console.error(e);
  await send({ type: 'init-error', message: e instanceof Error ? e.message : String(e) }).catch(() => undefined);
  process.exit(1);
}
process.on('message', (message) => {
  if (message?.type === 'invoke') void invoke(handler, message);
  if (message?.type === 'abort') streams.get(message.id)?.abort();
  if (message?.type === 'fetch-result') {
    const waiting = siteFetches.get(message.fetchId);
    if (message.response) waiting?.resolve(message.response);
    else waiting?.reject(new Error(message.error ?? 'no answer'));
  }
});
process.on('disconnect', () => process.exit(0));
await send({ type: 'ready' });
