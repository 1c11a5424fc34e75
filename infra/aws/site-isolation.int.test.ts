import { describe, expect, it } from 'vitest';
import { siteFunctionName, siteImageFunctionName } from '../../services/deploy/adapters/site-host/aws-site.ts';
import { siteRoleArn, siteRoleStatements, type SiteRoleScope } from '../../services/deploy/adapters/site-host/site-roles.ts';
import { isAllowed, type Request, type Statement } from '../../test/support/iam-policy.ts';
import { subscriptions } from '../topology.ts';
import { ACCOUNT, BUCKET_SUFFIX, declareUnderMocks, REGION } from './mocked-stack.ts';

// Per-project isolation of running apps (services/deploy/adapters/site-host/site-roles.ts): each
// project's site functions run with a role of their own, made by the deploy entries under the
// stage's site boundary. The policies are evaluated with a small IAM evaluator: moto evaluates none.

const sites = `shiplog-ci-sites-${BUCKET_SUFFIX}`;
const tags = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/shiplog-ci-isr-tags`;
// The queue's ARN as the Pulumi mocks give it (the box and AWS: `arn:aws:sqs:<region>:<account>:<name>`).
const queue = `arn:aws:sqs:${REGION}:${ACCOUNT}:queue/shiplog-ci-isr-revalidation.fifo`;
const scope: SiteRoleScope = { prefix: 'shiplog-ci', accountId: ACCOUNT, region: REGION, sitesBucket: sites, tagCacheTableArn: tags, revalidationQueueArn: queue };
const statementsOf = (policy: { inputs: Record<string, unknown> }) => JSON.parse(policy.inputs.policy as string).Statement as Statement[];

const parameter = (project: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shiplog-ci/env/${project}/production/API_KEY/1`;
/** What a project's server and image functions do at run time. */
const runOf = (project: string): Request[] => [
  { action: 'ssm:GetParameters', resource: parameter(project) },
  {
    action: 'kms:Decrypt', resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`,
    context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': parameter(project) },
  },
  { action: 's3:GetObject', resource: `arn:aws:s3:::${sites}/cache/${project}/b1/index.cache` },
  { action: 's3:PutObject', resource: `arn:aws:s3:::${sites}/cache/${project}/b1/index.cache` },
  { action: 's3:GetObject', resource: `arn:aws:s3:::${sites}/sites/${project}/d1/pixel.png` },
  ...[siteFunctionName('shiplog-ci', project), siteImageFunctionName('shiplog-ci', project)].map((fn) => ({
    action: 'logs:PutLogEvents', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${fn}:log-stream:2026/12/04/[1]abc`,
  })),
];
const shared: Request[] = [
  { action: 's3:ListBucket', resource: `arn:aws:s3:::${sites}` },
  { action: 'dynamodb:Query', resource: `${tags}/index/revalidate` },
  { action: 'sqs:SendMessage', resource: queue },
];

describe("a project's site role", () => {
  it('allows what its functions do, within the stage boundary', async () => {
    const s = await declareUnderMocks(subscriptions);
    const boundary = statementsOf(s.one('aws:iam/policy:Policy', 'SiteRoleBoundary'));
    for (const project of ['web', 'x'.repeat(63)]) {
      for (const r of [...runOf(project), ...shared]) {
        expect(isAllowed(siteRoleStatements(scope, project) as Statement[], r), `${project}: ${r.action} ${r.resource}`).toBe(true);
        expect(isAllowed(boundary, r), `boundary: ${r.action} ${r.resource}`).toBe(true);
      }
    }
  });

  it("refuses another project's parameters, cache, files and logs, also of a project whose id starts the same", () => {
    const web = siteRoleStatements(scope, 'web') as Statement[];
    for (const other of ['docs', 'web-2', 'we']) {
      for (const r of runOf(other)) expect(isAllowed(web, r), `web reaches ${other}: ${r.action} ${r.resource}`).toBe(false);
    }
    expect(siteRoleArn(scope, 'web')).toBe(`arn:aws:iam::${ACCOUNT}:role/shiplog/shiplog-ci/site-web`);
  });

  it("leaves the shared site role (functions made before their project's role) no env parameter", async () => {
    const s = await declareUnderMocks(subscriptions);
    const role = statementsOf(s.one('aws:iam/rolePolicy:RolePolicy', 'SiteRolePolicy'));
    for (const project of ['web', 'docs']) expect(isAllowed(role, runOf(project)[0]!)).toBe(false);
  });
});
