import { describe, expect, it } from 'vitest';
import { buildRoleArn, buildRoleStatements, type BuildRoleScope, type PolicyStatement } from '../../services/build/adapters/scheduler/build-roles.ts';
import { isAllowed, type Request, type Statement } from '../../test/support/iam-policy.ts';
import { subscriptions } from '../topology.ts';
import { ACCOUNT, BUCKET_SUFFIX, declareUnderMocks, REGION, resolved } from './mocked-stack.ts';

// Per-project isolation of builds (services/build/adapters/scheduler/build-roles.ts): each
// project's builds run with a role of its own, created by the build entry under the stage's
// boundary. What these tests evaluate is the declared and the created policies themselves, with
// a small IAM evaluator (test/support/iam-policy.ts): moto evaluates no IAM.

const Policy = 'aws:iam/policy:Policy';
const RolePolicy = 'aws:iam/rolePolicy:RolePolicy';
const artifacts = `shiplog-ci-artifacts-${BUCKET_SUFFIX}`;
const logGroup = '/aws/codebuild/shiplog-ci-build';
const scope: BuildRoleScope = { prefix: 'shiplog-ci', accountId: ACCOUNT, region: REGION, artifactsBucket: artifacts, logGroupName: logGroup };
const statementsOf = (policy: { inputs: Record<string, unknown> }) => JSON.parse(policy.inputs.policy as string).Statement as Statement[];

const parameter = (project: string, name = 'API_KEY', prefix = 'shiplog-ci') => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${prefix}/env/${project}/production/${name}/1`;
const object = (key: string) => `arn:aws:s3:::${artifacts}/${key}`;
/** What a build of `project` does, as CodeBuild and the buildspec call it. */
const buildOf = (project: string): Request[] => [
  { action: 'ssm:GetParameters', resource: parameter(project) },
  {
    action: 'kms:Decrypt', resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': parameter(project) },
  },
  { action: 's3:GetObject', resource: object(`sources/${project}/0123456789abcdef.zip`) },
  { action: 's3:PutObject', resource: object(`artifacts/${project}/01JD000000000000000000000A/server-function.zip`) },
  { action: 's3:GetObject', resource: object(`cache/${project}/next-cache.tgz`) },
  { action: 's3:PutObject', resource: object(`cache/${project}/modules-abc.tgz`) },
  { action: 'logs:PutLogEvents', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroup}:log-stream:01JD/uuid` },
];
const own = (s: PolicyStatement[]) => s as Statement[];

describe("a project's build role", () => {
  it('allows everything a build of its project does, and the stage boundary allows it too', async () => {
    const s = await declareUnderMocks(subscriptions);
    const boundary = statementsOf(s.one(Policy, 'BuildRoleBoundary'));
    for (const project of ['web', 'docs', 'x'.repeat(63)]) {
      for (const r of buildOf(project)) {
        expect(isAllowed(own(buildRoleStatements(scope, project)), r), `${project}: ${r.action} ${r.resource}`).toBe(true);
        expect(isAllowed(boundary, r), `boundary: ${r.action} ${r.resource}`).toBe(true);
      }
    }
  });

  it("refuses another project's parameters, sources, artifacts and cache, also of a project whose id starts the same", () => {
    const web = own(buildRoleStatements(scope, 'web'));
    for (const other of ['docs', 'web-2', 'we', 'webx']) {
      for (const r of buildOf(other).filter((x) => !x.action.startsWith('logs:'))) expect(isAllowed(web, r), `web reaches ${other}: ${r.action} ${r.resource}`).toBe(false);
    }
    // Decryption of another project's parameter, even named through SSM.
    expect(isAllowed(web, {
      action: 'kms:Decrypt', resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`,
      context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': parameter('docs') },
    })).toBe(false);
    // Decryption outside SSM, another stage's parameters, another bucket.
    expect(isAllowed(web, { action: 'kms:Decrypt', resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`, context: { 'kms:EncryptionContext:PARAMETER_ARN': parameter('web') } })).toBe(false);
    expect(isAllowed(web, { action: 'ssm:GetParameters', resource: parameter('web', 'API_KEY', 'shiplog-ci2') })).toBe(false);
    expect(isAllowed(web, { action: 's3:PutObject', resource: `arn:aws:s3:::shiplog-ci-sites-${BUCKET_SUFFIX}/sites/web/x` })).toBe(false);
    // Nothing but its own actions.
    for (const action of ['ssm:GetParameter', 'ssm:PutParameter', 's3:DeleteObject', 'iam:PassRole', 'lambda:UpdateFunctionCode']) {
      expect(isAllowed(web, { action, resource: '*' })).toBe(false);
    }
  });

  it('names roles under the stage path, within IAM limits', () => {
    expect(buildRoleArn(scope, 'web')).toBe(`arn:aws:iam::${ACCOUNT}:role/shiplog/shiplog-ci/build-web`);
    const long = buildRoleArn(scope, 'x'.repeat(63));
    expect(long.split('/').at(-1)!.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(buildRoleArn(scope, `${'x'.repeat(62)}y`));
  });
});

describe('the stage declares where build roles come from', () => {
  it("leaves the CodeBuild project's default role its logs only: a build without its project's role reads and writes nothing", async () => {
    const s = await declareUnderMocks(subscriptions);
    const role = statementsOf(s.one(RolePolicy, 'BuildRolePolicy'));
    for (const project of ['web', 'docs']) for (const r of buildOf(project).filter((x) => !x.action.startsWith('logs:'))) expect(isAllowed(role, r)).toBe(false);
    expect(s.one(Policy, 'BuildRoleBoundary').inputs.name).toBe('shiplog-ci-build-boundary');
  });

  it('lets the entry that starts builds create, write and pass build roles only under the stage boundary and path, to CodeBuild only', async () => {
    const s = await declareUnderMocks(subscriptions);
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/shiplog-ci-build-boundary`;
    const statementsOfFn = async (name: string): Promise<Statement[]> => (await resolved(s.spec(name).permissions)).map((p) => ({
      Effect: 'Allow', Action: p.actions, Resource: p.resources as string[],
      ...(p.conditions?.length ? { Condition: Object.fromEntries(p.conditions.map((c) => [c.test, { [c.variable]: c.values as string[] }])) } : {}),
    }));
    const starter = await statementsOfFn('BuildOnDeploymentRequested');
    const role = (path: string) => `arn:aws:iam::${ACCOUNT}:role/${path}`;
    const withBoundary = (b: string) => ({ 'iam:PermissionsBoundary': b });
    for (const action of ['iam:CreateRole', 'iam:PutRolePolicy']) {
      expect(isAllowed(starter, { action, resource: role('shiplog/shiplog-ci/build-web'), context: withBoundary(boundary) })).toBe(true);
      expect(isAllowed(starter, { action, resource: role('shiplog/shiplog-ci/build-web') })).toBe(false);
      expect(isAllowed(starter, { action, resource: role('shiplog/shiplog-ci/build-web'), context: withBoundary(`arn:aws:iam::${ACCOUNT}:policy/AdministratorAccess`) })).toBe(false);
      for (const other of ['shiplog/shiplog-ci/site-web', 'shiplog/shiplog-ci2/build-web', 'shiplog-ci-BuildRole', 'shiplog-ci-site']) {
        expect(isAllowed(starter, { action, resource: role(other), context: withBoundary(boundary) }), other).toBe(false);
      }
    }
    expect(isAllowed(starter, { action: 'iam:PassRole', resource: role('shiplog/shiplog-ci/build-web'), context: { 'iam:PassedToService': 'codebuild.amazonaws.com' } })).toBe(true);
    expect(isAllowed(starter, { action: 'iam:PassRole', resource: role('shiplog/shiplog-ci/build-web'), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } })).toBe(false);
    expect(await resolved(s.spec('BuildOnDeploymentRequested').environment)).toMatchObject({ SHIPLOG_BUILD_ROLE_BOUNDARY_ARN: boundary });
    // No other function makes IAM roles but the deploy entries their site roles (site-isolation.int.test.ts, site-scope.int.test.ts).
    for (const spec of s.specs.filter((f) => f.name !== 'BuildOnDeploymentRequested' && !f.name.startsWith('Deploy'))) {
      const iam = (await resolved(spec.permissions)).flatMap((p) => p.actions).filter((a) => a.startsWith('iam:'));
      expect(iam.filter((a) => a !== 'iam:PassRole'), spec.name).toEqual([]);
    }
  });
});
