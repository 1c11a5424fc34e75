import type { Input } from '@pulumi/pulumi';
import type { Cloud, PermissionCondition, PermissionSpec } from './cloud.ts';

/**
 * The event store is append-only: functions read and append, and cannot update or delete.
 * These are the actions `events/store` sends: `PutItem` (one event), `TransactWriteItems` (several,
 * or one whose predecessor it has not seen: authorised per item, as `PutItem` and `ConditionCheckItem`).
 *
 * @example
 * EVENT_STORE_ACTIONS.includes('dynamodb:DeleteItem'); // false
 */
export const EVENT_STORE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * Read and append on the event store table and its indexes.
 *
 * @example
 * eventStoreAccess(cloud, table.arn); // [{ actions: [...EVENT_STORE_ACTIONS], resources: [arn, `${arn}/index/*`] }]
 */
export const eventStoreAccess = ({ pulumi }: Cloud, tableArn: Input<string>): PermissionSpec[] => [
  { actions: [...EVENT_STORE_ACTIONS], resources: [tableArn, pulumi.interpolate`${tableArn}/index/*`] },
];

/**
 * Put events on the shiplog bus, and no other bus.
 *
 * @example
 * busPut(bus.arn); // [{ actions: ['events:PutEvents'], resources: [bus.arn] }]
 */
export const busPut = (busArn: Input<string>): PermissionSpec[] => [
  { actions: ['events:PutEvents'], resources: [busArn] },
];

/**
 * Send messages to one queue (a Lambda on-failure destination is sent with the function's role).
 *
 * @example
 * queueSend(dlq.arn); // [{ actions: ['sqs:SendMessage'], resources: [dlq.arn] }]
 */
export const queueSend = (queueArn: Input<string>): PermissionSpec[] => [
  { actions: ['sqs:SendMessage'], resources: [queueArn] },
];

/**
 * Turns permission specs into an IAM policy document (JSON), for roles declared here.
 *
 * @example
 * new aws.iam.RolePolicy('P', { role: role.id, policy: policyDocument(cloud, busPut(bus.arn)) });
 */
export const policyDocument = ({ pulumi }: Cloud, permissions: PermissionSpec[]) =>
  pulumi.jsonStringify({
    Version: '2012-10-17',
    Statement: permissions.map((p) => ({
      Effect: 'Allow',
      Action: p.actions,
      Resource: p.resources,
      ...(p.conditions?.length ? { Condition: conditionBlock(p.conditions) } : {}),
    })),
  });

const conditionBlock = (conditions: PermissionCondition[]) => {
  const block: Record<string, Record<string, Input<string>[]>> = {};
  for (const c of conditions) block[c.test] = { ...block[c.test], [c.variable]: c.values };
  return block;
};

/**
 * A trust policy letting one AWS service assume a role, only on behalf of this account. Without
 * an account (Lambda execution roles, where Lambda passes no source account) the service alone.
 *
 * @example
 * new aws.iam.Role('PipeRole', { assumeRolePolicy: assumeRolePolicy(cloud, 'pipes.amazonaws.com', accountId) });
 * new aws.iam.Role('SiteRole', { assumeRolePolicy: assumeRolePolicy(cloud, 'lambda.amazonaws.com') });
 */
export const assumeRolePolicy = ({ pulumi }: Cloud, service: string, accountId?: Input<string>) =>
  pulumi.jsonStringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sts:AssumeRole',
        ...(accountId === undefined ? {} : { Condition: { StringEquals: { 'aws:SourceAccount': accountId } } }),
      },
    ],
  });
