import { CreatePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../infra/aws-box/moto.ts';
import { BUILD_ROLE_POLICY, buildRoles, type BuildRoleScope } from '../../services/build/adapters/scheduler/build-roles.ts';
import { SITE_ROLE_POLICY, siteRoles } from '../../services/deploy/adapters/site-host/site-roles.ts';
import { zipFiles } from '../../services/deploy/adapters/site-host/aws-artifact.ts';
import { isAllowed, type Statement } from '../support/iam-policy.ts';

// The per-project build and site roles on moto's IAM: created under the stage's boundary on the
// stage's path, with a policy of their project only, read back from IAM and evaluated.

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

describe('site roles on IAM', () => {
  it("creates a project's site role under the boundary, for Lambda, with its own project's policy; Lambda takes it", async () => {
    const roles = siteRoles({ iam, boundaryArn, scope: { prefix: 'shiplog-it', accountId: BOX_ACCOUNT, region: BOX_REGION, sitesBucket: 'shiplog-it-sites-x' } });
    const arn = await roles.roleFor('web');
    expect(arn).toBe(`arn:aws:iam::${BOX_ACCOUNT}:role/shiplog/shiplog-it/site-web`);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'site-web' }));
    expect(Role).toMatchObject({ Arn: arn, PermissionsBoundary: { PermissionsBoundaryArn: boundaryArn } });
    expect(JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)).Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: 'site-web', PolicyName: SITE_ROLE_POLICY }));
    const statements = (JSON.parse(decodeURIComponent(PolicyDocument!)) as { Statement: Statement[] }).Statement;
    expect(isAllowed(statements, { action: 'ssm:GetParameters', resource: `arn:aws:ssm:${BOX_REGION}:${BOX_ACCOUNT}:parameter/shiplog-it/env/web/production/A/1` })).toBe(true);
    expect(isAllowed(statements, { action: 'ssm:GetParameters', resource: `arn:aws:ssm:${BOX_REGION}:${BOX_ACCOUNT}:parameter/shiplog-it/env/docs/production/A/1` })).toBe(false);
    // moto's Lambda takes a role with a path, as the site host passes it.
    const lambda = new LambdaClient({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
    const zip = zipFiles([{ name: 'index.mjs', data: Buffer.from('export const handler = async () => 1;\n'), mode: 0o644 }]);
    const fn = await lambda.send(new CreateFunctionCommand({ FunctionName: 'shiplog-it-site-web', Role: arn, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip } }));
    expect(fn.Role).toBe(arn);
  });
});
