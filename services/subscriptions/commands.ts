import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../../events/index.ts';
import { InvalidEventPatternError, parsePattern, validatePattern } from '../../events/bus/pattern/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { streams, EventPatternJson } from '../../events/index.ts';
import { execute } from '../shell/index.ts';
import { DEFAULT_DRAIN_PATTERN, levelsFrom } from './drain.ts';
import * as subscription from './subscription-decider.ts';
import { SIGNING_SECRET_NAME, signingSecretScope, type SigningSecrets } from './ports.ts';
import { allowNothing, checkTargetUrl, type AllowList } from './target-policy.ts';
import { listSubscriptions, type SubscriptionView } from './view.ts';

/** A request the subscriptions API refuses, with the HTTP status it answers with. */
export class SubscriptionRequestError extends Error {
  override readonly name = 'SubscriptionRequestError';
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}

/**
 * The body of `POST /api/projects/:project/subscriptions`. `eventPattern` is an EventBridge
 * pattern, as an object or as its JSON text (what the dashboard sends). `kind: 'runtime-logs'`
 * makes a log drain: batches of the project's runtime log records, its pattern (optional, every
 * record by default) matched against each record as `detail`; `minLevel` adds
 * `detail.level` at or above it.
 *
 * @example
 * CreateSubscriptionInput.parse({ targetUrl: 'https://hooks.example.com/x', eventPattern: { source: ['shiplog.deploy'] } });
 * CreateSubscriptionInput.parse({ targetUrl: 'https://logs.example.com/in', kind: 'runtime-logs', minLevel: 'warn' });
 */
export const CreateSubscriptionInput = z.object({
  targetUrl: z.url({ protocol: /^https?$/ }),
  eventPattern: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  description: z.string().max(500).optional(),
  kind: z.enum(['events', 'runtime-logs']).default('events'),
  minLevel: z.enum(['debug', 'info', 'warn', 'warning', 'error']).optional(),
}).superRefine((v, ctx) => {
  if (v.kind === 'events' && v.eventPattern === undefined) ctx.addIssue({ code: 'custom', path: ['eventPattern'], message: 'an event subscription needs an eventPattern' });
  if (v.kind === 'events' && v.minLevel !== undefined) ctx.addIssue({ code: 'custom', path: ['minLevel'], message: 'minLevel is for kind "runtime-logs"' });
});

// A drain's pattern: the given one (or every record), with `detail.level` from `minLevel`.
const drainPattern = (given: string | Record<string, unknown> | undefined, minLevel: Parameters<typeof levelsFrom>[0] | undefined): string | Record<string, unknown> => {
  const pattern = given ?? DEFAULT_DRAIN_PATTERN;
  if (minLevel === undefined) return pattern;
  let object: Record<string, unknown>;
  try {
    object = typeof pattern === 'string' ? (JSON.parse(pattern) as Record<string, unknown>) : pattern;
  } catch {
    throw new SubscriptionRequestError(400, 'eventPattern: not JSON');
  }
  const detail = typeof object.detail === 'object' && object.detail !== null ? (object.detail as Record<string, unknown>) : {};
  if ('level' in detail) throw new SubscriptionRequestError(400, 'give minLevel or a detail.level in eventPattern, not both');
  return { ...object, detail: { ...detail, level: levelsFrom(minLevel) } };
};

export interface SubscriptionCommandDeps {
  store: EventStore;
  secrets: SigningSecrets;
  ids: () => string;
  now: () => string;
  /** A new signing secret (default: 32 random bytes, base64url). */
  newSecret?: () => string;
  /** How event references name the secret store (default `local`). */
  secretRefScheme?: 'local' | 'ssm' | 'secretsmanager';
  /** Internal targets allowed anyway (`SHIPLOG_WEBHOOK_ALLOW`); default none. */
  allow?: AllowList;
  /** Called after a subscription of a project was created or removed (to drop a cache). */
  onChange?: (projectId: string) => void;
}

// The pattern text as stored: the user's own text when given as text (EventBridge reads raw
// text: `300.0`, duplicate keys), else the object's JSON.
const patternText = (pattern: string | Record<string, unknown>): string => {
  try {
    if (typeof pattern === 'string') parsePattern(pattern);
    else validatePattern(pattern);
  } catch (err) {
    if (err instanceof InvalidEventPatternError) throw new SubscriptionRequestError(400, err.message);
    throw err;
  }
  const text = typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
  const checked = EventPatternJson.safeParse(text);
  if (!checked.success) throw new SubscriptionRequestError(400, `eventPattern: ${checked.error.issues[0]?.message ?? 'invalid'}`);
  return text;
};

/**
 * The command side of subscriptions: create (answers the signing secret once), remove, list.
 *
 * @example
 * const { subscriptionId, signingSecret } = await commands.create('web', { targetUrl, eventPattern }, actor);
 */
export const subscriptionCommands = (deps: SubscriptionCommandDeps) => {
  const newSecret = deps.newSecret ?? (() => randomBytes(32).toString('base64url'));
  const decider = { decide: subscription.decide, evolve: subscription.evolve, initialState: subscription.initialState };
  const ctx = (actor: Actor) => ({ ids: deps.ids, now: deps.now, cause: null, actor });
  const requireProject = async (projectId: string) => {
    if ((await deps.store.streamVersion(streams.project(projectId))) === 0) throw new SubscriptionRequestError(404, `no project "${projectId}"`);
  };

  return {
    create: async (projectId: string, raw: unknown, actor: Actor): Promise<{ subscriptionId: string; signingSecret: string }> => {
      const parsed = CreateSubscriptionInput.safeParse(raw);
      if (!parsed.success) throw new SubscriptionRequestError(400, z.prettifyError(parsed.error));
      const input = parsed.data;
      const eventPattern = patternText(input.kind === 'runtime-logs' ? drainPattern(input.eventPattern, input.minLevel) : input.eventPattern!);
      const target = checkTargetUrl(new URL(input.targetUrl), deps.allow ?? allowNothing);
      if (!target.ok) throw new SubscriptionRequestError(400, `targetUrl: ${target.reason}`);
      await requireProject(projectId);
      // 1. the secret first: an event never points at a secret that does not exist
      const subscriptionId = deps.ids();
      const signingSecret = newSecret();
      const scope = signingSecretScope(subscriptionId);
      await deps.secrets.put(scope, SIGNING_SECRET_NAME, 1, signingSecret);
      // 2. the event, with only the reference
      await execute(deps.store, streams.subscription(subscriptionId), decider, (): subscription.SubscriptionCommand => ({
        type: 'CreateSubscription', projectId, subscriptionId, targetUrl: input.targetUrl, eventPattern,
        signingSecretRef: `${deps.secretRefScheme ?? 'local'}:${scope}/${SIGNING_SECRET_NAME}`,
        ...(input.description === undefined ? {} : { description: input.description }), createdBy: actor,
        ...(input.kind === 'runtime-logs' ? { kind: input.kind } : {}),
      }), ctx(actor));
      deps.onChange?.(projectId);
      return { subscriptionId, signingSecret };
    },

    remove: async (projectId: string, subscriptionId: string, actor: Actor): Promise<{ removed: boolean }> => {
      await requireProject(projectId);
      const { appended, state } = await execute(deps.store, streams.subscription(subscriptionId), decider,
        (s): subscription.SubscriptionCommand | undefined => (s.subscription?.projectId === projectId ? { type: 'RemoveSubscription', projectId, subscriptionId, reason: 'user' } : undefined), ctx(actor));
      if (state.subscription?.projectId !== projectId) throw new SubscriptionRequestError(404, `no subscription "${subscriptionId}" in project "${projectId}"`);
      deps.onChange?.(projectId);
      return { removed: appended.length > 0 };
    },

    list: async (projectId: string): Promise<SubscriptionView[]> => {
      await requireProject(projectId);
      return listSubscriptions(await deps.store.readProject(projectId));
    },
  };
};
export type SubscriptionCommands = ReturnType<typeof subscriptionCommands>;
