import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { monotonicFactory } from 'ulid';
import { ingestCommands, type GitRepos, type Ingest } from '../../services/ingest/index.ts';
import { KMSClient } from '@aws-sdk/client-kms';
import { subscriptions } from '../topology.ts';
import { FunctionEnv } from '../aws/names.ts';
import { AdminTokenEnv, OUTBOX_ENRICH_HANDLER } from '../aws/index.ts';
import { Hono } from 'hono';
import { ingestApi, platformApi, routeTable } from '../http/app.ts';
import { servedHosts, tokenVerifier } from '../http/auth.ts';
import { nodeListener } from '../http/node.ts';
import { startAccess } from '../local/access.ts';
import type { LocalConfig } from '../local/config.ts';
import { freePort, localSigner } from '../local/dynamodb-local.ts';
import { superviseDynamoLocal } from '../local/dynamodb-supervisor.ts';
import { localIngestDeps } from '../local/ingest.ts';
import { localGitRepos } from '../../services/ingest/adapters/git-repos/local.ts';
import { removeRuntimeFile, writeRuntimeFile } from '../local/runtime-file.ts';
import { apiGatewayStandIn } from './api-gateway.ts';
import { bundleFunctions } from './bundle.ts';
import { codeBuildStandIn } from './codebuild.ts';
import { DECLARED_ACCOUNT, declareStack, type DeclaredStack } from './declared.ts';
import { awsEndpoint } from './endpoint.ts';
import { eventBridgeStandIn, type DeliveredEvent } from './eventbridge.ts';
import { loadViewerRequestFunction, loadViewerResponseFunction } from '../aws/edge/runner.ts';
import { BODY_HASH_SOURCE, loadOriginRequestFunction } from '../aws/edge/body-hash.ts';
import { distributionTenantStandIn } from './distribution-tenants.ts';
import { frontDoor } from './front-door.ts';
import { functionUrlStandIn } from './function-urls.ts';
import { keyValueStoreStandIn } from './key-value-store.ts';
import { lambdaStandIn } from './lambda.ts';
import { materialize, type BoxClients } from './materialize.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto } from './moto.ts';
import { parseDeclaredPipe, pipeStandIn } from './pipe.ts';
import { sqsEventSourceStandIn } from './sqs-event-source.ts';

/** The stage the box declares: its resources are `shiplog-box-*`. */
export const BOX_STAGE = 'box';

/**
 * A running AWS box.
 *
 * @example
 * const box = await startAwsBox(localConfig());
 * box.awsEndpoint; // 'http://127.0.0.1:4566…' — point the aws CLI at it
 * await box.stop();
 */
export interface AwsBox {
  apiUrl: string;
  sitesUrl: string;
  awsEndpoint: string;
  motoEndpoint: string;
  dynamoEndpoint: string;
  stack: DeclaredStack;
  /** Every event put on a bus of the box (newest last), for tests and `events` logs. */
  events(): { bus: string; event: DeliveredEvent }[];
  /** Resolves once no Lambda async invocation is running or waiting for a retry. */
  lambdaIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startAwsBox}. */
export interface AwsBoxOptions {
  log?: (line: string) => void;
  /** Port of the AWS endpoint; default `SHIPLOG_BOX_AWS_PORT`, else a free one. */
  awsPort?: number;
  /** Scales schedule rates (reconcile rules); default `SHIPLOG_BOX_SCHEDULE_SCALE`, else 1. */
  scheduleScale?: number;
  /** Waits between Lambda's async retries; default 1 s and 2 s. */
  retryDelaysMs?: number[];
}

const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });

/**
 * The ingest's repositories, plus what shiplog's own git remote does on AWS before a build can
 * start: the pushed commit as a `<sha>.zip` snapshot under `sources/<project>/` of the artifacts
 * bucket (where the AWS build service points CodeBuild). Written when ingest reads the commit it
 * is about to request a deployment of.
 */
const snapshotting = (repos: GitRepos & { pathOf(projectId: string): string }, s3: S3Client, bucket: string): GitRepos => ({
  ...repos,
  readCommit: async (projectId, sha) => {
    const commit = await repos.readCommit(projectId, sha);
    const zip = execFileSync('git', ['--git-dir', repos.pathOf(projectId), 'archive', '--format=zip', sha], { maxBuffer: 512 << 20 });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sources/${projectId}/${sha}.zip`, Body: zip }));
    return commit;
  },
});

/**
 * The box's git remote over repositories of projects the Api function created: the function
 * makes no repository (AWS hosts none), so a project's bare repository is made on its first
 * push, on its production branch, when the project exists.
 */
const gitRemoteRepos = (repos: GitRepos, ingest: Pick<Ingest, 'getProject'>): GitRepos => ({
  ...repos,
  exists: async (projectId) => {
    if (await repos.exists(projectId)) return true;
    const project = await ingest.getProject(projectId);
    if (!project) return false;
    await repos.create(projectId, project.settings.productionBranch);
    return true;
  },
});

/**
 * Starts shiplog's AWS composition on this machine: moto and DynamoDB Local, the declared stack
 * created in them, the stand-ins (Lambda, EventBridge delivery, Pipes, CodeBuild, front door), the
 * platform API on the AWS root's ports, and the runtime file the CLI reads. Every start is a fresh
 * account: moto keeps its state in memory, so the box's data dir is emptied first.
 *
 * @example
 * const box = await startAwsBox({ dataDir: '/tmp/box', port: 3100, sitesPort: 3101 });
 */
export const startAwsBox = async (cfg: LocalConfig, opts: AwsBoxOptions = {}): Promise<AwsBox> => {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`aws box: while stopping: ${(err as Error).message}`));
  };
  try {
    const boxDir = join(cfg.dataDir, 'aws-box');
    rmSync(boxDir, { recursive: true, force: true });
    mkdirSync(boxDir, { recursive: true });

    // 1. moto and DynamoDB Local
    const [moto, db] = await Promise.all([
      startMoto({ log }),
      superviseDynamoLocal({ dataDir: join(boxDir, 'dynamodb'), loopbackOnly: true, log }),
    ]);
    stops.push(() => moto.stop(), () => db.stop());

    // 2. the one AWS endpoint, and the stand-ins behind it
    const awsPort = opts.awsPort ?? (Number(process.env.SHIPLOG_BOX_AWS_PORT) || (await freePort()));
    const endpointUrl = `http://127.0.0.1:${awsPort}`;
    const config = { endpoint: endpointUrl, region: BOX_REGION, credentials: BOX_CREDENTIALS };
    const direct = { ...config, endpoint: moto.endpoint };
    const clients: BoxClients = {
      apigateway: new ApiGatewayV2Client(config), dynamodb: new DynamoDBClient(config), logs: new CloudWatchLogsClient(config), codebuild: new CodeBuildClient(config),
      events: new EventBridgeClient(config), iam: new IAMClient(config), kms: new KMSClient(config), lambda: new LambdaClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }), sqs: new SQSClient(config),
    };
    const lambda = lambdaStandIn({
      lambda: new LambdaClient(direct), s3: new S3Client({ ...direct, forcePathStyle: true }), sqs: new SQSClient(config),
      codeDir: join(boxDir, 'lambda'), awsEndpoint: endpointUrl, log, logs: new CloudWatchLogsClient(direct),
      ...(opts.retryDelaysMs ? { retryDelaysMs: opts.retryDelaysMs } : {}),
      onFunctionLog: (fn, line) => {
        if (process.env.SHIPLOG_BOX_FUNCTION_LOGS === '1') log(`${fn}: ${line}`);
      },
    });
    stops.push(() => lambda.close());
    const seen: { bus: string; event: DeliveredEvent }[] = [];
    const eventbridge = eventBridgeStandIn({
      events: new EventBridgeClient(direct), sqs: new SQSClient(config), awsEndpoint: endpointUrl, log,
      invokeAsync: (arn, event) => lambda.invokeAsync(arn, undefined, event),
      scheduleScale: opts.scheduleScale ?? (Number(process.env.SHIPLOG_BOX_SCHEDULE_SCALE) || 1),
      onEvent: (event, bus) => {
        seen.push({ bus, event });
        if (seen.length > 10_000) seen.splice(0, seen.length - 10_000);
      },
    });
    stops.push(async () => eventbridge.stop());
    const codebuild = codeBuildStandIn({
      awsEndpoint: endpointUrl, workRoot: join(boxDir, 'codebuild'), log,
      // No GitHub here: GitHub sources come from bare repositories under this directory.
      githubDir: process.env.SHIPLOG_BOX_GITHUB_DIR || join(boxDir, 'github'),
      putEvents: async (entries) => {
        await eventbridge.putEvents(entries.map((e) => ({ ...e, Time: e.Time?.toISOString() })));
      },
    });
    stops.push(() => codebuild.stop());
    // CloudFront's data planes moto lacks: the sites' KeyValueStore, per-alias Function URLs, distribution tenants
    const keyValueStores = keyValueStoreStandIn();
    const functionUrls = functionUrlStandIn({ region: BOX_REGION, account: DECLARED_ACCOUNT });
    const tenants = distributionTenantStandIn({ account: DECLARED_ACCOUNT });
    const endpoint = createServer(awsEndpoint({
      moto: moto.endpoint, dynamodb: () => db.endpoint, codebuild, eventbridge, lambda, keyValueStores, functionUrls, tenants, log,
    }).handle);
    await listen(endpoint, awsPort, '127.0.0.1');
    stops.push(() => new Promise<void>((r) => endpoint.close(() => r())));

    // 3. the stack, as infra/aws declares it, created in moto and DynamoDB Local
    const stack = await declareStack(subscriptions, {
      stage: BOX_STAGE, siteDomain: 'localhost', functionName: (spec, prefix) => `${prefix}-${spec.name}`,
    });
    const code = await bundleFunctions([...stack.specs.map((s) => s.handler), OUTBOX_ENRICH_HANDLER], join(boxDir, 'bundle'));
    const made = await materialize(stack, clients, code);
    keyValueStores.create(made.edge.keyValueStore);
    const distributionId = made.edge.distributionArn.slice(made.edge.distributionArn.lastIndexOf('/') + 1);
    tenants.declare({
      name: `${stack.names.prefix}-sites`, distributionId, domains: made.edge.tenantDomains,
      ...(made.edge.certificateArn ? { certificateArn: made.edge.certificateArn } : {}),
    });
    const functionEnv = Object.assign(
      {},
      ...stack.ofType('aws:lambda/function:Function').map((f) => (f.inputs.environment as { variables?: Record<string, string> } | undefined)?.variables ?? {}),
    ) as Record<string, string>;
    const artifactsBucket = functionEnv[FunctionEnv.artifactsBucket]!;
    const sitesBucket = functionEnv[FunctionEnv.sitesBucket]!;

    // 4. the outbox pipe
    const [pipeDecl] = made.pipes;
    if (!pipeDecl) throw new Error('the declared stack has no outbox pipe');
    const busName = stack.names.bus;
    const enrichFn = `${stack.names.prefix}-OutboxEnrich`;
    const outboxDlq = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: `${stack.names.prefix}-outbox-dlq` }))).QueueUrl!;
    const pipe = pipeStandIn({
      pipe: parseDeclaredPipe(pipeDecl.inputs),
      // The box's DynamoDB Local checks no signature (see localSigner): the stand-in's polls do not sign.
      dynamodb: new DynamoDBClient({ ...config, endpoint: db.endpoint, signer: localSigner }),
      streams: new DynamoDBStreamsClient({ ...config, endpoint: db.endpoint, signer: localSigner }),
      tableName: stack.names.eventsTable,
      checkpointFile: join(boxDir, 'pipe-checkpoint.json'),
      pollMs: 200,
      enrich: async (records) => {
        const out = await lambda.invoke(enrichFn, '$LATEST', records);
        if (out.error) throw new Error(`${out.error.errorType}: ${out.error.errorMessage}`);
        return out.payload as unknown[];
      },
      putEvents: async (entries) => {
        const res = await eventbridge.putEvents(entries.map((e) => ({ ...e, EventBusName: busName, Time: e.Time?.toISOString() })));
        return { failed: res.FailedEntryCount };
      },
      deadLetter: async (body) => {
        await clients.sqs.send(new SendMessageCommand({ QueueUrl: outboxDlq, MessageBody: body }));
      },
      log,
    });
    await pipe.start();
    stops.push(() => pipe.stop());
    // Lambda's SQS event sources (ISR's revalidation queue), polled as Lambda polls them
    const sources = sqsEventSourceStandIn({
      lambda: new LambdaClient(direct), sqs: new SQSClient(config), awsEndpoint: endpointUrl, log,
      invoke: (arn, event) => lambda.invoke(arn, undefined, event),
    });
    await sources.start();
    stops.push(() => sources.stop());
    const schedules = await eventbridge.startSchedules('default');

    // 5. the platform API: the declared Api function behind the API Gateway stand-in, every route
    // but the shiplog git remote, which AWS does not have: the box serves `/git/*` in this process
    // (docs/aws-box.md). The Api and AdminToken functions learn the box's URL as the API's own, and
    // the Api function that a remote is served.
    Object.assign(process.env, functionEnv, {
      AWS_ENDPOINT_URL: endpointUrl, AWS_REGION: BOX_REGION, AWS_DEFAULT_REGION: BOX_REGION,
      AWS_ACCESS_KEY_ID: BOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: BOX_CREDENTIALS.secretAccessKey,
    });
    const [declaredApi] = made.apis;
    if (!declaredApi) throw new Error('the declared stack has no HTTP API');
    const apiUrl = `http://localhost:${cfg.port}`;
    const ownUrl = { Api: { [FunctionEnv.apiUrl]: apiUrl, [FunctionEnv.gitRemote]: 'served' }, AdminToken: { [AdminTokenEnv.apiUrl]: apiUrl } };
    for (const [name, vars] of Object.entries(ownUrl)) {
      const FunctionName = `${stack.names.prefix}-${name}`;
      const { Environment } = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName }));
      await clients.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName, Environment: { Variables: { ...Environment?.Variables, ...vars } } }));
    }
    const gateway = await apiGatewayStandIn({
      apigateway: clients.apigateway, apiId: declaredApi.apiId, accountId: DECLARED_ACCOUNT, log,
      invoke: (arn, event) => lambda.invokeRaw(arn, undefined, event),
    });
    const { awsApi, awsSecrets } = await import('../aws/runtime/root.ts');
    const ids = monotonicFactory();
    const now = () => new Date().toISOString();
    const { access } = await startAccess({ client: clients.dynamodb, tableName: stack.names.tokensTable, dataDir: cfg.dataDir, ids: () => ids(), now, log });
    const { store } = awsApi().deployments;
    // As on AWS, where many Api invocations append to project streams, every command reads the tail.
    const ingest = { ...(await localIngestDeps({ client: clients.dynamodb, store, dataDir: boxDir, publicUrl: apiUrl, secretsTable: stack.names.secretsTable })), soleProjectWriter: false };
    const commands = ingestCommands({ ...ingest, secrets: awsSecrets() });
    const inProcess = platformApi({
      ingest: ingestApi({
        ...ingest,
        repos: gitRemoteRepos(snapshotting(localGitRepos({ root: ingest.git.projectRoot }), clients.s3, artifactsBucket), commands),
        // The AWS secret store, as the Api function has it: SSM SecureString under the declared key.
        secrets: awsSecrets(),
      }),
      guard: { verify: tokenVerifier(access), hosts: servedHosts(cfg.port) },
      health: async () => {
        const unavailable: string[] = [];
        if (!(await db.usable())) unavailable.push('database');
        if (!(await moto.usable())) unavailable.push('aws');
        return { ok: unavailable.length === 0, unavailable };
      },
    });
    const ingestRoutes = new Hono();
    for (const r of routeTable(inProcess)) if (r.path.startsWith('/git/')) ingestRoutes.on(r.method, r.path, (c) => c.body(null, 204));
    const inProcessListener = nodeListener(inProcess);
    const api = createServer((req, res) => {
      void Promise.resolve(ingestRoutes.request(req.url ?? '/', { method: req.method ?? 'GET' })).then((m) =>
        m.status === 204 ? inProcessListener(req, res) : gateway.handle(req, res),
      );
    });
    await listen(api, cfg.port, '127.0.0.1');
    stops.push(() => new Promise<void>((r) => api.close(() => r())));

    // 6. the front door: the declared viewer-request function on the sites' KeyValueStore, then
    // the deployment's Function URL (run by the Lambda stand-in) or its S3 prefix in moto
    const siteRouter = loadViewerRequestFunction(made.edge.functionCode, (id) => keyValueStores.reader(id));
    const door = frontDoor({
      s3: new S3Client({ ...config, forcePathStyle: true }), sitesBucket, log,
      invoke: (fn, event) => lambda.invokeRaw(fn.functionName, fn.qualifier, event),
      edge: {
        run: (e) => siteRouter.run(e), urls: (host) => functionUrls.resolve(host), servesHost: (host) => tenants.servesHost(host),
        // the declared Lambda@Edge function that hashes request bodies, when the behaviours run it
        ...(made.edge.bodyHash ? { originRequest: loadOriginRequestFunction(BODY_HASH_SOURCE) } : {}),
        // the declared viewer-response function that adds the app's headers() to its files in S3
        ...(made.edge.responseFunctionCode !== undefined ? { viewerResponse: loadViewerResponseFunction(made.edge.responseFunctionCode).run } : {}),
      },
    });
    const sites = createServer(door.handle);
    await listen(sites, cfg.sitesPort, '127.0.0.1');
    stops.push(() => new Promise<void>((r) => sites.close(() => r())));

    const sitesUrl = `http://localhost:${cfg.sitesPort}`;
    writeRuntimeFile(cfg.dataDir, { pid: process.pid, startedAt: now(), dynamoEndpoint: db.endpoint, apiUrl, sitesUrl, tables: { events: stack.names.eventsTable, views: stack.names.viewsTable } });
    stops.push(async () => removeRuntimeFile(cfg.dataDir));
    log(`aws box: ${made.created} declared resources created, schedules ${schedules.join(', ') || 'none'}`);
    return {
      apiUrl, sitesUrl, awsEndpoint: endpointUrl, motoEndpoint: moto.endpoint, dynamoEndpoint: db.endpoint, stack,
      events: () => [...seen],
      lambdaIdle: () => lambda.idle(),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
};
