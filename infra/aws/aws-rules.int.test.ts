import { describe, expect, it } from 'vitest';
import { subscriptions } from '../topology.ts';
import { DOMAINS_RECONCILE_SCHEDULE } from './aws-rules.ts';
import { arnOf, declareUnderMocks, resolved } from './mocked-stack.ts';

// The rules only the AWS runtime has (aws-rules.ts), declared under Pulumi mocks: CodeBuild's
// state changes on the default bus, and the two reconciliation schedules (builds, domains).

const Rule = 'aws:cloudwatch/eventRule:EventRule';
const Target = 'aws:cloudwatch/eventTarget:EventTarget';
const Queue = 'aws:sqs/queue:Queue';
const QueuePolicy = 'aws:sqs/queuePolicy:QueuePolicy';
const Permission = 'aws:lambda/permission:Permission';
const InvokeConfig = 'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig';

/** The topology's service policy: 8 attempts within an hour, then the dead-letter queue. */
const servicePolicy = { maximumRetryAttempts: 7, maximumEventAgeInSeconds: 3600 };

const expected = [
  {
    name: 'BuildOnCodeBuildStateChange',
    handler: 'infra/aws/functions/build.onCodeBuildStateChange',
    trigger: {
      eventPattern: {
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build State Change'],
        detail: { 'project-name': ['shiplog-ci-build'], 'build-status': [{ 'anything-but': ['IN_PROGRESS'] }] },
      },
    },
  },
  { name: 'BuildReconcile', handler: 'infra/aws/functions/build.reconcile', trigger: { scheduleExpression: 'rate(5 minutes)' } },
  { name: 'DomainsReconcile', handler: 'infra/aws/functions/domains.reconcile', trigger: { scheduleExpression: 'rate(1 minute)' } },
  { name: 'AlarmsEvaluate', handler: 'infra/aws/functions/observability.evaluateAlarms', trigger: { scheduleExpression: 'rate(1 minute)' } },
];

describe('infra/aws declares the AWS-only rules', () => {
  it('puts the CodeBuild rule on the default bus, for exactly the shiplog build project', async () => {
    const s = await declareUnderMocks(subscriptions);
    const rule = s.one(Rule, 'BuildOnCodeBuildStateChangeRule').inputs;
    expect(rule.name).toBe('shiplog-ci-BuildOnCodeBuildStateChange');
    expect(rule.eventBusName).toBe('default');
    expect(rule.scheduleExpression).toBeUndefined();
    expect(JSON.parse(rule.eventPattern as string)).toEqual(expected[0]?.trigger.eventPattern);
    // The project the rule listens for is the project the build functions start builds in.
    const project = s.one('aws:codebuild/project:Project', 'Build').inputs.name;
    expect(JSON.parse(rule.eventPattern as string).detail['project-name']).toEqual([project]);
    expect((await resolved(s.spec('BuildOnCodeBuildStateChange').environment)).SHIPLOG_BUILD_PROJECT).toBe(project);
  });

  it('schedules reconciliation every 5 minutes on the default bus, with no pattern', async () => {
    const s = await declareUnderMocks(subscriptions);
    const rule = s.one(Rule, 'BuildReconcileRule').inputs;
    expect(rule).toMatchObject({ name: 'shiplog-ci-BuildReconcile', eventBusName: 'default', scheduleExpression: 'rate(5 minutes)' });
    expect(rule.eventPattern).toBeUndefined();
  });

  it('schedules the domains reconcile every minute on the default bus, with no pattern: no domain waits for a bus retry', async () => {
    const s = await declareUnderMocks(subscriptions);
    const rule = s.one(Rule, 'DomainsReconcileRule').inputs;
    expect(rule).toMatchObject({ name: 'shiplog-ci-DomainsReconcile', eventBusName: 'default', scheduleExpression: DOMAINS_RECONCILE_SCHEDULE });
    expect(DOMAINS_RECONCILE_SCHEDULE).toBe('rate(1 minute)');
    expect(rule.eventPattern).toBeUndefined();
    // It is a domains entry: the domains functions' environment, and ACM's DescribeCertificate.
    const spec = s.spec('DomainsReconcile');
    expect(await resolved(spec.environment)).toMatchObject({ SHIPLOG_SITE_DOMAIN: 'apps.example.com' });
    expect((await resolved(spec.permissions)).flatMap((p) => p.actions)).toContain('acm:DescribeCertificate');
  });

  it.each(expected)('targets $name at its function with the service retry policy and a dead-letter queue', async ({ name, handler }) => {
    const s = await declareUnderMocks(subscriptions);
    const ruleName = `shiplog-ci-${name}`;
    const ruleArn = arnOf(Rule, ruleName);
    const dlqArn = arnOf(Queue, `shiplog-ci-${name}-dlq`);
    expect(s.spec(name).handler).toBe(handler);
    expect(s.one(Queue, `${name}DeadLetter`).inputs).toMatchObject({ name: `shiplog-ci-${name}-dlq`, messageRetentionSeconds: 1_209_600 });
    const target = s.one(Target, `${name}Target`).inputs;
    expect(target).toMatchObject({
      rule: ruleName,
      eventBusName: 'default',
      arn: s.functionArn(name),
      retryPolicy: servicePolicy,
      deadLetterConfig: { arn: dlqArn },
    });
    expect(s.one(Permission, `${name}Invoke`).inputs).toMatchObject({
      action: 'lambda:InvokeFunction',
      function: name,
      principal: 'events.amazonaws.com',
      sourceArn: ruleArn,
    });
    expect(s.one(InvokeConfig, `${name}AsyncInvoke`).inputs).toMatchObject({
      functionName: name,
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 3600,
      destinationConfig: { onFailure: { destination: dlqArn } },
    });
    // Only this rule may send to this queue; the function sends its failed invocations itself.
    expect(JSON.parse(s.one(QueuePolicy, `${name}DeadLetterPolicy`).inputs.policy as string).Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: dlqArn,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      },
    ]);
    expect((await resolved(s.spec(name).permissions))[0]).toEqual({ actions: ['sqs:SendMessage'], resources: [dlqArn] });
  });

  it('declares no other rule on the default bus', async () => {
    const s = await declareUnderMocks(subscriptions);
    const onDefault = s.ofType(Rule).filter((r) => r.inputs.eventBusName === 'default').map((r) => r.name);
    expect(onDefault.sort()).toEqual(['AlarmsEvaluateRule', 'BuildOnCodeBuildStateChangeRule', 'BuildReconcileRule', 'DomainsReconcileRule']);
  });

  it('refuses extra needs that name neither a subscription nor an AWS-only rule, and accepts those that do', async () => {
    const extra = { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::elsewhere/*'] };
    const s = await declareUnderMocks(subscriptions, { needs: { BuildReconcile: { permissions: [extra] } } });
    expect((await resolved(s.spec('BuildReconcile').permissions)).at(-1)).toEqual(extra);
    await expect(declareUnderMocks(subscriptions, { needs: { BuildNobody: { permissions: [extra] } } })).rejects.toThrow(/BuildNobody/);
  });
});
