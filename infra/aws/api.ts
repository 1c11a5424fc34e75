import type { Input } from '@pulumi/pulumi';
import { pkSkTableDefinition } from '../../events/store/index.ts';
import { siteLogsRead, type AdapterResources, type NamedArn } from './adapter-access.ts';
import type { Cloud, DeclareFunction, LinkSpec, PermissionSpec } from './cloud.ts';
import { tableArgsFrom } from './event-store.ts';
import { FunctionEnv, siteFunctionPattern, type StackNames } from './names.ts';
import { busPut } from './permissions.ts';
import { secretEnvironment, secretsWrite, type SecretResources } from './secrets.ts';

/**
 * The platform API's Lambda handler, in SST's `<module>.<export>` form.
 *
 * @example
 * s.spec('Api').handler === API_HANDLER; // true
 */
export const API_HANDLER = 'infra/aws/functions/api.handler';

/**
 * API Gateway's integration timeout for an HTTP API (its hard limit is 30 s); the function gets
 * the same, so a slow request ends as a 504 rather than running on with nobody waiting.
 *
 * @example
 * API_TIMEOUT_SECONDS; // 29
 */
export const API_TIMEOUT_SECONDS = 29;

/**
 * The calls `dynamoTokenStore` makes (`services/access`): `TransactWriteItems` is authorised per
 * item, as `PutItem`. No `DeleteItem`, no `Scan`: a token is revoked by an update, listed by a query.
 *
 * @example
 * TOKENS_ACTIONS.includes('dynamodb:DeleteItem'); // false
 */
export const TOKENS_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/**
 * Steady-state requests per second and burst of the API's `$default` stage: enough for the CLI,
 * the dashboard and webhooks, and a cap on how fast anyone can guess tokens.
 *
 * @example
 * API_THROTTLE; // { rateLimit: 50, burstLimit: 100 }
 */
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * What the API declaration is made from: the stack's names, the event store link, the
 * environment every function gets, and the adapters' resources (build logs, site aliases).
 *
 * @example
 * declareApi(cloud, { names, declareFunction, eventStore: links[0], environment, resources: adapters.resources, secrets: secrets.resources, bus, deadLetters });
 */
export interface ApiInput {
  names: StackNames;
  declareFunction: DeclareFunction;
  /** The event store link: the API reads streams and appends commands' events, it never puts on the bus. */
  eventStore: LinkSpec;
  environment: Record<string, Input<string>>;
  resources: AdapterResources;
  /** The secret store: the API writes env vars, credentials and signing secrets. */
  secrets: SecretResources;
  /** The shiplog bus: `POST /api/replay` puts stored events back on it. */
  bus: { arn: Input<string> };
  /** The subscriptions' dead-letter queues (`/api/dlq`), each with the function its letters are redriven to. */
  deadLetters: DeadLetterAccess[];
}

/**
 * One dead-letter queue the API reads and the function it redrives that queue's letters to.
 *
 * @example
 * const d: DeadLetterAccess = { queueArn: dlq.arn, functionArn: fn.arn };
 */
export interface DeadLetterAccess {
  queueArn: Input<string>;
  functionArn: Input<string>;
}

/**
 * The SQS actions `sqsDeadLetters` sends (`events/bus/sqs-dead-letters.ts`): the batch calls are
 * authorised as their single forms. No `SendMessage`, no `PurgeQueue`.
 *
 * @example
 * DEAD_LETTER_ACTIONS.includes('sqs:PurgeQueue'); // false
 */
export const DEAD_LETTER_ACTIONS = ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'] as const;

/**
 * What the event routes need on AWS: `PutEvents` on the shiplog bus (replays), the dead-letter
 * queues' reads and deletes, and asynchronous invokes of exactly the functions those queues
 * serve (redrive).
 *
 * @example
 * eventRoutesAccess({ bus, deadLetters }); // [{ actions: ['events:PutEvents'], … }, { actions: [...DEAD_LETTER_ACTIONS], … }, …]
 */
export const eventRoutesAccess = (input: Pick<ApiInput, 'bus' | 'deadLetters'>): PermissionSpec[] => [
  ...busPut(input.bus.arn),
  ...(input.deadLetters.length === 0 ? [] : [
    { actions: [...DEAD_LETTER_ACTIONS], resources: input.deadLetters.map((d) => d.queueArn) },
    { actions: ['lambda:InvokeFunction'], resources: input.deadLetters.map((d) => d.functionArn) },
  ]),
];

/**
 * What the API function may do beyond the event store: its tokens table, `shiplog deploy`'s
 * uploads and sources in the artifacts bucket, the build log group
 * (reads only: `shiplog logs`), the site functions' aliases (reads only: which deployment is live)
 * and their log groups (FilterLogEvents: runtime logs, metrics and costs).
 *
 * @example
 * apiAccess(cloud, { tokens: { name, arn }, resources }); // [{ actions: [...TOKENS_ACTIONS], resources: [arn] }, …]
 */
export const apiAccess = (cloud: Cloud, input: { tokens: NamedArn; resources: AdapterResources }): PermissionSpec[] => {
  const { pulumi } = cloud;
  const { resources: r, tokens } = input;
  const { region, accountId } = r.scope;
  return [
    { actions: [...TOKENS_ACTIONS], resources: [tokens.arn] },
    // `shiplog deploy`: presigned PUTs of archives under uploads/ (read back, then deleted), kept as
    // sources/<project>/<sha>.zip with their commit record beside them (`s3SourceRepos`).
    { actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], resources: [pulumi.interpolate`${r.artifactsBucket.arn}/uploads/*`] },
    { actions: ['s3:PutObject', 's3:GetObject'], resources: [pulumi.interpolate`${r.artifactsBucket.arn}/sources/*`] },
    { actions: ['logs:DescribeLogStreams'], resources: [r.buildLogGroup.arn, pulumi.interpolate`${r.buildLogGroup.arn}:*`] },
    { actions: ['logs:GetLogEvents'], resources: [pulumi.interpolate`${r.buildLogGroup.arn}:log-stream:*`] },
    {
      actions: ['lambda:GetAlias', 'lambda:GetFunctionConfiguration'],
      resources: [pulumi.interpolate`arn:aws:lambda:${region}:${accountId}:function:${siteFunctionPattern(r.prefix)}`],
    },
    ...siteLogsRead(cloud, r),
  ];
};

/** The admin token function's Lambda handler (`infra/aws/functions/admin-token.ts`), in SST's `<module>.<export>` form. */
export const ADMIN_TOKEN_HANDLER = 'infra/aws/functions/admin-token.handler';

/**
 * The environment of the admin token function.
 *
 * @example
 * process.env[AdminTokenEnv.tokensTable]; // 'shiplog-tokens'
 */
export const AdminTokenEnv = {
  tokensTable: 'SHIPLOG_TOKENS_TABLE',
  /** The API's URL, returned with the token so `shiplog login --aws` needs nothing else. */
  apiUrl: 'SHIPLOG_API_URL',
} as const;

/**
 * Declares the platform API on AWS: the `Api` function (`infra/aws/functions/api.ts`, the Hono
 * app `shiplog dev` serves) behind an API Gateway HTTP API — one `$default` route, a Lambda proxy
 * integration with payload format 2.0, an auto-deployed `$default` stage with throttling, and the
 * permission for API Gateway to invoke it — plus the API tokens table. `url` is the API's
 * endpoint (a stack output). See `docs/decisions.md` for HTTP API over a function URL.
 *
 * @example
 * const api = declareApi(cloud, { names, declareFunction, eventStore, environment, resources, secrets });
 * return { api: api.url };
 */
export const declareApi = (cloud: Cloud, input: ApiInput) => {
  const { aws, pulumi } = cloud;
  const { names, resources: r } = input;
  const tokens = new aws.dynamodb.Table('Tokens', { ...tableArgsFrom(pkSkTableDefinition(names.tokensTable)), pointInTimeRecovery: { enabled: true } });
  // Before the function: its environment carries the API's own URL (the webhook URLs it shows).
  const api = new aws.apigatewayv2.Api('Api', {
    name: names.api,
    protocolType: 'HTTP',
    description: 'shiplog platform API: every route goes to the Api function',
  });
  const fn = input.declareFunction({
    name: 'Api',
    handler: API_HANDLER,
    description: 'shiplog platform API (projects, deployments, logs, domains, tokens, webhooks, replay, DLQ) behind API Gateway',
    environment: {
      [FunctionEnv.eventsTable]: input.environment[FunctionEnv.eventsTable]!,
      [FunctionEnv.prefix]: input.environment[FunctionEnv.prefix]!,
      [FunctionEnv.busName]: input.environment[FunctionEnv.busName]!,
      [FunctionEnv.tokensTable]: tokens.name,
      [FunctionEnv.apiUrl]: api.apiEndpoint,
      // The build and deploy adapters the routes read through (`awsApi`, infra/aws/runtime/root.ts).
      [FunctionEnv.buildProject]: r.buildProject.name,
      [FunctionEnv.buildLogGroup]: r.buildLogGroup.name,
      [FunctionEnv.artifactsBucket]: r.artifactsBucket.name,
      [FunctionEnv.sitesBucket]: r.sitesBucket.name,
      [FunctionEnv.siteRoleArn]: r.siteRoleArn,
      [FunctionEnv.siteDomain]: r.siteDomain,
      ...secretEnvironment(input.secrets),
    },
    links: [input.eventStore],
    permissions: [
      ...apiAccess(cloud, { tokens: { name: tokens.name, arn: tokens.arn }, resources: r }),
      ...secretsWrite(cloud, input.secrets),
      ...eventRoutesAccess(input),
    ],
    timeoutSeconds: API_TIMEOUT_SECONDS,
  });
  const integration = new aws.apigatewayv2.Integration('ApiIntegration', {
    apiId: api.id,
    integrationType: 'AWS_PROXY',
    integrationUri: fn.arn,
    integrationMethod: 'POST',
    payloadFormatVersion: '2.0',
    timeoutMilliseconds: API_TIMEOUT_SECONDS * 1000,
  });
  const route = new aws.apigatewayv2.Route('ApiRoute', {
    apiId: api.id,
    routeKey: '$default',
    target: pulumi.interpolate`integrations/${integration.id}`,
  });
  const stage = new aws.apigatewayv2.Stage('ApiStage', {
    apiId: api.id,
    name: '$default',
    autoDeploy: true,
    defaultRouteSettings: { throttlingRateLimit: API_THROTTLE.rateLimit, throttlingBurstLimit: API_THROTTLE.burstLimit },
  });
  const permission = new aws.lambda.Permission('ApiInvoke', {
    function: fn.name,
    action: 'lambda:InvokeFunction',
    principal: 'apigateway.amazonaws.com',
    sourceArn: pulumi.interpolate`${api.executionArn}/*/*`,
  });
  // A bare stage's first admin token, for principals of the account allowed to invoke it
  // (`shiplog login --aws <function>`, the `adminTokenFunction` output): it may make tokens and nothing else.
  const adminToken = input.declareFunction({
    name: 'AdminToken',
    handler: ADMIN_TOKEN_HANDLER,
    description: "shiplog: makes an admin API token for an AWS principal allowed to invoke it (a bare stage's first token)",
    environment: { [AdminTokenEnv.tokensTable]: tokens.name, [AdminTokenEnv.apiUrl]: api.apiEndpoint },
    links: [],
    permissions: [{ actions: [...TOKENS_ACTIONS], resources: [tokens.arn] }],
    timeoutSeconds: 30,
  });
  return { tokens, function: fn, adminToken, api, integration, route, stage, permission, url: api.apiEndpoint };
};
