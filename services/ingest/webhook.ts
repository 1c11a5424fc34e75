import { verify } from '@octokit/webhooks-methods';
import type { Ingest, PushOutcome } from './commands.ts';
import { GithubPushPayload, payloadRepositoryKeys, pushFromGithub } from './github.ts';
import type { ProjectFinder } from './ports.ts';

/**
 * GitHub's cap on webhook payloads; larger deliveries are refused with 413.
 *
 * @example
 * platformApi({ ingest, limits: { webhookBytes: GITHUB_MAX_PAYLOAD_BYTES } });
 */
export const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

/**
 * A webhook delivery the ingest service refuses, with the HTTP status it means (400 for a
 * malformed delivery, 401 for one no project's secret signs). Nothing is recorded for it.
 *
 * @example
 * catch (e) { if (e instanceof WebhookRejectedError) e.status; } // 401
 */
export class WebhookRejectedError extends Error {
  override readonly name = 'WebhookRejectedError';
  constructor(
    readonly status: 400 | 401,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One GitHub webhook delivery as it arrived: the raw body (signatures are over its bytes) and
 * the headers that matter. `projectId` is set when the hook URL names the project.
 *
 * @example
 * { projectId: 'web', body: '{"ref":…}', form: false, signature: 'sha256=…', event: 'push', deliveryId: '72d3…' }
 */
export interface GithubDelivery {
  projectId?: string | undefined;
  body: string;
  /** The hook sends `payload=<json>` (content type form-urlencoded) instead of JSON. */
  form: boolean;
  signature?: string | undefined;
  event?: string | undefined;
  deliveryId?: string | undefined;
}

/**
 * What became of a delivery: a ping, an event shiplog does not act on, or a recorded push.
 *
 * @example
 * { kind: 'push', projectId: 'web', outcome: { status: 'deploying', … } }
 */
export type GithubDeliveryOutcome =
  | { kind: 'ping'; projectId: string }
  | { kind: 'ignored'; event: string }
  | { kind: 'push'; projectId: string; outcome: PushOutcome };

const isValidSignature = async (secret: string, payload: string, signature: string): Promise<boolean> => {
  try {
    return await verify(secret, payload, signature);
  } catch {
    return false; // a malformed signature header
  }
};

const parsePayload = (d: GithubDelivery): unknown => {
  try {
    return JSON.parse(d.form ? (new URLSearchParams(d.body).get('payload') ?? '') : d.body);
  } catch {
    throw new WebhookRejectedError(400, 'webhook body is not valid JSON');
  }
};

/**
 * GitHub webhooks into ingest. The signature (`X-Hub-Signature-256`) is checked before anything
 * is read from the payload: against the named project's secret, or, without a project, against
 * each project tracking the payload's repository. `ping` and other events record nothing; a
 * `push` is recorded as `PushReceived` (then `DeploymentRequested` or `PushIgnored`).
 *
 * @example
 * const outcome = await githubWebhooks({ ingest, finder }).receive(delivery);
 */
export const githubWebhooks = ({ ingest, finder }: { ingest: Pick<Ingest, 'credentials' | 'receivePush'>; finder: ProjectFinder }) => ({
  receive: async (d: GithubDelivery): Promise<GithubDeliveryOutcome> => {
    const { signature } = d;
    if (!signature) throw new WebhookRejectedError(401, 'missing X-Hub-Signature-256: set a secret on the GitHub webhook');

    // 1. which project, proven by the signature
    let projectId: string | undefined;
    let payload: unknown;
    if (d.projectId !== undefined) {
      const creds = await ingest.credentials(d.projectId);
      if (creds && (await isValidSignature(creds.webhookSecret, d.body, signature))) projectId = d.projectId;
    } else {
      payload = parsePayload(d);
      const repository = (payload as { repository?: Record<string, unknown> } | null)?.repository;
      if (!repository || typeof repository !== 'object') throw new WebhookRejectedError(400, 'webhook payload names no repository');
      for (const candidate of await finder.findByRepository(payloadRepositoryKeys(repository))) {
        const creds = await ingest.credentials(candidate);
        if (creds && (await isValidSignature(creds.webhookSecret, d.body, signature))) projectId = candidate;
        if (projectId) break;
      }
    }
    if (!projectId) throw new WebhookRejectedError(401, 'signature does not match the webhook secret of any project for this repository');

    // 2. what happened
    if (!d.event) throw new WebhookRejectedError(400, 'missing X-GitHub-Event');
    if (d.event === 'ping') return { kind: 'ping', projectId };
    if (d.event !== 'push') return { kind: 'ignored', event: d.event };
    if (!d.deliveryId) throw new WebhookRejectedError(400, 'missing X-GitHub-Delivery');
    const parsed = GithubPushPayload.safeParse(payload ?? parsePayload(d));
    if (!parsed.success) throw new WebhookRejectedError(400, `not a push payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);

    // 3. record it
    const sender = parsed.data.sender?.login ?? parsed.data.pusher.name;
    const outcome = await ingest.receivePush(projectId, pushFromGithub(parsed.data, d.deliveryId), { actor: { kind: 'github', id: sender } });
    return { kind: 'push', projectId, outcome };
  },
});
