import { policies } from '../topology.ts';
import type { EventPattern } from '../topology-types.ts';
import type { RuleSpec } from './subscription.ts';

/**
 * How often reconciliation looks for builds whose completion event was lost.
 *
 * @example
 * awsRules('shiplog-build').find((r) => r.name === 'BuildReconcile')?.trigger; // { busName: 'default', schedule: 'rate(5 minutes)' }
 */
export const RECONCILE_SCHEDULE = 'rate(5 minutes)';

/**
 * How often the domains reconcile looks at every domain whose certificate waits for DNS
 * validation. A minute is the longest a user waits for a domain to turn active once ACM issued
 * its certificate; a run with nothing pending is one read of the read models.
 *
 * @example
 * awsRules('shiplog-build').find((r) => r.name === 'DomainsReconcile')?.trigger; // { busName: 'default', schedule: 'rate(1 minute)' }
 */
export const DOMAINS_RECONCILE_SCHEDULE = 'rate(1 minute)';

/**
 * How often the alarm rules are judged on AWS: each project's production deployment against its
 * rule, from the site functions' invocation reports (locally a timer does it every 2 s).
 *
 * @example
 * awsRules('shiplog-build').find((r) => r.name === 'AlarmsEvaluate')?.trigger; // { busName: 'default', schedule: 'rate(1 minute)' }
 */
export const ALARMS_EVALUATE_SCHEDULE = 'rate(1 minute)';

/**
 * CodeBuild's state changes of one project, except `IN_PROGRESS` (the handler ignores it). The
 * finished statuses are not listed one by one, so a status CodeBuild adds still arrives.
 *
 * @example
 * codeBuildStateChangePattern('shiplog-build').detail['project-name']; // ['shiplog-build']
 */
export const codeBuildStateChangePattern = (projectName: string) =>
  ({
    source: ['aws.codebuild'],
    'detail-type': ['CodeBuild Build State Change'],
    detail: { 'project-name': [projectName], 'build-status': [{ 'anything-but': ['IN_PROGRESS'] }] },
  }) satisfies EventPattern;

/**
 * The rules only the AWS runtime has, beside the topology's subscriptions: CodeBuild publishes
 * its state changes to the account's default bus, never to ours, and two reconciliations run on
 * a schedule: lost build completions (the local runtime's scheduler reports completions itself)
 * and pending domain certificates (ACM validates minutes to hours after the DNS records appear,
 * longer than any retry; the local CA issues at once). All are delivered with the topology's
 * service policy and a dead-letter queue.
 *
 * @example
 * for (const rule of awsRules(names.buildProject)) declareRule(cloud, { rule, prefix, declareFunction, links, environment });
 */
export const awsRules = (buildProject: string): RuleSpec[] => [
  {
    name: 'BuildOnCodeBuildStateChange',
    handler: 'infra/aws/functions/build.onCodeBuildStateChange',
    description: 'turns a finished CodeBuild build into BuildSucceeded, BuildFailed, BuildTimedOut or BuildCanceled',
    policy: { ...policies.service },
    trigger: { busName: 'default', pattern: codeBuildStateChangePattern(buildProject) },
  },
  {
    name: 'BuildReconcile',
    handler: 'infra/aws/functions/build.reconcile',
    description: 'reports finished builds whose CodeBuild state change was lost, so no deployment stays building',
    policy: { ...policies.service },
    trigger: { busName: 'default', schedule: RECONCILE_SCHEDULE },
  },
  {
    name: 'DomainsReconcile',
    handler: 'infra/aws/functions/domains.reconcile',
    description: 'checks every domain whose certificate waits for DNS validation: active once issued, failed once failed or past 72 hours',
    policy: { ...policies.service },
    trigger: { busName: 'default', schedule: DOMAINS_RECONCILE_SCHEDULE },
  },
  {
    name: 'AlarmsEvaluate',
    handler: 'infra/aws/functions/observability.evaluateAlarms',
    description: 'judges each project\'s alarm rule against its production deployment: AlarmRaised / AlarmCleared, and a rollback when the rule says so',
    policy: { ...policies.service },
    trigger: { busName: 'default', schedule: ALARMS_EVALUATE_SCHEDULE },
  },
];
