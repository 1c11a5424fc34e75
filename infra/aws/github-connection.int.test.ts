import { describe, expect, it } from 'vitest';
import { buildRoleStatements, type BuildRoleScope } from '../../services/build/adapters/scheduler/build-roles.ts';
import { isAllowed, type Request, type Statement } from '../../test/support/iam-policy.ts';
import { subscriptions } from '../topology.ts';
import { githubConnectionFrom } from './build-runner.ts';
import { ACCOUNT, declareUnderMocks, REGION, resolved } from './mocked-stack.ts';

// GitHub sources on AWS (issue 12): builds fetch a pushed commit of a private repository through a
// CodeConnections connection (a GitHub App installation). The stack declares it by default; a
// build's own role may fetch tokens of that connection and of no other.

const Connection = 'aws:codeconnections/connection:Connection';
const Policy = 'aws:iam/policy:Policy';
const statementsOf = (policy: { inputs: Record<string, unknown> }) => JSON.parse(policy.inputs.policy as string).Statement as Statement[];
const scope: BuildRoleScope = {
  prefix: 'shiplog-ci', accountId: ACCOUNT, region: REGION, artifactsBucket: 'shiplog-ci-artifacts-mock', logGroupName: '/aws/codebuild/shiplog-ci-build',
};
/** What CodeBuild calls with a build's role to clone through a connection. */
const fetchThrough = (connection: string, prefix = 'codeconnections'): Request[] =>
  ['GetConnection', 'GetConnectionToken', 'UseConnection'].map((a) => ({ action: `${prefix}:${a}`, resource: connection }));
const otherConnection = `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/99999999-9999-4999-8999-999999999999`;
const starterEnv = async (s: Awaited<ReturnType<typeof declareUnderMocks>>) => resolved(s.spec('BuildOnDeploymentRequested').environment) as Promise<Record<string, string>>;

describe("the stage's GitHub connection", () => {
  it('is declared by default: a GitHub connection, PENDING until its handshake is completed once in the console', async () => {
    const s = await declareUnderMocks(subscriptions);
    const c = s.one(Connection, 'GitHubConnection');
    expect(c.inputs).toMatchObject({ name: 'shiplog-ci-github', providerType: 'GitHub' });
    expect(String(c.inputs.name).length).toBeLessThanOrEqual(32);
    expect(c.state.connectionStatus).toBe('PENDING');
    expect(c.state.arn).toMatch(new RegExp(`^arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/[0-9a-f-]{36}$`));
    expect(await resolved(s.stack.adapters.build.github.arn!)).toBe(c.state.arn);
  });

  it('reaches only the entry that starts builds, as an ARN', async () => {
    const s = await declareUnderMocks(subscriptions);
    const arn = s.one(Connection, 'GitHubConnection').state.arn as string;
    expect(await starterEnv(s)).toMatchObject({ SHIPLOG_GITHUB_CONNECTION_ARN: arn });
    for (const spec of s.specs.filter((f) => f.name !== 'BuildOnDeploymentRequested')) {
      expect(Object.keys((await resolved(spec.environment)) ?? {}), spec.name).not.toContain('SHIPLOG_GITHUB_CONNECTION_ARN');
    }
    // No function fetches connection tokens itself: CodeBuild does, with the build's role.
    for (const spec of s.specs) {
      const actions = (await resolved(spec.permissions)).flatMap((p) => p.actions);
      expect(actions.filter((a) => /^(codeconnections|codestar-connections):/.test(a)), spec.name).toEqual([]);
    }
  });

  it("lets a project's build role and the stage boundary fetch through that connection, and no other", async () => {
    const s = await declareUnderMocks(subscriptions);
    const arn = s.one(Connection, 'GitHubConnection').state.arn as string;
    const boundary = statementsOf(s.one(Policy, 'BuildRoleBoundary'));
    const role = buildRoleStatements({ ...scope, githubConnectionArn: arn }, 'web') as Statement[];
    for (const r of fetchThrough(arn)) {
      expect(isAllowed(role, r), `role: ${r.action}`).toBe(true);
      expect(isAllowed(boundary, r), `boundary: ${r.action}`).toBe(true);
    }
    for (const r of [...fetchThrough(otherConnection), { action: 'codeconnections:GetConnectionToken', resource: '*' }]) {
      expect(isAllowed(role, r), `role: ${r.action} ${r.resource}`).toBe(false);
      expect(isAllowed(boundary, r), `boundary: ${r.action} ${r.resource}`).toBe(false);
    }
    // Managing connections is nobody's: not the build's, not the boundary's.
    for (const action of ['codeconnections:CreateConnection', 'codeconnections:DeleteConnection', 'codeconnections:UpdateConnectionInstallation', 'codeconnections:PassConnection']) {
      expect(isAllowed(role, { action, resource: arn }), action).toBe(false);
      expect(isAllowed(boundary, { action, resource: arn }), action).toBe(false);
    }
    // A role made without a connection has no connection statement at all.
    expect(buildRoleStatements(scope, 'web').flatMap((st) => st.Action).filter((a) => a.includes('connection'))).toEqual([]);
  });

  it("an existing connection's ARN is used as given, a codestar-connections one under its own prefix; none declares nothing", async () => {
    const legacy = `arn:aws:codestar-connections:${REGION}:${ACCOUNT}:connection/0f4d8a4e-6a52-4a10-9c3e-1b2c3d4e5f60`;
    const given = await declareUnderMocks(subscriptions, { githubConnection: githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: legacy }) });
    expect(given.ofType(Connection)).toEqual([]);
    expect(await starterEnv(given)).toMatchObject({ SHIPLOG_GITHUB_CONNECTION_ARN: legacy });
    const boundary = statementsOf(given.one(Policy, 'BuildRoleBoundary'));
    const role = buildRoleStatements({ ...scope, githubConnectionArn: legacy }, 'web') as Statement[];
    for (const r of fetchThrough(legacy, 'codestar-connections')) {
      expect(isAllowed(role, r), r.action).toBe(true);
      expect(isAllowed(boundary, r), r.action).toBe(true);
    }

    const none = await declareUnderMocks(subscriptions, { githubConnection: githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: 'none' }) });
    expect(none.ofType(Connection)).toEqual([]);
    expect(Object.keys(await starterEnv(none))).not.toContain('SHIPLOG_GITHUB_CONNECTION_ARN');
    const noneBoundary = statementsOf(none.one(Policy, 'BuildRoleBoundary'));
    expect(noneBoundary.flatMap((st) => st.Action).filter((a) => /connection/i.test(a))).toEqual([]);
  });

  it('reads its setting from SHIPLOG_GITHUB_CONNECTION and refuses anything else', () => {
    expect(githubConnectionFrom({})).toBe('declared');
    expect(githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: 'declared' })).toBe('declared');
    expect(githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: 'none' })).toBe('none');
    const arn = `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/0f4d8a4e-6a52-4a10-9c3e-1b2c3d4e5f60`;
    expect(githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: arn })).toEqual({ arn });
    for (const bad of ['ghp_0123456789abcdef', `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:github`, 'yes']) {
      expect(() => githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: bad }), bad).toThrow(/SHIPLOG_GITHUB_CONNECTION/);
      expect(() => githubConnectionFrom({ SHIPLOG_GITHUB_CONNECTION: bad })).not.toThrow(bad);
    }
  });
});
