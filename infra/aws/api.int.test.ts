import { describe, expect, it } from 'vitest';
import { pkSkTableDefinition } from '../../events/store/index.ts';
import { subscriptions } from '../topology.ts';
import { ADMIN_TOKEN_HANDLER, API_HANDLER, API_THROTTLE, DEAD_LETTER_ACTIONS, deadLetterQueueName, EVENT_STORE_ACTIONS, LinkName, TOKENS_ACTIONS } from './index.ts';
import { ACCOUNT, arnOf, BUCKET_SUFFIX, declareUnderMocks, REGION, resolved } from './mocked-stack.ts';

// The platform API on AWS (api.ts), declared under Pulumi mocks: the function with its environment
// and its IAM statements written out in full, the HTTP API wired to it, the tokens table.

const Api = 'aws:apigatewayv2/api:Api';
const Integration = 'aws:apigatewayv2/integration:Integration';
const Route = 'aws:apigatewayv2/route:Route';
const Stage = 'aws:apigatewayv2/stage:Stage';
const Permission = 'aws:lambda/permission:Permission';
const Table = 'aws:dynamodb/table:Table';
const Queue = 'aws:sqs/queue:Queue';
const withDlq = subscriptions.filter((x) => x.policy.deadLetter);
const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/shiplog-ci-build`;

describe('the platform API on AWS (infra/aws/api.ts)', () => {
  it('declares the Api function with the API entry, its environment and nothing it does not use', async () => {
    const s = await declareUnderMocks(subscriptions);
    const spec = s.spec('Api');
    expect(spec.handler).toBe(API_HANDLER);
    expect(spec.timeoutSeconds).toBe(29);
    expect(await resolved(spec.environment)).toEqual({
      SHIPLOG_EVENTS_TABLE: 'shiplog-ci-events',
      SHIPLOG_PREFIX: 'shiplog-ci',
      SHIPLOG_BUS_NAME: 'shiplog-ci',
      SHIPLOG_TOKENS_TABLE: 'shiplog-ci-tokens',
      SHIPLOG_API_URL: `https://Api-id.execute-api.${REGION}.amazonaws.com`,
      SHIPLOG_BUILD_PROJECT: 'shiplog-ci-build',
      SHIPLOG_BUILD_LOG_GROUP: '/aws/codebuild/shiplog-ci-build',
      SHIPLOG_ARTIFACTS_BUCKET: `shiplog-ci-artifacts-${BUCKET_SUFFIX}`,
      SHIPLOG_SITES_BUCKET: `shiplog-ci-sites-${BUCKET_SUFFIX}`,
      SHIPLOG_SITE_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/shiplog-ci-site`,
      SHIPLOG_SITE_DOMAIN: 'apps.example.com',
      SHIPLOG_SECRETS_TABLE: 'shiplog-ci-secrets',
      SHIPLOG_SECRETS_KEY: 'alias/shiplog-ci-secrets',
    });
  });

  it('grants the event store (read and append), the tokens table, build log reads, site alias and site log reads, the secret store, replays onto the bus, the dead letters, and nothing else', async () => {
    const s = await declareUnderMocks(subscriptions);
    const spec = s.spec('Api');
    expect(spec.links.map((l) => l.name)).toEqual([LinkName.eventStore]);
    const events = arnOf(Table, 'shiplog-ci-events');
    expect(await resolved(spec.links[0]!.permissions)).toEqual([{ actions: [...EVENT_STORE_ACTIONS], resources: [events, `${events}/index/*`] }]);
    expect(await resolved(spec.permissions)).toEqual([
      { actions: [...TOKENS_ACTIONS], resources: [arnOf(Table, 'shiplog-ci-tokens')] },
      // shiplog deploy: presigned uploads (read back, deleted) and the sources CodeBuild reads.
      { actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], resources: [`arn:aws:s3:::shiplog-ci-artifacts-${BUCKET_SUFFIX}/uploads/*`] },
      { actions: ['s3:PutObject', 's3:GetObject'], resources: [`arn:aws:s3:::shiplog-ci-artifacts-${BUCKET_SUFFIX}/sources/*`] },
      { actions: ['logs:DescribeLogStreams'], resources: [logGroup, `${logGroup}:*`] },
      { actions: ['logs:GetLogEvents'], resources: [`${logGroup}:log-stream:*`] },
      { actions: ['lambda:GetAlias', 'lambda:GetFunctionConfiguration'], resources: [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:shiplog-ci-site-*`] },
      { actions: ['logs:FilterLogEvents'], resources: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/shiplog-ci-site-*:*`] },
      // The secret store (secrets.ts): its parameters only, the stack's key only through SSM, the pointers table.
      {
        actions: ['ssm:PutParameter', 'ssm:GetParameter'],
        resources: ['env', 'project', 'subscription'].map((p) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shiplog-ci/${p}/*`),
      },
      {
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [`arn:aws:kms:${REGION}:${ACCOUNT}:key/Secrets`],
        conditions: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`ssm.${REGION}.amazonaws.com`] }],
      },
      { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], resources: [arnOf(Table, 'shiplog-ci-secrets')] },
      // The event routes: replays onto the shiplog bus (no other), the topology's dead-letter
      // queues (read, delete; no send, no purge) and async invokes of exactly their functions.
      { actions: ['events:PutEvents'], resources: [arnOf('aws:cloudwatch/eventBus:EventBus', 'shiplog-ci')] },
      { actions: [...DEAD_LETTER_ACTIONS], resources: withDlq.map((x) => arnOf(Queue, deadLetterQueueName('shiplog-ci', x.name))) },
      { actions: ['lambda:InvokeFunction'], resources: withDlq.map((x) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${x.name}`) },
    ]);
    // The queues the Api function reads by name are the declared ones.
    expect(s.ofType(Queue).map((q) => q.inputs.name)).toEqual(expect.arrayContaining(withDlq.map((x) => deadLetterQueueName('shiplog-ci', x.name))));
    expect(DEAD_LETTER_ACTIONS).not.toContain('sqs:SendMessage');
    expect(TOKENS_ACTIONS).not.toContain('dynamodb:DeleteItem');
    expect(TOKENS_ACTIONS).not.toContain('dynamodb:Scan');
  });

  it('puts the function behind an HTTP API: one $default route, a payload 2.0 proxy integration, a throttled auto-deployed stage', async () => {
    const s = await declareUnderMocks(subscriptions);
    const api = s.one(Api, 'Api');
    expect(api.inputs).toMatchObject({ name: 'shiplog-ci-api', protocolType: 'HTTP' });
    const integration = s.one(Integration, 'ApiIntegration');
    expect(integration.inputs).toMatchObject({
      apiId: 'Api-id', integrationType: 'AWS_PROXY', integrationMethod: 'POST', payloadFormatVersion: '2.0', timeoutMilliseconds: 29_000,
      integrationUri: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Api`,
    });
    expect(s.one(Route, 'ApiRoute').inputs).toMatchObject({ apiId: 'Api-id', routeKey: '$default', target: 'integrations/ApiIntegration-id' });
    expect(s.one(Stage, 'ApiStage').inputs).toMatchObject({
      apiId: 'Api-id', name: '$default', autoDeploy: true,
      defaultRouteSettings: { throttlingRateLimit: API_THROTTLE.rateLimit, throttlingBurstLimit: API_THROTTLE.burstLimit },
    });
    // API Gateway may invoke the function for this API only.
    expect(s.one(Permission, 'ApiInvoke').inputs).toMatchObject({
      function: 'Api', action: 'lambda:InvokeFunction', principal: 'apigateway.amazonaws.com',
      sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:Api-id/*/*`,
    });
    expect(s.ofType(Api)).toHaveLength(1);
    expect(s.ofType(Route)).toHaveLength(1);
  });

  it('declares the tokens table as the local runtime creates it, and hands out the API URL', async () => {
    const s = await declareUnderMocks(subscriptions);
    const tokens = s.one(Table, 'Tokens');
    const def = pkSkTableDefinition('shiplog-ci-tokens');
    expect(tokens.inputs).toMatchObject({
      name: def.TableName, billingMode: def.BillingMode, hashKey: 'pk', rangeKey: 'sk',
      attributes: def.AttributeDefinitions?.map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
    });
    expect(tokens.inputs.pointInTimeRecovery).toEqual({ enabled: true });
    expect(await resolved(s.stack.api.url)).toBe(`https://Api-id.execute-api.${REGION}.amazonaws.com`);
  });

  it("declares the admin token function: a bare stage's first token, for principals allowed to invoke it; tokens table only", async () => {
    const s = await declareUnderMocks(subscriptions);
    const spec = s.spec('AdminToken');
    expect(spec.handler).toBe(ADMIN_TOKEN_HANDLER);
    expect(await resolved(spec.environment)).toEqual({ SHIPLOG_TOKENS_TABLE: 'shiplog-ci-tokens', SHIPLOG_API_URL: `https://Api-id.execute-api.${REGION}.amazonaws.com` });
    expect(spec.links).toEqual([]);
    expect(await resolved(spec.permissions)).toEqual([{ actions: [...TOKENS_ACTIONS], resources: [arnOf(Table, 'shiplog-ci-tokens')] }]);
    // Nothing invokes it for the deployer: no permission for another principal, no invocation.
    expect(s.ofType(Permission).filter((p) => p.inputs.function === 'AdminToken')).toEqual([]);
    expect(s.ofType('aws:lambda/invocation:Invocation').map((i) => i.inputs.functionName)).not.toContain('AdminToken');
  });

  it('expires uploads nobody deployed: a one-day lifecycle rule on the artifacts bucket\'s uploads/', async () => {
    const s = await declareUnderMocks(subscriptions);
    expect(s.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', 'ArtifactsUploadsExpiry').inputs).toMatchObject({
      bucket: `shiplog-ci-artifacts-${BUCKET_SUFFIX}`,
      rules: [{ id: 'uploads-expire', status: 'Enabled', filter: { prefix: 'uploads/' }, expiration: { days: 1 } }],
    });
  });

  it('names the production stage plainly', async () => {
    const s = await declareUnderMocks(subscriptions, { stage: 'production' });
    expect(s.one(Api, 'Api').inputs.name).toBe('shiplog-api');
    expect(s.one(Table, 'Tokens').inputs.name).toBe('shiplog-tokens');
  });
});
