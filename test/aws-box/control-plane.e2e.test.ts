import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiGatewayV2Client, GetApisCommand, GetIntegrationCommand, GetRoutesCommand } from '@aws-sdk/client-apigatewayv2';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand } from '@aws-sdk/client-codebuild';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient, ListFunctionsCommand, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION } from '../../infra/aws-box/moto.ts';
import { startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// The control plane on the AWS box (docs/aws-box.md): the platform API is the declared Api
// function behind the API Gateway stand-in (payload 2.0 events through the Lambda stand-in); a user
// makes a token, logs in with the CLI from another config dir, and works with it; without a
// token the API answers 401. One box for the file.

const prefix = 'shiplog-box';
const fixture = new URL('../fixtures/next-app/', import.meta.url).pathname;
/** The project's secret env var: the fixture's /ssr page shows SERVER_GREETING. Random, so a match anywhere is this one. */
const SECRET = `greeting-${randomBytes(12).toString('hex')}`;

/** Every item of every table in the box's DynamoDB Local (events, read models, secret pointers, tokens…), as JSON. */
const everyItem = async (db: DynamoDBClient): Promise<string> => {
  const out: string[] = [];
  for (const TableName of (await db.send(new ListTablesCommand({}))).TableNames ?? []) {
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName, ExclusiveStartKey }));
      out.push(JSON.stringify(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey as typeof ExclusiveStartKey;
    } while (ExclusiveStartKey);
  }
  return out.join('\n');
};

/** Every event of every log group in moto's CloudWatch Logs (builds, functions), as text. */
const everyLogLine = async (logs: CloudWatchLogsClient): Promise<{ groups: string[]; text: string }> => {
  const groups = ((await logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? []).map((g) => g.logGroupName!);
  const out: string[] = [];
  for (const logGroupName of groups) {
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new FilterLogEventsCommand({ logGroupName, nextToken }));
      out.push(...(page.events ?? []).map((e) => e.message ?? ''));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return { groups, text: out.join('\n') };
};

/** The configuration of every function and every published version in moto's Lambda, as JSON. */
const everyFunctionConfiguration = async (lambda: LambdaClient): Promise<{ names: string[]; text: string }> => {
  const names = ((await lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName!);
  const out: string[] = [];
  for (const FunctionName of names) {
    for (const v of (await lambda.send(new ListVersionsByFunctionCommand({ FunctionName }))).Versions ?? []) {
      out.push(JSON.stringify(await lambda.send(new GetFunctionConfigurationCommand({ FunctionName, Qualifier: v.Version }))));
    }
  }
  return { names, text: out.join('\n') };
};

/**
 * One request on a connection of its own: the CLI runs through spawnSync, which blocks this
 * process, so a kept-alive connection may have been closed by the server meanwhile.
 */
const call = (url: string, token?: string, json?: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
  new Promise((resolve, reject) => {
    const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json === undefined ? {} : { 'content-type': 'application/json' }) };
    const req = request(url, { agent: false, method: json === undefined ? 'GET' : 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(json === undefined ? undefined : JSON.stringify(json));
  });

describe('the AWS box: the platform API on Lambda behind API Gateway, tokens and login', () => {
  let sl: LocalShiplog;
  let config: string;
  let apiUrl: string;
  /** The token the user logged in with (made in the test that logs in). */
  let userToken = '';
  /** The CLI as a user elsewhere runs it: no data dir of the box, only what `shiplog login` stored. */
  // Generous limits: CI runs this file beside other suites' builds, and a limit reached reads as a failure.
  const user = (args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...sl.env, XDG_CONFIG_HOME: config, SHIPLOG_DATA_DIR: join(config, 'no-data-dir'), SHIPLOG_URL: apiUrl };
    delete env.SHIPLOG_TOKEN;
    const r = spawnSync(process.execPath, ['cli/shiplog.mjs', ...args], { env, encoding: 'utf8', timeout: 180_000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };

  beforeAll(async () => {
    sl = await startShiplog({ runtime: 'aws-box' });
    apiUrl = `http://localhost:${sl.port}`;
    config = mkdtempSync(join(tmpdir(), 'shiplog-login-'));
  }, 180_000);

  afterAll(async () => {
    await sl?.stop();
    if (config) rmSync(config, { recursive: true, force: true });
  });

  it('created the declared HTTP API in moto: $default route to a payload 2.0 proxy of the Api function', async () => {
    const endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())?.[1];
    expect(endpoint, sl.output()).toBeDefined();
    const apigateway = new ApiGatewayV2Client({ endpoint: endpoint!, region: BOX_REGION, credentials: BOX_CREDENTIALS });
    const { Items: apis = [] } = await apigateway.send(new GetApisCommand({}));
    const api = apis.find((a) => a.Name === `${prefix}-api`);
    expect(api?.ProtocolType).toBe('HTTP');
    const { Items: routes = [] } = await apigateway.send(new GetRoutesCommand({ ApiId: api!.ApiId }));
    expect(routes.map((r) => r.RouteKey)).toEqual(['$default']);
    const integration = await apigateway.send(new GetIntegrationCommand({ ApiId: api!.ApiId, IntegrationId: routes[0]!.Target!.replace('integrations/', '') }));
    expect(integration).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: expect.stringMatching(new RegExp(`:function:${prefix}-Api$`)) });
  });

  it('answers 401 without a token, or with a wrong one, through API Gateway', async () => {
    const none = await call(`${apiUrl}/api/whoami`);
    expect(none.status).toBe(401);
    expect(none.headers['apigw-requestid']).toBeTruthy();
    const wrong = await call(`${apiUrl}/api/tokens`, 'shp_not-a-token');
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: expect.any(String) });
  });

  it('makes a token with the admin token, logs in with it elsewhere, and lists tokens and deployments through the Api function', async () => {
    const created = sl.json<{ token: string; name: string; kind: string }>(['tokens', 'create', 'ci-user']);
    expect(created).toMatchObject({ name: 'ci-user', kind: 'user', token: expect.stringMatching(/^shp_/) });

    userToken = created.token;
    const login = user(['login', '--url', apiUrl, '--token', created.token, '--json']);
    expect(login.status, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout)).toMatchObject({ url: apiUrl, name: 'ci-user', kind: 'user' });

    // The admin lists tokens (a user token may not): the function recorded the new token's use.
    const rows = sl.json<{ name: string; lastUsedAt: string | null }[]>(['tokens', 'ls']);
    expect(rows.map((t) => t.name)).toEqual(expect.arrayContaining(['admin', 'ci-user']));
    expect(rows.find((t) => t.name === 'ci-user')?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(rows)).not.toContain(created.token);
    const refused = user(['tokens', 'ls']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('403');

    // A project, its env and its deployments, all through the Api function (ingest runs on AWS).
    const project = user(['projects', 'create', 'cp-web', '--json']);
    expect(project.status, project.stderr).toBe(0);
    expect(JSON.parse(project.stdout)).toMatchObject({ projectId: 'cp-web', webhookUrl: `${apiUrl}/webhooks/github/cp-web`, gitRemote: expect.stringContaining(`/git/cp-web.git`) });
    const got = await call(`${apiUrl}/api/projects/cp-web`, created.token);
    expect(got.status).toBe(200);
    expect(got.headers['apigw-requestid'], 'GET /api/projects/cp-web did not go through API Gateway').toBeTruthy();
    const set = user(['env', 'set', 'cp-web', `SERVER_GREETING=${SECRET}`, '--secret']);
    expect(set.status, set.stderr).toBe(0);
    const deployments = user(['deployments', 'list', 'cp-web', '--json']);
    expect(deployments.status, deployments.stderr).toBe(0);
    expect(JSON.parse(deployments.stdout)).toEqual([]);
    const res = await call(`${apiUrl}/api/projects/cp-web/aliases`, created.token);
    expect(res.headers['apigw-requestid']).toBeTruthy();
    expect(JSON.parse(res.body)).toEqual({ production: null });
  }, 180_000);

  it('deploys a directory with `shiplog deploy` as the logged-in user: uploaded to the sources bucket, built by CodeBuild, live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiplog-box-deploy-'));
    try {
      cpSync(fixture, dir, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
      const marker = join(dir, 'app', 'marker.js');
      writeFileSync(marker, readFileSync(marker, 'utf8').replace(/BUILD_MARKER = '[^']*'/, "BUILD_MARKER = 'box-deploy'"));
      // The Api function answers with a presigned PUT to the artifacts bucket (AWS takes no archive in a request).
      const how = await call(`${apiUrl}/api/projects/cp-web/uploads`, userToken, { bytes: 1234 });
      expect(how.status, how.body).toBe(200);
      const presigned = JSON.parse(how.body) as { method: string; upload: string; url: string; headers: Record<string, string> };
      expect(presigned).toMatchObject({ method: 'PUT', upload: expect.stringMatching(/^[0-9A-Z]{26}$/), headers: { 'content-length': '1234' } });
      expect(new URL(presigned.url).pathname).toMatch(new RegExp(`^/${prefix}-artifacts-[^/]+/uploads/cp-web/${presigned.upload}\\.zip$`));
      expect(new URL(presigned.url).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

      const deploy = user(['deploy', dir, '--project', 'cp-web', '--prod', '--json']);
      expect(deploy.status, deploy.stderr).toBe(0);
      const { deploymentId, sha } = JSON.parse(deploy.stdout) as { deploymentId: string; sha: string };
      // Behind API Gateway the CLI cannot follow the stream: it polls (cli/sse.ts).
      const wait = spawnSync(process.execPath, ['cli/shiplog.mjs', 'deployments', 'wait', deploymentId, '--timeout', '900'], {
        env: { ...sl.env, XDG_CONFIG_HOME: config, SHIPLOG_DATA_DIR: join(config, 'no-data-dir'), SHIPLOG_URL: apiUrl }, encoding: 'utf8', timeout: 960_000,
      });
      expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.output().slice(-4000)}`).toBe(0);
      const home = await sl.site('cp-web.localhost', '/');
      expect(home.status).toBe(200);
      expect(home.body).toContain('box-deploy');
      const endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())![1]!;
      const s3 = new S3Client({ endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS, forcePathStyle: true });
      const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
      const bucket = Buckets.map((b) => b.Name ?? '').find((n) => n.startsWith(`${prefix}-artifacts-`))!;
      const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sources/cp-web/' }));
      expect(Contents.map((o) => o.Key)).toEqual(expect.arrayContaining([`sources/cp-web/${sha}.zip`, `sources/cp-web/${sha}.json`]));
      // The deployed upload was read back and forgotten; the one presigned above and never PUT left nothing.
      const { Contents: uploads = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'uploads/' }));
      expect(uploads.map((o) => o.Key)).toEqual([]);

      // The running app sees the secret: the site function's entry read it from SSM at cold start.
      const ssr = await sl.site('cp-web.localhost', '/ssr');
      expect(ssr.status).toBe(200);
      expect(/<p id="greeting">([^<]*)<\/p>/.exec(ssr.body)?.[1] === SECRET, 'the /ssr page does not show the secret env var').toBe(true);

      // Runtime logs and metrics on AWS: what the site function's invocations wrote to CloudWatch
      // Logs (the Lambda stand-in writes as Lambda does), read back by the Api function.
      expect((await sl.site('cp-web.localhost', '/')).status).toBe(200);
      let records: { kind: string; level: string; requestId?: string; message: string }[] = [];
      let last = '';
      await expect.poll(() => {
        const logs = user(['logs', deploymentId, '--runtime', '--json']);
        last = `${logs.status}\n${logs.stdout}\n${logs.stderr}`;
        if (logs.status !== 0) return -1;
        records = logs.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as (typeof records)[number]);
        return records.filter((r) => r.kind === 'request').length;
      }, { timeout: 90_000 }).toBeGreaterThanOrEqual(2).catch((err: Error) => {
        throw new Error(`${err.message}\nlast logs --runtime: ${last}\n${sl.output().slice(-3000)}`);
      });
      expect(records.filter((r) => r.kind === 'request').every((r) => r.requestId && /^invocation success in \d+ ms/.test(r.message))).toBe(true);
      const metrics = user(['metrics', 'cp-web', '--since', '1h', '--json']);
      expect(metrics.status, metrics.stderr).toBe(0);
      const row = (JSON.parse(metrics.stdout) as { id: string; requests: number; errors: number }[]).find((d) => d.id === deploymentId);
      expect(row, `records not at info: ${JSON.stringify(records.filter((r) => r.level !== 'info'))}`).toMatchObject({ id: deploymentId, errors: 0 });
      expect(row!.requests).toBeGreaterThanOrEqual(2);

      // The secret is a SecureString in moto's SSM and nowhere in plaintext: not in any function's
      // configuration (every version), any table (the events among them), any log group.
      const aws = { endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
      const { Parameters = [] } = await new SSMClient(aws).send(new GetParametersByPathCommand({ Path: `/${prefix}/env/cp-web/`, Recursive: true }));
      expect(Parameters.map((p) => [p.Name, p.Type])).toEqual([[`/${prefix}/env/cp-web/production/SERVER_GREETING/1`, 'SecureString']]);
      expect(Parameters[0]!.Value === SECRET, 'SSM answered the plaintext without decryption').toBe(false);
      const functions = await everyFunctionConfiguration(new LambdaClient(aws));
      expect(functions.names).toContain(`${prefix}-site-cp-web`);
      // The site function runs with its project's own role (site-roles.ts), which reads only its project's parameters.
      const site = await new LambdaClient(aws).send(new GetFunctionConfigurationCommand({ FunctionName: `${prefix}-site-cp-web` }));
      expect(site.Role).toBe(`arn:aws:iam::${BOX_ACCOUNT}:role/shiplog/${prefix}/site-cp-web`);
      expect(functions.text).toContain('"Handler":"shiplog-env.handler"');
      expect(functions.text.includes(SECRET), 'a function configuration holds the secret').toBe(false);
      const items = await everyItem(new DynamoDBClient(aws));
      expect(items).toContain('SERVER_GREETING');
      expect(items.includes(SECRET), 'a table holds the secret').toBe(false);
      const logged = await everyLogLine(new CloudWatchLogsClient(aws));
      expect(logged.groups).toEqual(expect.arrayContaining([`/aws/lambda/${prefix}-site-cp-web`, `/aws/codebuild/${prefix}-build`]));
      expect(logged.text.includes(SECRET), 'a log line holds the secret').toBe(false);
      expect(sl.output().includes(SECRET), "the box's own output holds the secret").toBe(false);

      // The build ran with the project's own role, made under the stage's boundary with a policy of
      // this project only (moto keeps it; nothing on the box evaluates it: build-isolation.int.test.ts does).
      const iam = new IAMClient(aws);
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'build-cp-web' }));
      expect(Role).toMatchObject({
        Arn: `arn:aws:iam::${BOX_ACCOUNT}:role/shiplog/${prefix}/build-cp-web`,
        PermissionsBoundary: { PermissionsBoundaryArn: `arn:aws:iam::${BOX_ACCOUNT}:policy/${prefix}-build-boundary` },
      });
      const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: 'build-cp-web', PolicyName: 'project-build' }));
      const policy = decodeURIComponent(PolicyDocument!);
      expect(policy).toContain(`parameter/${prefix}/env/cp-web/*`);
      expect(policy).toContain(`/artifacts/cp-web/*`);
      expect(policy).not.toMatch(/env\/\*|artifacts\/\*/);
      const codebuild = new CodeBuildClient(aws);
      const { ids = [] } = await codebuild.send(new ListBuildsForProjectCommand({ projectName: `${prefix}-build` }));
      const { builds = [] } = await codebuild.send(new BatchGetBuildsCommand({ ids }));
      const ours = builds.find((b) => b.environment?.environmentVariables?.some((v) => v.name === 'SHIPLOG_DEPLOYMENT_ID' && v.value === deploymentId));
      expect(ours?.serviceRole).toBe(Role!.Arn);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 1_000_000);

  it("logs a bare stage's first user in with AWS credentials: `shiplog login --aws <function>` invokes the AdminToken function", async () => {
    const endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())![1]!;
    const fresh = mkdtempSync(join(tmpdir(), 'shiplog-login-aws-'));
    try {
      // No token, no URL, no data dir: only AWS credentials and the admin token function's name.
      const env: NodeJS.ProcessEnv = {
        ...sl.env, XDG_CONFIG_HOME: fresh, SHIPLOG_DATA_DIR: join(fresh, 'no-data-dir'),
        AWS_ENDPOINT_URL: endpoint, AWS_REGION: BOX_REGION, AWS_ACCESS_KEY_ID: BOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: BOX_CREDENTIALS.secretAccessKey,
      };
      delete env.SHIPLOG_TOKEN;
      delete env.SHIPLOG_URL;
      const run = (args: string[]) => spawnSync(process.execPath, ['cli/shiplog.mjs', ...args], { env, encoding: 'utf8', timeout: 60_000 });
      const login = run(['login', '--aws', `${prefix}-AdminToken`, '--name', 'ops', '--json']);
      expect(login.status, login.stderr).toBe(0);
      expect(JSON.parse(login.stdout)).toMatchObject({ url: apiUrl, name: 'ops', kind: 'admin' });
      const stored = readFileSync(join(fresh, 'shiplog', 'credentials.json'), 'utf8');
      const rows = run(['--url', apiUrl, 'tokens', 'ls', '--json']);
      expect(rows.status, rows.stderr).toBe(0);
      const ops = (JSON.parse(rows.stdout) as { name: string; kind: string; createdBy: string; prefix: string }[]).find((t) => t.name === 'ops');
      expect(ops).toMatchObject({ kind: 'admin', createdBy: 'system:aws-invoke' });
      expect(stored).toContain(ops!.prefix);
      // A taken name is refused with the reason; the function's log has the token's id, never the token.
      const again = run(['login', '--aws', `${prefix}-AdminToken`, '--name', 'ops']);
      expect(again.status).not.toBe(0);
      expect(again.stderr).toContain('a token named "ops" exists');
      const token = /"(shp_[^"]+)"/.exec(stored)![1]!;
      const logged = await everyLogLine(new CloudWatchLogsClient({ endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS }));
      expect(logged.groups).toContain(`/aws/lambda/${prefix}-AdminToken`);
      expect(logged.text.includes(token), 'a log line holds the admin token').toBe(false);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 120_000);

  it('stops honouring a revoked token at once', async () => {
    const created = sl.json<{ token: string; tokenId: string }>(['tokens', 'create', 'short-lived']);
    const before = await call(`${apiUrl}/api/whoami`, created.token);
    expect(before.status).toBe(200);
    expect(sl.cli(['tokens', 'revoke', created.tokenId]).status).toBe(0);
    const after = await call(`${apiUrl}/api/whoami`, created.token);
    expect(after.status).toBe(401);
  });
});
