import { Hono, type Context } from 'hono';
import type { githubWebhooks } from '../../../services/ingest/index.ts';
import type { ApiEnv } from '../app.ts';
import { readBody } from '../body.ts';
import { json } from '../json.ts';

/**
/** What GitHub sends in `X-Hub-Signature-256`: `sha256=` and 64 hex digits. */
const SIGNATURE_SHAPE = /^sha256=[0-9a-f]{64}$/i;

/**
 * Options of {@link webhookRoutes}.
 *
 * @example
 * webhookRoutes({ webhooks, maxBytes: GITHUB_MAX_PAYLOAD_BYTES, largeBodyBytes: 1 << 20, maxLargeBodies: 4 });
 */
export interface WebhookRouteOptions {
  webhooks: ReturnType<typeof githubWebhooks>;
  /** Largest body (413 beyond). */
  maxBytes: number;
  /** A body over this many bytes (or of unknown length) is large; default 1 MiB. */
  largeBodyBytes?: number;
  /** Large bodies buffered at once; more answer 503 with `Retry-After`. Default 4. */
  maxLargeBodies?: number;
}

/**
 * The GitHub webhook routes: `POST /webhooks/github/:project`, and `POST /webhooks/github`
 * (the project found from the payload's repository). Before any byte of the body is read, the
 * `X-Hub-Signature-256` header must be there (401) and have GitHub's shape (400), and a large
 * body must find one of `maxLargeBodies` slots (503): so unsigned junk and floods of big bodies
 * cost no memory. The body is capped at `maxBytes` (413); ingest checks the signature and
 * records the push. `ping` answers 200, other events 202 without acting, a push 202 without
 * waiting for a build, a delivery seen before 200. Refused requests append nothing.
 *
 * @example
 * app.route('/', webhookRoutes({ webhooks: githubWebhooks({ ingest, finder }), maxBytes: GITHUB_MAX_PAYLOAD_BYTES }));
 */
export const webhookRoutes = ({ webhooks, maxBytes, largeBodyBytes = 1 << 20, maxLargeBodies = 4 }: WebhookRouteOptions) => {
  const app = new Hono<ApiEnv>();
  let largeInFlight = 0;
  // Answered before the body is read: the connection closes, so the unread body is not taken in.
  const refuse = (c: Context<ApiEnv>, status: number, error: string) => {
    c.header('connection', 'close');
    return json(c, status, { error });
  };
  const handle = async (c: Context<ApiEnv>) => {
    const signature = c.req.header('x-hub-signature-256');
    if (!signature) return refuse(c, 401, 'missing X-Hub-Signature-256: set a secret on the GitHub webhook');
    if (!SIGNATURE_SHAPE.test(signature.trim())) return refuse(c, 400, 'X-Hub-Signature-256 must be sha256=<64 hex digits>');
    const declared = c.req.header('content-length');
    const large = declared === undefined ? c.req.raw.body !== null : Number(declared) > largeBodyBytes;
    if (large && largeInFlight >= maxLargeBodies) {
      c.header('retry-after', '5');
      return refuse(c, 503, `too many large webhook deliveries at once (at most ${maxLargeBodies}); retry later`);
    }
    if (large) largeInFlight++;
    let raw: Buffer;
    try {
      raw = await readBody(c, maxBytes);
    } finally {
      if (large) largeInFlight--;
    }
    const outcome = await webhooks.receive({
      projectId: c.req.param('project'),
      body: raw.toString('utf8'),
      // GitHub sends JSON, or `payload=<json>` when the hook's content type is form-encoded.
      form: (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded'),
      signature: signature.trim(),
      event: c.req.header('x-github-event'),
      deliveryId: c.req.header('x-github-delivery'),
    });
    switch (outcome.kind) {
      case 'ping':
        return json(c, 200, { ok: true, projectId: outcome.projectId });
      case 'ignored':
        return json(c, 202, { ignored: `shiplog does not act on ${outcome.event} events` });
      case 'push':
        return json(c, outcome.outcome.status === 'duplicate' ? 200 : 202, { projectId: outcome.projectId, ...outcome.outcome });
    }
  };
  app.post('/webhooks/github/:project', handle);
  app.post('/webhooks/github', handle);
  return app;
};
