import type { IncomingMessage } from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import { HttpError, readBody, route, sendJson, type Route, type RouteRequest } from '../../infra/local/api/router.ts';
import type { Ingest } from './commands.ts';
import { GithubPushPayload, payloadRepositoryKeys, pushFromGithub } from './github.ts';
import type { ProjectFinder } from './ports.ts';

/**
 * GitHub's cap on webhook payloads; larger deliveries are refused with 413.
 *
 * @example
 * ingestRoutes({ ...deps, webhookMaxBytes: GITHUB_MAX_PAYLOAD_BYTES });
 */
export const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const isValidSignature = async (secret: string, payload: string, signature: string): Promise<boolean> => {
  try {
    return await verify(secret, payload, signature);
  } catch {
    return false; // a malformed signature header
  }
};

// GitHub sends JSON, or `payload=<json>` when the hook's content type is form-encoded.
const parsePayload = (req: IncomingMessage, text: string): unknown => {
  const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  try {
    return JSON.parse(form ? (new URLSearchParams(text).get('payload') ?? '') : text);
  } catch {
    throw new HttpError(400, 'webhook body is not valid JSON');
  }
};

/**
 * The GitHub webhook routes: `POST /webhooks/github/:project`, and `POST /webhooks/github`
 * which finds the project from the payload's repository (checking the signature against each
 * project tracking it). Signatures (`X-Hub-Signature-256`) are checked before anything is read
 * from the payload; `ping` answers 200; `push` is recorded and answered 202 without waiting for a
 * build; a delivery seen before answers 200 and appends nothing. Refused requests (401, 400,
 * 404, 413) append nothing.
 *
 * @example
 * const routes = webhookRoutes({ ingest, finder, maxBytes: GITHUB_MAX_PAYLOAD_BYTES });
 */
export const webhookRoutes = ({ ingest, finder, maxBytes }: { ingest: Ingest; finder: ProjectFinder; maxBytes: number }): Route[] => {
  const handle = async ({ req, res, params }: RouteRequest): Promise<void> => {
    const raw = await readBody(req, maxBytes);
    const signature = header(req, 'x-hub-signature-256');
    if (!signature) throw new HttpError(401, 'missing X-Hub-Signature-256: set a secret on the GitHub webhook');
    const text = raw.toString('utf8');

    // 1. which project, proven by the signature
    let projectId: string | undefined;
    let payload: unknown;
    if (params.project !== undefined) {
      const creds = await ingest.credentials(params.project);
      if (creds && (await isValidSignature(creds.webhookSecret, text, signature))) projectId = params.project;
    } else {
      payload = parsePayload(req, text);
      const repository = (payload as { repository?: Record<string, unknown> } | null)?.repository;
      if (!repository || typeof repository !== 'object') throw new HttpError(400, 'webhook payload names no repository');
      for (const candidate of await finder.findByRepository(payloadRepositoryKeys(repository))) {
        const creds = await ingest.credentials(candidate);
        if (creds && (await isValidSignature(creds.webhookSecret, text, signature))) projectId = candidate;
        if (projectId) break;
      }
    }
    if (!projectId) throw new HttpError(401, 'signature does not match the webhook secret of any project for this repository');

    // 2. what happened
    const event = header(req, 'x-github-event');
    if (!event) throw new HttpError(400, 'missing X-GitHub-Event');
    if (event === 'ping') return sendJson(res, 200, { ok: true, projectId });
    if (event !== 'push') return sendJson(res, 202, { ignored: `shiplog does not act on ${event} events` });
    const deliveryId = header(req, 'x-github-delivery');
    if (!deliveryId) throw new HttpError(400, 'missing X-GitHub-Delivery');
    const parsed = GithubPushPayload.safeParse(payload ?? parsePayload(req, text));
    if (!parsed.success) throw new HttpError(400, `not a push payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);

    // 3. record it
    const sender = parsed.data.sender?.login ?? parsed.data.pusher.name;
    const outcome = await ingest.receivePush(projectId, pushFromGithub(parsed.data, deliveryId), { actor: { kind: 'github', id: sender } });
    sendJson(res, outcome.status === 'duplicate' ? 200 : 202, { projectId, ...outcome });
  };
  return [route('POST', '/webhooks/github/:project', handle), route('POST', '/webhooks/github', handle)];
};
