import { createServer, request, type ClientRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerError } from '../../infra/http/errors.ts';
import { nodeListener } from '../../infra/http/node.ts';
import { webhookRoutes } from '../../infra/http/routes/webhooks.ts';
import { githubWebhooks } from '../../services/ingest/index.ts';
import { startIngest, type IngestHarness } from './harness.ts';

// The webhook route's checks that come before the body is read: the signature header's shape,
// and a cap on large bodies in flight (here: over 1 KiB, at most 1 at once).
let h: IngestHarness;
let server: Server;
let port = 0;
const open: ClientRequest[] = [];
const goodShape = `sha256=${'ab'.repeat(32)}`;

interface Answer { status: number; body: { error?: string }; headers: Record<string, string | string[] | undefined> }

// Starts a POST and writes only `sent` bytes of a `declared`-byte body; resolves with the answer
// (which must come without the rest of the body), and lets the test finish the body later.
const startPost = (headers: Record<string, string>, declared: number, sent: number) => {
  let finish!: () => void;
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/webhooks/github/hello', headers: {
      'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd1', 'content-length': String(declared), ...headers,
    } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as Answer['body'], headers: res.headers }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)));
    req.write(Buffer.alloc(sent, 0x20));
    open.push(req);
    finish = () => req.end(Buffer.alloc(declared - sent, 0x20));
  });
  return { answer, finish: () => finish() };
};

beforeAll(async () => {
  h = await startIngest(import.meta.url);
  const app = webhookRoutes({ webhooks: githubWebhooks({ ingest: h.ingest, finder: h.deps.finder }), maxBytes: 1 << 20, largeBodyBytes: 1024, maxLargeBodies: 1 });
  app.onError(answerError);
  server = createServer(nodeListener(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const r of open) r.destroy();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await h?.stop();
});

describe('GitHub webhook route: before the body', () => {
  it('answers 401 without a signature and 400 for a malformed one, with the body still unsent', async () => {
    const before = (await h.allEvents()).length;
    const missing = await startPost({}, 10_000, 10).answer;
    expect(missing).toMatchObject({ status: 401, body: { error: expect.stringMatching(/missing X-Hub-Signature-256/) } });
    for (const bad of ['sha1=0123456789abcdef0123456789abcdef01234567', 'sha256=xyz', `sha256=${'a'.repeat(63)}`, `${'a'.repeat(64)}`]) {
      const res = await startPost({ 'x-hub-signature-256': bad }, 10_000, 10).answer;
      expect(res, bad).toMatchObject({ status: 400, body: { error: 'X-Hub-Signature-256 must be sha256=<64 hex digits>' } });
      expect(res.headers.connection).toBe('close');
    }
    expect((await h.allEvents()).length).toBe(before);
  });

  it('lets one large body in at a time: a second answers 503 at once, and a slot frees when the first is read', async () => {
    const first = startPost({ 'x-hub-signature-256': goodShape }, 4096, 100);
    // The first holds the only slot while its body is incomplete: a second large one is turned away.
    await expect.poll(async () => (await startPost({ 'x-hub-signature-256': goodShape }, 4096, 0).answer).status).toBe(503);
    const refused = await startPost({ 'x-hub-signature-256': goodShape }, 2048, 0).answer;
    expect(refused).toMatchObject({ status: 503, body: { error: expect.stringMatching(/too many large webhook deliveries/) }, headers: { 'retry-after': '5' } });
    // Small bodies are not limited.
    const small = startPost({ 'x-hub-signature-256': goodShape }, 512, 0);
    small.finish();
    expect((await small.answer).status).not.toBe(503);

    first.finish();
    expect((await first.answer).status).toBe(401); // read, then refused by ingest: the signature matches no secret
    const next = startPost({ 'x-hub-signature-256': goodShape }, 2048, 0);
    next.finish();
    expect((await next.answer).status).toBe(401);
  });
});
