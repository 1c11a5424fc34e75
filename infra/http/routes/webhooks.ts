import { Hono, type Context } from 'hono';
import type { githubWebhooks } from '../../../services/ingest/webhook.ts';
import type { ApiEnv } from '../app.ts';
import { readBody } from '../body.ts';
import { json } from '../json.ts';

/**
 * The GitHub webhook routes: `POST /webhooks/github/:project`, and `POST /webhooks/github`
 * (the project found from the payload's repository). The body is capped at `maxBytes` (413);
 * ingest checks the signature and records the push. `ping` answers 200, other events 202
 * without acting, a push 202 without waiting for a build, a delivery seen before 200.
 * Refused requests (401, 400, 404, 413) append nothing.
 *
 * @example
 * app.route('/', webhookRoutes({ webhooks: githubWebhooks({ ingest, finder }), maxBytes: GITHUB_MAX_PAYLOAD_BYTES }));
 */
export const webhookRoutes = ({ webhooks, maxBytes }: { webhooks: ReturnType<typeof githubWebhooks>; maxBytes: number }) => {
  const app = new Hono<ApiEnv>();
  const handle = async (c: Context<ApiEnv>) => {
    const raw = await readBody(c, maxBytes);
    const outcome = await webhooks.receive({
      projectId: c.req.param('project'),
      body: raw.toString('utf8'),
      // GitHub sends JSON, or `payload=<json>` when the hook's content type is form-encoded.
      form: (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded'),
      signature: c.req.header('x-hub-signature-256'),
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
