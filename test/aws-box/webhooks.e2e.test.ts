import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, type Build } from '@aws-sdk/client-codebuild';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog, toEventBridgeEvent, type StoredEvent } from '../../events/index.ts';
import { stateOf } from '../../infra/aws-box/declared.ts';
import { BOX_CREDENTIALS, BOX_REGION } from '../../infra/aws-box/moto.ts';
import { startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// GitHub webhooks and the event routes on the AWS box, served by the declared Api function behind
// the API Gateway stand-in (docs/aws-box.md). The box has no GitHub: a bare repository under
// SHIPLOG_BOX_GITHUB_DIR stands in for github.com/Codertocat/Hello-World, and the CodeBuild
// stand-in fetches the GITHUB source the build service asked for from it. One box for the file.

type Payload = Record<string, unknown> & { ref: string; head_commit: Record<string, unknown> | null };
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Payload[] }[];
const branchPush = examples.find((e) => e.name === 'push')!.examples.find((p) => p.ref === 'refs/heads/master' && p.head_commit)!;
const ping = examples.find((e) => e.name === 'ping')!.examples.find((p) => p.repository)!;
const prefix = 'shiplog-box';
const githubLocation = 'https://github.com/Codertocat/Hello-World.git';

describe('the AWS box: GitHub webhooks, replay and dead letters through the Api function', () => {
  let sl: LocalShiplog;
  let githubDir: string;
  let config: string;
  let apiUrl: string;
  let endpoint: string;
  let secret: string;
  let sha: string;
  /** The CLI as a user elsewhere runs it: no data dir of the box, only what `shiplog login` stored. */
  const user = (args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...sl.env, XDG_CONFIG_HOME: config, SHIPLOG_DATA_DIR: join(config, 'no-data-dir'), SHIPLOG_URL: apiUrl };
    delete env.SHIPLOG_TOKEN;
    const r = spawnSync(process.execPath, ['cli/shiplog.mjs', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  const aws = { region: BOX_REGION, credentials: BOX_CREDENTIALS };
  const deliver = async (body: string, signature: string | undefined, delivery: string = randomUUID(), o: { event?: string; path?: string } = {}) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json', 'x-github-event': o.event ?? 'push', 'x-github-delivery': delivery, 'user-agent': 'GitHub-Hookshot/box',
      ...(signature ? { 'x-hub-signature-256': signature } : {}),
    };
    // A connection per delivery, as GitHub makes: a refusal closes its connection (routes/webhooks.ts).
    return new Promise<{ status: number; requestId: string | undefined; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(`${apiUrl}${o.path ?? '/webhooks/github/gh-web'}`, { method: 'POST', agent: false, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: res.headers['apigw-requestid'] as string | undefined, body: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  /** The project's stored events committed in a window (`replay events` dry run, through the Api function). */
  const projectEvents = (from: string, to: string): StoredEvent[] => {
    const r = user(['replay', 'events', '--from', from, '--to', to, '--json']);
    expect(r.status, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as StoredEvent[]).filter((e) => e.metadata.projectId === 'gh-web');
  };

  beforeAll(async () => {
    // github.com/Codertocat/Hello-World, as the box sees it: one commit on master
    githubDir = mkdtempSync(join(tmpdir(), 'shiplog-box-github-'));
    const work = join(githubDir, 'work');
    mkdirSync(work);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'master');
    writeFileSync(join(work, 'README.md'), 'Hello World from a push webhook\n');
    writeFileSync(join(work, 'package.json'), '{ "name": "hello-world", "private": true }\n');
    git('add', '.');
    git('-c', 'user.name=Codertocat', '-c', 'user.email=codertocat@example.com', 'commit', '-q', '-m', 'hello');
    sha = git('rev-parse', 'HEAD');
    mkdirSync(join(githubDir, 'Codertocat'));
    execFileSync('git', ['clone', '-q', '--bare', work, join(githubDir, 'Codertocat', 'Hello-World.git')]);

    sl = await startShiplog({ runtime: 'aws-box', env: { SHIPLOG_BOX_GITHUB_DIR: githubDir } });
    apiUrl = `http://localhost:${sl.port}`;
    endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())![1]!;
    config = mkdtempSync(join(tmpdir(), 'shiplog-login-'));
    const { token } = sl.json<{ token: string }>(['tokens', 'create', 'hooks-user']);
    const login = user(['login', '--url', apiUrl, '--token', token]);
    expect(login.status, login.stderr).toBe(0);
    const project = user(['projects', 'create', 'gh-web', '--repo', 'https://github.com/Codertocat/Hello-World', '--branch', 'master', '--json']);
    expect(project.status, project.stderr).toBe(0);
    secret = (JSON.parse(project.stdout) as { webhookSecret: string }).webhookSecret;
  }, 360_000);

  afterAll(async () => {
    await sl?.stop();
    for (const dir of [githubDir, config]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a push with a wrong signature or none (401) and records nothing', async () => {
    const from = new Date().toISOString();
    const body = JSON.stringify({ ...branchPush, after: sha, head_commit: { ...branchPush.head_commit, id: sha } });
    const wrong = await deliver(body, await sign('not-the-secret', body));
    expect(wrong.status).toBe(401);
    expect(wrong.requestId, 'answered by the Api function behind API Gateway').toBeTruthy();
    expect((await deliver(body, undefined)).status).toBe(401);
    expect(projectEvents(from, new Date(Date.now() + 1000).toISOString())).toEqual([]);
  });

  it('finds the project of a hook that names none by its repository (a real ping, on the Hello-World repository)', async () => {
    const body = JSON.stringify({ ...ping, repository: branchPush.repository });
    const res = await deliver(body, await sign(secret, body), randomUUID(), { event: 'ping', path: '/webhooks/github' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ ok: true, projectId: 'gh-web' });
    expect(res.requestId).toBeTruthy();
  });

  it('a signed push (a real @octokit/webhooks-examples payload) starts a CodeBuild build of the GitHub repository at the pushed commit', async () => {
    const body = JSON.stringify({ ...branchPush, after: sha, head_commit: { ...branchPush.head_commit, id: sha } });
    const res = await deliver(body, await sign(secret, body));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.requestId).toBeTruthy();
    expect(res.body).toMatchObject({ projectId: 'gh-web', status: 'deploying', target: 'production', branch: 'master', sha });
    const deploymentId = res.body.deploymentId as string;

    // The build service asked CodeBuild for the GitHub source at the sha (no S3 snapshot).
    const codebuild = new CodeBuildClient({ ...aws, endpoint });
    let build: Build | undefined;
    await expect.poll(async () => {
      const { ids = [] } = await codebuild.send(new ListBuildsForProjectCommand({ projectName: `${prefix}-build` }));
      const { builds = [] } = ids.length ? await codebuild.send(new BatchGetBuildsCommand({ ids })) : {};
      build = builds.find((b) => b.environment?.environmentVariables?.some((v) => v.name === 'SHIPLOG_DEPLOYMENT_ID' && v.value === deploymentId));
      return build?.phases?.find((p) => p.phaseType === 'DOWNLOAD_SOURCE')?.phaseStatus;
    }, { timeout: 120_000, interval: 500 }).toBe('SUCCEEDED').catch((err: Error) => {
      throw new Error(`${err.message}\nbuild: ${JSON.stringify(build)}\n${sl.output().slice(-3000)}`);
    });
    expect(build!.source).toMatchObject({ type: 'GITHUB', location: githubLocation });
    expect(build!.sourceVersion).toBe(sha);
    // Through the stage's declared GitHub connection (declared-only on the box: moto has no CodeConnections).
    const connection = stateOf({ type: 'aws:codeconnections/connection:Connection', name: 'GitHubConnection', inputs: { name: `${prefix}-github` } }).arn;
    expect(connection).toMatch(/^arn:aws:codeconnections:/);
    expect(build!.source!.auth).toEqual({ type: 'CODECONNECTIONS', resource: connection });

    // The deployment's history, read through the Api function: requested by the push, build started.
    const events = await fetch(`${apiUrl}/api/deployments/${deploymentId}/events`, { headers: { authorization: `Bearer ${sl.adminToken()}` } });
    const types = ((await events.json()) as { type: string }[]).map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['PushReceived', 'DeploymentRequested']);
    expect(types).toContain('BuildStarted');
    // `shiplog replay deployment` through the Api function: the push that asked for it, the GitHub commit.
    const replayed = user(['replay', 'deployment', deploymentId, '--json']);
    expect(replayed.status, replayed.stderr).toBe(0);
    const r = JSON.parse(replayed.stdout) as { state: { trigger: string; commit: { sha: string } }; timeline: { type: string }[] };
    expect(r.state).toMatchObject({ trigger: 'push', commit: { sha } });
    expect(r.timeline.map((t) => t.type)).toContain('BuildStarted');
    // Delivered again, the push is a duplicate: 200, no second deployment.
    expect((await deliver(body, await sign(secret, body), res.body.deliveryId as string)).status).toBe(200);
  }, 180_000);

  it('`shiplog replay events --to-bus` and `shiplog events dlq list|redrive` work against the box as against npm start', async () => {
    const created = projectEvents('2020-01-01T00:00:00Z', new Date(Date.now() + 1000).toISOString()).find((e) => e.type === 'ProjectCreated')!;
    expect(created).toBeDefined();
    const got = user(['events', 'get', created.metadata.eventId, '--json']);
    expect(got.status, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual(created);
    const from = created.recordedAt;
    const to = new Date(Date.parse(from) + 1).toISOString();

    // Replay: put back on the shiplog bus by the Api function (PutEvents).
    const replay = user(['replay', 'events', '--from', from, '--to', to, '--pattern', '{"detail-type":["ProjectCreated"]}', '--to-bus', '--json']);
    expect(replay.status, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ published: 1, firstEventId: created.metadata.eventId, lastEventId: created.metadata.eventId });
    const human = user(['replay', 'events', '--from', from, '--to', to, '--pattern', '{"detail-type":["ProjectCreated"]}', '--to-bus']);
    expect(human.stdout).toMatch(/^replayed 1 of \d+ events committed from .* onto the bus$/m);

    // Dead letters: none, then one that Lambda sent to the Projections function's queue.
    const empty = user(['events', 'dlq', 'list', '--json']);
    expect(empty.status, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    expect(user(['events', 'dlq', 'list']).stdout.trim()).toBe('no dead letters');

    const sqs = new SQSClient({ ...aws, endpoint });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${prefix}-Projections-dlq` }));
    const fn = await new LambdaClient({ ...aws, endpoint }).send(new GetFunctionCommand({ FunctionName: `${prefix}-Projections` }));
    const event = toEventBridgeEvent(created, catalog.ProjectCreated.source, { account: '123456789012', region: BOX_REGION });
    await sqs.send(new SendMessageCommand({
      QueueUrl, MessageBody: JSON.stringify({
        version: '1.0', timestamp: new Date().toISOString(),
        requestContext: { requestId: randomUUID(), functionArn: `${fn.Configuration!.FunctionArn!}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'Error', errorMessage: 'views table throttled' },
      }),
    }));
    const listed = user(['events', 'dlq', 'list', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const letters = JSON.parse(listed.stdout) as { id: string; subscription: string; errorCode: string; attempts: number; event: typeof event }[];
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ subscription: 'Projections', errorCode: 'RetryAttemptsExhausted', attempts: 3, event: { id: created.metadata.eventId } });
    expect(user(['events', 'dlq', 'list', '--subscription', 'Projections']).stdout).toContain(`Projections  ProjectCreated ${created.metadata.eventId}  RetryAttemptsExhausted after 3: Error: views table throttled`);

    const redrive = user(['events', 'dlq', 'redrive', 'Projections', '--json']);
    expect(redrive.status, redrive.stderr).toBe(0);
    expect(JSON.parse(redrive.stdout)).toEqual({ redriven: 1 });
    expect(JSON.parse(user(['events', 'dlq', 'list', '--json']).stdout)).toEqual([]);
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    const unknown = user(['events', 'dlq', 'redrive', 'NoSuchSubscription']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('404');
  }, 180_000);
});
