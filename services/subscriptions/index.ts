/**
 * The subscriptions service: signed webhooks of shiplog's events to outside systems, and log
 * drains (batches of a project's runtime log records).
 */
export { fetchWebhookSender, type WebhookSenderOptions } from './adapters/webhook-sender/fetch.ts';
export { CreateSubscriptionInput, SubscriptionRequestError, subscriptionCommands, type SubscriptionCommands } from './commands.ts';
export { WebhookDeliveryError, webhookPayload } from './deliver.ts';
export {
  DEFAULT_DRAIN_PATTERN, drainEnvelope, levelsFrom, RUNTIME_LOG_DETAIL_TYPE, RUNTIME_LOG_SOURCE, runtimeLogDrain,
  type DrainDeps, type DrainOptions, type DrainStats, type RuntimeLogDrain,
} from './drain.ts';
export * from './ports.ts';
export { subscriptionsService, SUBSCRIPTIONS_DELIVER, type SubscriptionsService, type SubscriptionsServiceDeps } from './service.ts';
export { signBody, verifySignature } from './signature.ts';
export { addressClass, allowNothing, checkResolved, checkTargetUrl, InvalidAllowListError, parseAllowList, type AllowList, type InternalAddressClass, type TargetVerdict } from './target-policy.ts';
export type { SubscriptionView } from './view.ts';
