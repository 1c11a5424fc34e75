import { CreatePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../infra/aws-box/moto.ts';
import { BUILD_ROLE_POLICY, buildRoles, type BuildRoleScope } from '../../services/build/adapters/scheduler/build-roles.ts';
import { isAllowed, type Statement } from '../support/iam-policy.ts';

// The per-project build roles on moto's IAM: created under the stage's boundary on the stage's
// path, with a policy of their project only, read back from IAM and evaluated.

let moto: Moto;
let iam: IAMClient;
let boundaryArn: string;
const scope: BuildRoleScope = { prefix: 'shiplog-it', accountId: BOX_ACCOUNT, region: BOX_REGION, artifactsBucket: 'shiplog-it-artifacts-x', logGroupName: '/aws/codebuild/shiplog-it-build' };

beforeAll(async () => {
  moto = await startMoto();
  iam = new IAMClient({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
  const { Policy } = await iam.send(new CreatePolicyCommand({
    PolicyName: 'shiplog-it-build-boundary',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameters', Resource: '*' }] }),
  }));
  boundaryArn = Policy!.Arn!;
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe('build roles on IAM', () => {
  it("creates a project's role once under the boundary and the stage path, and writes its own project's policy", async () => {
    const roles = buildRoles({ iam, scope, boundaryArn });
    const arn = await roles.roleFor('web');
    expect(arn).toBe(`arn:aws:iam::${BOX_ACCOUNT}:role/shiplog/shiplog-it/build-web`);
    // Another process (a cold start) finds the role there and writes the policy again.
    expect(await buildRoles({ iam, scope, boundaryArn }).roleFor('web')).toBe(arn);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'build-web' }));
    expect(Role).toMatchObject({ Arn: arn, Path: '/shiplog/shiplog-it/', PermissionsBoundary: { PermissionsBoundaryArn: boundaryArn } });
    expect(JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)).Statement).toEqual([expect.objectContaining({ Principal: { Service: 'codebuild.amazonaws.com' } })]);
    const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: 'build-web', PolicyName: BUILD_ROLE_POLICY }));
    const statements = (JSON.parse(decodeURIComponent(PolicyDocument!)) as { Statement: Statement[] }).Statement;
    const parameter = (p: string) => `arn:aws:ssm:${BOX_REGION}:${BOX_ACCOUNT}:parameter/shiplog-it/env/${p}/production/API_KEY/2`;
    expect(isAllowed(statements, { action: 'ssm:GetParameters', resource: parameter('web') })).toBe(true);
    expect(isAllowed(statements, { action: 'ssm:GetParameters', resource: parameter('docs') })).toBe(false);
    expect(isAllowed(statements, { action: 's3:PutObject', resource: 'arn:aws:s3:::shiplog-it-artifacts-x/artifacts/web/d1/a' })).toBe(true);
    expect(isAllowed(statements, { action: 's3:PutObject', resource: 'arn:aws:s3:::shiplog-it-artifacts-x/artifacts/docs/d1/a' })).toBe(false);
  });

  it('keeps one role per project', async () => {
    const roles = buildRoles({ iam, scope, boundaryArn });
    const [a, b] = await Promise.all([roles.roleFor('docs'), roles.roleFor('blog')]);
    expect(a).not.toBe(b);
    const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: 'build-docs', PolicyName: BUILD_ROLE_POLICY }));
    expect(decodeURIComponent(PolicyDocument!)).not.toContain('/blog/');
  });
});
