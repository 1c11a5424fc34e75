import type { Subscription } from '../topology-types.ts';
import type { Cloud, DeclareFunction, LinkSpec } from './cloud.ts';
import { declareEventStore } from './event-store.ts';
import { FunctionEnv, LinkName, type StackNames } from './names.ts';
import { declareOutbox } from './outbox.ts';
import { busPut, eventStoreAccess } from './permissions.ts';
import { declareSubscription, type SubscriptionNeeds } from './subscription.ts';

export * from './cloud.ts';
export { tableArgsFrom } from './event-store.ts';
export * from './names.ts';
export { OUTBOX_FILTER, OUTBOX_STREAM_PARAMETERS, OUTBOX_TARGET_PARAMETERS } from './outbox.ts';
export { EVENT_STORE_ACTIONS } from './permissions.ts';
export { asyncInvokePolicy, targetRetryPolicy, type SubscriptionNeeds } from './subscription.ts';

/**
 * The outbox enrichment Lambda's handler, in SST's `<module>.<export>` form.
 *
 * @example
 * new sst.aws.Function('OutboxEnrich', { handler: OUTBOX_ENRICH_HANDLER });
 */
export const OUTBOX_ENRICH_HANDLER = 'infra/aws/outbox-enrich.handler';

/**
 * What the AWS stack is declared from.
 *
 * @example
 * const input: ShiplogStackInput = {
 *   names: stackNames($app.name, $app.stage), subscriptions, protect: $app.stage === 'production',
 *   declareFunction: (spec) => new sst.aws.Function(spec.name, { handler: spec.handler }),
 * };
 */
export interface ShiplogStackInput {
  names: StackNames;
  subscriptions: Subscription[];
  declareFunction: DeclareFunction;
  /** Deletion protection on the event store. */
  protect: boolean;
  needs?: SubscriptionNeeds;
}

const checkSubscriptions = (subs: Subscription[], needs: SubscriptionNeeds): void => {
  const names = subs.map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`subscription ${duplicate} is declared twice`);
  const unknown = Object.keys(needs).filter((n) => !names.includes(n));
  if (unknown.length > 0) throw new Error(`needs name unknown subscriptions: ${unknown.join(', ')}`);
};

/**
 * Declares shiplog's AWS stack: the `shiplog` EventBridge bus, the event store table, the outbox
 * (table stream → Pipe → bus) and one function, rule, target and dead-letter queue per
 * subscription of the topology. Every function is linked to the event store (read and append)
 * and the bus (put), and to nothing else unless `needs` says so.
 *
 * @example
 * // sst.config.ts, inside run()
 * const stack = declareShiplog({ aws, pulumi: $util }, { names, subscriptions, declareFunction, protect });
 * return { bus: stack.bus.name, table: stack.table.name };
 */
export const declareShiplog = (cloud: Cloud, input: ShiplogStackInput) => {
  const { aws } = cloud;
  const { names, declareFunction } = input;
  const needs = input.needs ?? {};
  checkSubscriptions(input.subscriptions, needs);
  // 1. the bus and the store
  const accountId = aws.getCallerIdentityOutput({}).accountId;
  const bus = new aws.cloudwatch.EventBus('Bus', {
    name: names.bus,
    description: 'shiplog: every committed event, as source shiplog.<service> and detail-type <EventType>',
  });
  const table = declareEventStore(cloud, { name: names.eventsTable, protect: input.protect });
  // 2. the outbox
  const enrich = declareFunction({
    name: 'OutboxEnrich',
    handler: OUTBOX_ENRICH_HANDLER,
    description: 'shiplog outbox: turns a stored event into its bus entry',
    environment: {},
    links: [],
    permissions: [],
  });
  const outbox = declareOutbox(cloud, { prefix: names.prefix, table, bus, enrich, accountId });
  // 3. the subscriptions
  const links: LinkSpec[] = [
    {
      name: LinkName.eventStore,
      properties: { name: table.name, arn: table.arn },
      permissions: eventStoreAccess(cloud, table.arn),
    },
    { name: LinkName.bus, properties: { name: bus.name, arn: bus.arn }, permissions: busPut(bus.arn) },
  ];
  const environment = { [FunctionEnv.eventsTable]: table.name, [FunctionEnv.busName]: bus.name };
  const subscriptions = input.subscriptions.map((sub) =>
    declareSubscription(cloud, { sub, prefix: names.prefix, bus, declareFunction, links, environment, needs }),
  );
  return { bus, table, outbox: { ...outbox, enrich }, links, subscriptions };
};
