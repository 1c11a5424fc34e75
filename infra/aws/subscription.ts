import type * as AwsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { DeliveryPolicy, Subscription } from '../topology-types.ts';
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
 * What a subscription needs beyond the event store and the bus (a read-model table, a bucket),
 * keyed by subscription name.
 *
 * @example
 * const needs: SubscriptionNeeds = { Projections: { links: [readModelsLink] } };
 */
export type SubscriptionNeeds = Record<string, { links?: LinkSpec[]; permissions?: PermissionSpec[] }>;

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
 * One subscription on AWS: its function, an EventBridge rule on the shiplog bus with exactly the
 * subscription's pattern, a target with the subscription's retry policy, the permission for the
 * rule to invoke the function, and (when the policy asks for one) a dead-letter queue that the
 * target and the function's failed asynchronous invocations both send to.
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
  const { aws } = cloud;
  const { sub, prefix, bus } = input;
  const extra = input.needs[sub.name] ?? {};
  // 1. the dead-letter queue
  const deadLetter = sub.policy.deadLetter
    ? new aws.sqs.Queue(`${sub.name}DeadLetter`, {
        name: physicalName(prefix, sub.name, '-dlq', 80),
        messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      })
    : undefined;
  // 2. the function, with the event store, the bus, and what this subscription alone needs
  const fn = input.declareFunction({
    name: sub.name,
    handler: sub.handler,
    description: sub.description,
    environment: input.environment,
    links: [...input.links, ...(extra.links ?? [])],
    permissions: [...(deadLetter ? queueSend(deadLetter.arn) : []), ...(extra.permissions ?? [])],
  });
  // 3. the rule, with exactly the topology's pattern
  const rule = new aws.cloudwatch.EventRule(`${sub.name}Rule`, {
    name: physicalName(prefix, sub.name, '', 64),
    description: sub.description,
    eventBusName: bus.name,
    eventPattern: JSON.stringify(sub.pattern),
  });
  const invoke = new aws.lambda.Permission(`${sub.name}Invoke`, {
    action: 'lambda:InvokeFunction',
    function: fn.name,
    principal: 'events.amazonaws.com',
    sourceArn: rule.arn,
  });
  const queuePolicy = deadLetter
    ? new aws.sqs.QueuePolicy(`${sub.name}DeadLetterPolicy`, {
        queueUrl: deadLetter.url,
        policy: sendFromRule(cloud, deadLetter.arn, rule.arn),
      })
    : undefined;
  // 4. the target, with the delivery policy
  const target = new aws.cloudwatch.EventTarget(`${sub.name}Target`, {
    rule: rule.name,
    eventBusName: bus.name,
    arn: fn.arn,
    retryPolicy: targetRetryPolicy(sub.policy),
    ...(deadLetter ? { deadLetterConfig: { arn: deadLetter.arn } } : {}),
  });
  // 5. the Lambda side of the same policy
  const asyncInvoke = new aws.lambda.FunctionEventInvokeConfig(`${sub.name}AsyncInvoke`, {
    functionName: fn.name,
    ...asyncInvokePolicy(sub.policy),
    ...(deadLetter ? { destinationConfig: { onFailure: { destination: deadLetter.arn } } } : {}),
  });
  return { sub, fn, rule, target, invoke, deadLetter, queuePolicy, asyncInvoke };
};
