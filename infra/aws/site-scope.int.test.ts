import { describe, expect, it } from 'vitest';
import { siteFunctionName } from '../../services/deploy/adapters/site-host/aws-site.ts';
import { subscriptions } from '../topology.ts';
import { stackNames } from './index.ts';
import { ACCOUNT, declareUnderMocks, REGION, resolved } from './mocked-stack.ts';

// Deploy functions create and change Lambda functions. These tests hold them to their stage's
// site functions: no statement of any function may reach a Lambda function that is not one.

/** IAM's resource matching: `*` any run of characters (colons included), `?` one character. */
const iamMatches = (pattern: string, arn: string): boolean =>
  new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`).test(arn);

const fnArn = (name: string, account = ACCOUNT, region = REGION) => `arn:aws:lambda:${region}:${account}:function:${name}`;
/** How `sst.aws.Function` names a stage's functions (`$app-$stage-<Name>Function-<8 random>`). */
const sstName = (stage: string, name: string) => `shiplog-${stage}-${name.replace(/[^a-zA-Z0-9]/g, '')}Function-abcdefgh`;

/** The Api function's redrive of dead letters (api.ts `eventRoutesAccess`): exact ARNs of the subscriptions' functions, tested below. */
const isRedrive = (fn: string, p: { actions: string[] }) => fn === 'Api' && p.actions.length === 1 && p.actions[0] === 'lambda:InvokeFunction';

/** Every Lambda statement of every function of a stage (but the API's redrive), with the function it belongs to. */
const lambdaStatements = async (stage: string) => {
  const s = await declareUnderMocks(subscriptions, { stage });
  const out: { fn: string; actions: string[]; resources: string[] }[] = [];
  for (const spec of s.specs) {
    const own = await resolved(spec.permissions);
    const linked = await resolved(spec.links.flatMap((l) => l.permissions));
    for (const p of [...own, ...linked]) {
      if (isRedrive(spec.name, p)) continue;
      if (p.actions.some((a) => a.startsWith('lambda:') || a === '*')) out.push({ fn: spec.name, actions: p.actions, resources: p.resources });
    }
  }
  return { s, out };
};

describe('deploy functions reach only the site functions of their stage', () => {
  it('grants Lambda actions to the deploy functions alone (and reads of aliases to the API), on the site function pattern alone', async () => {
    const { out } = await lambdaStatements('ci');
    expect([...new Set(out.map((o) => o.fn))].sort()).toEqual(['Api', 'DeployOnBuildEnded', 'DeployOnBuildSucceeded', 'DeployOnMountsChanged', 'DeployOnReleaseRequest', 'IsrRevalidate']);
    // ISR's revalidation only invokes the version serving a stale page (site-cache.ts).
    expect(out.filter((o) => o.fn === 'IsrRevalidate').flatMap((o) => o.actions)).toEqual(['lambda:InvokeFunction']);
    // Function URLs (sites-edge.ts) name the aliases' qualified ARNs too; the pattern already covers them.
    const urls = ['lambda:CreateFunctionUrlConfig', 'lambda:GetFunctionUrlConfig', 'lambda:AddPermission'];
    for (const o of out) {
      const site = fnArn('shiplog-ci-site-*');
      expect(o.resources).toEqual(o.actions.some((a) => urls.includes(a)) ? [site, `${site}:*`] : [site]);
      if (o.actions.some((a) => urls.includes(a))) expect(o.actions).toEqual(urls);
    }
    expect(out.filter((o) => o.fn === 'Api').flatMap((o) => o.actions)).toEqual(['lambda:GetAlias', 'lambda:GetFunctionConfiguration']);
  });

  it("matches the stage's site functions, their versions and aliases, however long the project id", async () => {
    const { out } = await lambdaStatements('ci');
    const [pattern] = out[0]?.resources ?? [];
    for (const project of ['web', 'a', 'x'.repeat(80)]) {
      const name = siteFunctionName('shiplog-ci', project);
      for (const arn of [fnArn(name), `${fnArn(name)}:production`, `${fnArn(name)}:17`]) expect(iamMatches(pattern!, arn), arn).toBe(true);
    }
  });

  it("matches none of the stack's own functions, nor another stage's, account's or region's", async () => {
    const { s, out } = await lambdaStatements('ci');
    const others = [
      ...s.specs.flatMap((f) => [fnArn(f.name), fnArn(sstName('ci', f.name)), fnArn(`shiplog-ci-${f.name}`)]),
      fnArn('shiplog-ci-build'),
      fnArn('shiplog-ci-site'),
      fnArn('shiplog-ci-sitefoo'),
      fnArn('shiplog-site-web'),
      fnArn('shiplog-ci2-site-web'),
      fnArn(siteFunctionName('shiplog-ci', 'web'), '210987654321'),
      fnArn(siteFunctionName('shiplog-ci', 'web'), ACCOUNT, 'us-east-1'),
    ];
    for (const o of out) for (const r of o.resources) for (const arn of others) expect(iamMatches(r, arn), `${o.fn}: ${r} reaches ${arn}`).toBe(false);
  });

  it('lets no stage reach the functions of another', async () => {
    const stages = ['production', 'ci', 'pr-12', 'ci-2', 'websites', 'sitex'];
    // One stage at a time: each declaration sets the Pulumi mocks afresh.
    for (const stage of stages) {
      const { out } = await lambdaStatements(stage);
      for (const other of stages.filter((x) => x !== stage)) {
        const prefix = stackNames('shiplog', other).prefix;
        const theirs = [fnArn(siteFunctionName(prefix, 'web')), ...subscriptions.map((sub) => fnArn(sstName(other, sub.name)))];
        for (const o of out) for (const r of o.resources) for (const arn of theirs) expect(iamMatches(r, arn), `${stage} reaches ${arn}`).toBe(false);
      }
    }
  });

  it('refuses stage names whose functions would look like site functions', () => {
    for (const stage of ['site', 'pr-site', 'site-2', 'a-site-b']) expect(() => stackNames('shiplog', stage), stage).toThrow(/site/);
    for (const stage of ['sites', 'websites', 'sitex', 'pr-12']) expect(() => stackNames('shiplog', stage)).not.toThrow();
    expect(() => stackNames('shiplog', 'x'.repeat(40))).toThrow(/longer than/);
  });

  it('lets deploy functions make and pass site roles, to Lambda, and no other role (and no other function a role, but build roles to CodeBuild)', async () => {
    const { s } = await lambdaStatements('ci');
    for (const spec of s.specs) {
      const passes = (await resolved(spec.permissions)).filter((p) => p.actions.some((a) => a.startsWith('iam:')));
      // The entry that starts builds creates and passes its projects' build roles: build-isolation.int.test.ts.
      if (spec.name === 'BuildOnDeploymentRequested') continue;
      if (!spec.name.startsWith('Deploy')) {
        expect(passes, spec.name).toEqual([]);
        continue;
      }
      // The shared site role and the stage's per-project site roles (site-isolation.int.test.ts), to Lambda only.
      expect(passes).toEqual([
        {
          actions: ['iam:CreateRole', 'iam:PutRolePolicy'],
          resources: [`arn:aws:iam::${ACCOUNT}:role/shiplog/shiplog-ci/site-*`],
          conditions: [{ test: 'StringEquals', variable: 'iam:PermissionsBoundary', values: [`arn:aws:iam::${ACCOUNT}:policy/shiplog-ci-site-boundary`] }],
        },
        {
          actions: ['iam:PassRole'],
          resources: [`arn:aws:iam::${ACCOUNT}:role/shiplog-ci-site`, `arn:aws:iam::${ACCOUNT}:role/shiplog/shiplog-ci/site-*`],
          conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['lambda.amazonaws.com'] }],
        },
      ]);
    }
  });
});

describe('the Api function invokes only the functions whose dead letters it redrives', () => {
  it('names each subscription function with a dead-letter queue exactly: no pattern, no site function', async () => {
    const s = await declareUnderMocks(subscriptions, { stage: 'ci' });
    const invokes = (await resolved(s.spec('Api').permissions)).filter((p) => p.actions.includes('lambda:InvokeFunction'));
    expect(invokes).toEqual([{ actions: ['lambda:InvokeFunction'], resources: subscriptions.filter((x) => x.policy.deadLetter).map((x) => fnArn(x.name)) }]);
    for (const r of invokes[0]!.resources) expect(r.includes('*') || r.includes('-site-')).toBe(false);
  });
});
