import type { Input } from '@pulumi/pulumi';
import { viewsTableDefinition } from '../../projections/index.ts';
import type { NamedArn } from './adapter-access.ts';
import type { Cloud, PermissionSpec } from './cloud.ts';
import { tableArgsFrom } from './event-store.ts';
import { FunctionEnv } from './names.ts';
import type { FunctionNeeds } from './subscription.ts';

/**
 * The handler of the one function that writes the read models: the `Projections` subscription
 * of the topology (`infra/aws/functions/projections.ts`).
 *
 * @example
 * subscriptions.find((s) => s.name === 'Projections')?.handler === PROJECTIONS_HANDLER; // true
 */
export const PROJECTIONS_HANDLER = 'infra/aws/functions/projections.handler';

/**
 * The handler of the domains reconcile (the `DomainsReconcile` rule, `aws-rules.ts`): it reads the
 * projects read model to find the domains whose certificate waits for validation.
 *
 * @example
 * awsRules('shiplog-build').find((r) => r.name === 'DomainsReconcile')?.handler === DOMAINS_RECONCILE_HANDLER; // true
 */
export const DOMAINS_RECONCILE_HANDLER = 'infra/aws/functions/domains.reconcile';

/**
 * The handler of the alarm evaluation (the `AlarmsEvaluate` rule, `aws-rules.ts`): it lists the
 * projects from the read models.
 *
 * @example
 * awsRules('shiplog-build').find((r) => r.name === 'AlarmsEvaluate')?.handler === ALARMS_EVALUATE_HANDLER; // true
 */
export const ALARMS_EVALUATE_HANDLER = 'infra/aws/functions/observability.evaluateAlarms';

/**
 * What the Projections function may do on the views table and its indexes: the item calls of
 * `dynamoViewStore` (`TransactWriteItems` is authorised per item, as `PutItem`, `DeleteItem` and
 * `ConditionCheckItem`). No `Scan`: only `drop` and `dump` scan, and they run in
 * `shiplog projections rebuild` / `verify` with the operator's credentials, never in the function.
 *
 * @example
 * VIEWS_ACTIONS.includes('dynamodb:Scan'); // false
 */
export const VIEWS_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * What a reader of the read models may do on the views table: `Query` (the registry, a project's
 * domains) and item reads. No writes and no `Scan`.
 *
 * @example
 * VIEWS_READ_ACTIONS; // ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']
 */
export const VIEWS_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

/**
 * The views table's secondary indexes, by name, as `viewsTableDefinition` declares them.
 *
 * @example
 * VIEWS_INDEXES; // ['byList']
 */
export const VIEWS_INDEXES: string[] = (viewsTableDefinition('views').GlobalSecondaryIndexes ?? []).map((g) => {
  if (!g.IndexName) throw new Error('views table definition: an index has no IndexName');
  return g.IndexName;
});

/**
 * Declares the read models' table from `viewsTableDefinition`, the one the local runtime and the
 * tests create. Point-in-time recovery is on. The read models can be rebuilt from the store, so
 * they get no deletion protection of their own (production's stage retains its resources anyway).
 *
 * @example
 * const views = declareViewsTable(cloud, 'shiplog-views');
 */
export const declareViewsTable = ({ aws }: Cloud, name: string) =>
  new aws.dynamodb.Table('Views', {
    ...tableArgsFrom(viewsTableDefinition(name)),
    pointInTimeRecovery: { enabled: true },
  });

/**
 * Read and write of items on the views table and each of its indexes, by ARN.
 *
 * @example
 * viewsAccess(cloud, views.arn); // [{ actions: [...VIEWS_ACTIONS], resources: [arn, `${arn}/index/byList`] }]
 */
export const viewsAccess = ({ pulumi }: Cloud, tableArn: Input<string>): PermissionSpec[] => [
  { actions: [...VIEWS_ACTIONS], resources: [tableArn, ...VIEWS_INDEXES.map((index) => pulumi.interpolate`${tableArn}/index/${index}`)] },
];

/**
 * What one function needs of the read models, by its handler: the Projections function gets the
 * views table's name and {@link viewsAccess}; the domains reconcile the name and reads of the
 * table itself (it queries no index); every other function nothing (the dashboard reads them
 * through its own grant, `dashboard.ts`).
 *
 * @example
 * readModelNeeds(cloud, 'infra/aws/functions/projections.handler', { name: views.name, arn: views.arn }).environment;
 * // { SHIPLOG_VIEWS_TABLE: views.name }
 */
export const readModelNeeds = (cloud: Cloud, handler: string, views: NamedArn): FunctionNeeds => {
  const environment = { [FunctionEnv.viewsTable]: views.name };
  if (handler === PROJECTIONS_HANDLER) return { environment, permissions: viewsAccess(cloud, views.arn) };
  if (handler === DOMAINS_RECONCILE_HANDLER || handler === ALARMS_EVALUATE_HANDLER) return { environment, permissions: [{ actions: [...VIEWS_READ_ACTIONS], resources: [views.arn] }] };
  return {};
};
