import type * as AwsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { DeliveryPolicy, EventPattern, Subscription } from '../topology-types.ts';
import type { Cloud, DeclareFunction, LinkSpec, PermissionSpec } from './cloud.ts';
import { DEAD_LETTER_RETENTION_SECONDS } from './outbox.ts';
import { queueSend } from './permissions.ts';

/**
 * The EventBridge target retry policy of a delivery policy: `maxAttempts` counts the first try,
 * EventBridge counts retries.
 *
 * @example
 * targetRetryPolicy({ maxAttempts: 8, maxEventAgeSeconds: 3600, deadLetter: true });
 * // { maximumRetryAttempts: 7, maximumEventAgeInSeconds: 3600 }
 */
export const targetRetryPolicy = (p: DeliveryPolicy) => ({
  maximumRetryAttempts: p.maxAttempts - 1,
  maximumEventAgeInSeconds: p.maxEventAgeSeconds,
});

/**
 * Lambda's limits for asynchronous invocation: 0–2 retries, 60 s – 6 h of event age.
 *
 * @example
 * LAMBDA_ASYNC_LIMITS.maxRetries; // 2
 */
export const LAMBDA_ASYNC_LIMITS = { maxRetries: 2, minAgeSeconds: 60, maxAgeSeconds: 21_600 } as const;

/**
 * EventBridge invokes Lambda asynchronously: its retry policy covers delivery to Lambda, while a
 * handler that throws is retried by Lambda itself. This is the Lambda side of the same policy,
 * within Lambda's limits; what still fails goes to the subscription's dead-letter queue too.
 *
 * @example
 * asyncInvokePolicy({ maxAttempts: 8, maxEventAgeSeconds: 86_400, deadLetter: true });
 * // { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600 }
 */
export const asyncInvokePolicy = (p: DeliveryPolicy) => ({
  maximumRetryAttempts: Math.min(LAMBDA_ASYNC_LIMITS.maxRetries, p.maxAttempts - 1),
  maximumEventAgeInSeconds: Math.min(
    LAMBDA_ASYNC_LIMITS.maxAgeSeconds,
    Math.max(LAMBDA_ASYNC_LIMITS.minAgeSeconds, p.maxEventAgeSeconds),
  ),
});

/**
 * What a function needs beyond the event store and the bus (a read-model table, a bucket, the
 * environment that names them, a longer timeout), keyed by subscription or rule name.
 *
 * @example
 * const needs: SubscriptionNeeds = { Webhooks: { permissions: [{ actions: ['ssm:GetParameter'], resources: [secretsArn] }] } };
 */
export type SubscriptionNeeds = Record<string, FunctionNeeds>;

/**
 * What one function needs beyond the event store and the bus.
 *
 * @example
 * const needs: FunctionNeeds = { permissions: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/artifacts/*'] }] };
 */
export interface FunctionNeeds {
  links?: LinkSpec[];
  permissions?: PermissionSpec[];
  environment?: Record<string, Input<string>>;
  timeoutSeconds?: number;
}

/**
 * What invokes a rule's function: a pattern on a bus, or a schedule (which EventBridge runs
 * on the account's default bus only).
 *
 * @example
 * const t: RuleTrigger = { busName: 'default', schedule: 'rate(5 minutes)' };
 */
export type RuleTrigger = { busName: Input<string>; pattern: EventPattern } | { busName: 'default'; schedule: string };

/**
 * One EventBridge rule and the function it invokes, with a delivery policy.
 *
 * @example
 * const r: RuleSpec = { name: 'BuildReconcile', handler: 'infra/aws/functions/build.reconcile', description: '…',
 *   policy: policies.service, trigger: { busName: 'default', schedule: 'rate(5 minutes)' } };
 */
export interface RuleSpec {
  name: string;
  handler: string;
  description: string;
  policy: DeliveryPolicy;
  trigger: RuleTrigger;
}

const physicalName = (prefix: string, name: string, suffix: string, max: number): string => {
  const full = `${prefix}-${name}${suffix}`;
  if (full.length > max) throw new Error(`${full} is longer than ${max} characters`);
  return full;
};

const sendFromRule = ({ pulumi }: Cloud, queueArn: Input<string>, ruleArn: Input<string>) =>
  pulumi.jsonStringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      },
    ],
  });

/**
 * One rule on AWS: its function, an EventBridge rule (the pattern on its bus, or the schedule), a
 * target with the rule's retry policy, the permission for the rule to invoke the function, and
 * (when the policy asks for one) a dead-letter queue that the target and the function's failed
 * asynchronous invocations both send to.
 *
 * @example
 * declareRule(cloud, { rule, prefix: 'shiplog', declareFunction, links, environment, needs: {} });
 */
export const declareRule = (
  cloud: Cloud,
  input: {
    rule: RuleSpec;
    prefix: string;
    declareFunction: DeclareFunction;
    links: LinkSpec[];
    environment: Record<string, Input<string>>;
    needs?: FunctionNeeds;
  },
) => {
  const { aws } = cloud;
  const { rule: spec, prefix } = input;
  const { trigger } = spec;
  const extra = input.needs ?? {};
  // 1. the dead-letter queue
  const deadLetter = spec.policy.deadLetter
    ? new aws.sqs.Queue(`${spec.name}DeadLetter`, {
        name: physicalName(prefix, spec.name, '-dlq', 80),
        // (= deadLetterQueueName(prefix, spec.name), which the Api function reads them by)
        messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      })
    : undefined;
  // 2. the function, with the event store, the bus, and what this function alone needs
  const fn = input.declareFunction({
    name: spec.name,
    handler: spec.handler,
    description: spec.description,
    environment: { ...input.environment, ...extra.environment },
    links: [...input.links, ...(extra.links ?? [])],
    permissions: [...(deadLetter ? queueSend(deadLetter.arn) : []), ...(extra.permissions ?? [])],
    ...(extra.timeoutSeconds ? { timeoutSeconds: extra.timeoutSeconds } : {}),
  });
  // 3. the rule: exactly the pattern, or the schedule
  const rule = new aws.cloudwatch.EventRule(`${spec.name}Rule`, {
    name: physicalName(prefix, spec.name, '', 64),
    description: spec.description,
    eventBusName: trigger.busName,
    ...('pattern' in trigger ? { eventPattern: JSON.stringify(trigger.pattern) } : { scheduleExpression: trigger.schedule }),
  });
  const invoke = new aws.lambda.Permission(`${spec.name}Invoke`, {
    action: 'lambda:InvokeFunction',
    function: fn.name,
    principal: 'events.amazonaws.com',
    sourceArn: rule.arn,
  });
  const queuePolicy = deadLetter
    ? new aws.sqs.QueuePolicy(`${spec.name}DeadLetterPolicy`, {
        queueUrl: deadLetter.url,
        policy: sendFromRule(cloud, deadLetter.arn, rule.arn),
      })
    : undefined;
  // 4. the target, with the delivery policy
  const target = new aws.cloudwatch.EventTarget(`${spec.name}Target`, {
    rule: rule.name,
    eventBusName: trigger.busName,
    arn: fn.arn,
    retryPolicy: targetRetryPolicy(spec.policy),
    ...(deadLetter ? { deadLetterConfig: { arn: deadLetter.arn } } : {}),
  });
  // 5. the Lambda side of the same policy
  const asyncInvoke = new aws.lambda.FunctionEventInvokeConfig(`${spec.name}AsyncInvoke`, {
    functionName: fn.name,
    ...asyncInvokePolicy(spec.policy),
    ...(deadLetter ? { destinationConfig: { onFailure: { destination: deadLetter.arn } } } : {}),
  });
  return { fn, rule, target, invoke, deadLetter, queuePolicy, asyncInvoke };
};

/**
 * One subscription of the topology on AWS: {@link declareRule} with exactly the subscription's
 * pattern on the shiplog bus.
 *
 * @example
 * declareSubscription(cloud, { sub, prefix: 'shiplog', bus, declareFunction, links, environment, needs: {} });
 */
export const declareSubscription = (
  cloud: Cloud,
  input: {
    sub: Subscription;
    prefix: string;
    bus: AwsModule.cloudwatch.EventBus;
    declareFunction: DeclareFunction;
    links: LinkSpec[];
    environment: Record<string, Input<string>>;
    needs: SubscriptionNeeds;
  },
) => {
  const { sub } = input;
  const rule: RuleSpec = { ...sub, trigger: { busName: input.bus.name, pattern: sub.pattern } };
  return { sub, ...declareRule(cloud, { ...input, rule, needs: input.needs[sub.name] ?? {} }) };
};
