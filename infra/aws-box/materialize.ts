import { ACMClient, RequestCertificateCommand } from '@aws-sdk/client-acm';
import {
  CreateApiCommand, CreateIntegrationCommand, CreateRouteCommand, CreateStageCommand, type ApiGatewayV2Client,
} from '@aws-sdk/client-apigatewayv2';
import { CloudFrontClient, CreateOriginAccessControlCommand } from '@aws-sdk/client-cloudfront';
import { CreateTableCommand, ResourceInUseException, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateLogGroupCommand, PutRetentionPolicyCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateProjectCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CreateEventBusCommand, PutRuleCommand, PutTargetsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreatePolicyCommand, CreateRoleCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, EnableKeyRotationCommand, type KMSClient } from '@aws-sdk/client-kms';
import { AddPermissionCommand, CreateEventSourceMappingCommand, CreateFunctionCommand, PutFunctionEventInvokeConfigCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand, PutBucketLifecycleConfigurationCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutPublicAccessBlockCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueUrlCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionCode } from './bundle.ts';
import type { DeclaredStack, Registered } from './declared.ts';
import { BOX_REGION } from './moto.ts';

// Creates the declared stack (`declared.ts`, the very declaration `sst deploy` ships) in moto and
// DynamoDB Local, resource by resource, in declaration order. A resource type this file does not
// know fails the start: a declaration the box cannot run is drift, said at once.

/** The clients resources are created with (all through the box's AWS endpoint). */
export interface BoxClients {
  apigateway: ApiGatewayV2Client;
  dynamodb: DynamoDBClient;
  logs: CloudWatchLogsClient;
  codebuild: CodeBuildClient;
  events: EventBridgeClient;
  iam: IAMClient;
  kms: KMSClient;
  lambda: LambdaClient;
  s3: S3Client;
  sqs: SQSClient;
}

/**
 * The AWS form of an ARN the Pulumi mocks gave in their generic `arn:aws:<provider module>:…:<kind>/<name>`
 * form (SQS queues, EventBridge rules and buses, DynamoDB tables); other ARNs are already AWS's.
 *
 * @example
 * awsArn('arn:aws:sqs:eu-west-1:123456789012:queue/shiplog-box-x-dlq'); // 'arn:aws:sqs:eu-west-1:123456789012:shiplog-box-x-dlq'
 */
export const awsArn = (arn: string): string =>
  arn
    .replace(/^arn:aws:sqs:([^:]*):([^:]*):queue\//, 'arn:aws:sqs:$1:$2:')
    .replace(/^arn:aws:cloudwatch:([^:]*):([^:]*):eventRule\//, 'arn:aws:events:$1:$2:rule/')
    .replace(/^arn:aws:cloudwatch:([^:]*):([^:]*):eventBus\//, 'arn:aws:events:$1:$2:event-bus/')
    .replace(/^arn:aws:dynamodb:([^:]*):([^:]*):table\//, 'arn:aws:dynamodb:$1:$2:table/');

const awsArnsIn = (text: string): string => text.replace(/arn:aws:[a-z0-9]+:[^"\s,]*/g, (m) => awsArn(m));

interface Attr { name: string; type: string }
interface Gsi { name: string; keySchemas: { attributeName: string; keyType: string }[]; projectionType: string; nonKeyAttributes?: string[] }

/**
 * The CreateTable input of a declared `aws:dynamodb/table:Table` (the inverse of `tableArgsFrom`).
 *
 * @example
 * createTableInput(s.one('aws:dynamodb/table:Table', 'EventStore').inputs).StreamSpecification; // { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' }
 */
export const createTableInput = (inputs: Record<string, unknown>): CreateTableCommandInput => {
  const gsis = (inputs.globalSecondaryIndexes as Gsi[] | undefined) ?? [];
  return {
    TableName: inputs.name as string,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: (inputs.attributes as Attr[]).map((a) => ({ AttributeName: a.name, AttributeType: a.type as 'S' })),
    KeySchema: [
      { AttributeName: inputs.hashKey as string, KeyType: 'HASH' },
      ...(inputs.rangeKey ? [{ AttributeName: inputs.rangeKey as string, KeyType: 'RANGE' as const }] : []),
    ],
    ...(gsis.length > 0
      ? {
          GlobalSecondaryIndexes: gsis.map((g) => ({
            IndexName: g.name,
            KeySchema: g.keySchemas.map((k) => ({ AttributeName: k.attributeName, KeyType: k.keyType as 'HASH' })),
            Projection: { ProjectionType: g.projectionType as 'ALL', ...(g.nonKeyAttributes ? { NonKeyAttributes: g.nonKeyAttributes } : {}) },
          })),
        }
      : {}),
    ...(inputs.streamEnabled ? { StreamSpecification: { StreamEnabled: true, StreamViewType: inputs.streamViewType as 'NEW_IMAGE' } } : {}),
  };
};

const queueName = (urlOrArn: string) => urlOrArn.split(/[/:]/).pop()!;

/**
 * The sites' CloudFront front (`infra/aws/sites-edge.ts`) as declared, for the box's front door:
 * moto has no CloudFront Functions, KeyValueStores or multi-tenant distributions, so these are
 * what the stand-ins run instead. The ids and ARNs are the declaration's (AWS-shaped: the store's
 * `id` is the last part of its ARN, the one the function's code reads with `cf.kvs()`).
 *
 * @example
 * const { edge } = await materialize(stack, clients, code);
 * loadViewerRequestFunction(edge.functionCode, (id) => (id === edge.keyValueStore.id ? kvs : missing));
 */
export interface MaterializedEdge {
  keyValueStore: { name: string; arn: string; id: string };
  /** The viewer-request function's code, its configuration filled in (`siteRouterCode`). */
  functionCode: string;
  distributionArn: string;
  /** The domains of every distribution tenant (`*.<siteDomain>` for the platform's own). */
  tenantDomains: string[];
  /** The sites certificate as moto holds it (requested in the region of its provider, us-east-1). */
  certificateArn?: string;
  /** Whether the site behaviours run the body-hash Lambda@Edge function on origin requests, with the body. */
  bodyHash: boolean;
  /** The viewer-response function's code (`ASSET_HEADERS_SOURCE`), when the stack declares it. */
  responseFunctionCode?: string;
}

/**
 * What {@link materialize} made that the stand-ins need: the pipe(s) moto cannot hold.
 *
 * @example
 * const made = await materialize(stack, clients, code);
 * made.pipes[0].inputs.name; // 'shiplog-box-outbox'
 */
export interface Materialized {
  pipes: Registered[];
  /** Each declared HTTP API by its logical name, with the id moto gave it. */
  apis: { name: string; apiId: string }[];
  edge: MaterializedEdge;
  /**
   * The declared resources the box has no stand-in for and creates nothing of, each with why:
   * the stage's GitHub connection (moto serves neither CodeConnections nor CodeStar Connections;
   * the CodeBuild stand-in records a build's `sourceAuthOverride` and fetches GitHub sources
   * from its own directory).
   */
  declaredOnly: { type: string; name: string; arn: string; reason: string }[];
  created: number;
}

/** Clients of the services the box creates only the sites' front in, on the Lambda client's endpoint and credentials. */
const edgeClients = (clients: BoxClients) => {
  const { endpoint, credentials } = clients.lambda.config;
  const acm = new Map<string, ACMClient>();
  return {
    acm: (region: string) => {
      const client = acm.get(region) ?? new ACMClient({ region, credentials, ...(endpoint ? { endpoint } : {}) });
      acm.set(region, client);
      return client;
    },
    // CloudFront's control plane is global, signed for us-east-1.
    cloudfront: new CloudFrontClient({ region: 'us-east-1', credentials, ...(endpoint ? { endpoint } : {}) }),
  };
};

/**
 * Creates every declared resource. Functions get the bundled code of shiplog's handlers and an
 * execution role carrying the permissions their spec declares (what SST would create).
 *
 * @example
 * await materialize(await declareStack(subscriptions, { stage: 'box' }), clients, await bundleFunctions(handlers, dir));
 */
export const materialize = async (stack: DeclaredStack, clients: BoxClients, code: FunctionCode): Promise<Materialized> => {
  const roleNames = new Map(stack.ofType('aws:iam/role:Role').map((r) => [`${r.name}-id`, r.state.name as string]));
  const pipes: Registered[] = [];
  const apis: { name: string; apiId: string }[] = [];
  // The mocks' ids (`<logical name>-id`) of HTTP APIs and integrations, to the ids moto gave them.
  const apiIds = new Map<string, string>();
  const apiId = (mockId: string) => apiIds.get(mockId) ?? mockId;
  const withApiIds = (text: string) => text.replace(/[\w-]+-id\b/g, (m) => apiId(m));
  // The mocks' key ids (`<logical name>-key-id`) of KMS keys, to the ids moto gave them.
  const keyIds = new Map<string, string>();
  const edgeApi = edgeClients(clients);
  const edge: Partial<MaterializedEdge> = { tenantDomains: [], bodyHash: false };
  const declaredOnly: Materialized['declaredOnly'] = [];
  let created = 0;
  const ignoreExisting = (err: unknown) => {
    if (err instanceof ResourceInUseException) return;
    const name = (err as Error).name;
    if (['BucketAlreadyOwnedByYou', 'ResourceAlreadyExistsException', 'EntityAlreadyExists', 'QueueAlreadyExists', 'ResourceConflictException'].includes(name)) return;
    throw err;
  };
  for (const r of stack.registered) {
    const i = r.inputs;
    const name = r.state.name as string;
    const create = async (): Promise<unknown> => {
      switch (r.type) {
        case 'aws:cloudwatch/eventBus:EventBus':
          return clients.events.send(new CreateEventBusCommand({ Name: name, ...(i.description ? { Description: i.description as string } : {}) }));
        case 'aws:dynamodb/table:Table': {
          await clients.dynamodb.send(new CreateTableCommand(createTableInput(i))).catch(ignoreExisting);
          const ttl = i.ttl as { attributeName: string; enabled: boolean } | undefined;
          if (ttl?.enabled) {
            await clients.dynamodb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: ttl.attributeName, Enabled: true } })).catch(() => undefined);
          }
          return;
        }
        case 'aws:sqs/queue:Queue':
          return clients.sqs.send(new CreateQueueCommand({
            QueueName: name,
            Attributes: {
              ...(i.messageRetentionSeconds ? { MessageRetentionPeriod: String(i.messageRetentionSeconds) } : {}),
              ...(i.fifoQueue ? { FifoQueue: 'true' } : {}),
              ...(i.visibilityTimeoutSeconds ? { VisibilityTimeout: String(i.visibilityTimeoutSeconds) } : {}),
              ...(i.redrivePolicy ? { RedrivePolicy: awsArnsIn(i.redrivePolicy as string) } : {}),
            },
          }));
        case 'aws:sqs/queuePolicy:QueuePolicy': {
          const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: queueName(i.queueUrl as string) }));
          return clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: awsArnsIn(i.policy as string) } }));
        }
        case 'aws:kms/key:Key': {
          const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ ...(i.description ? { Description: i.description as string } : {}) }));
          keyIds.set(r.state.keyId as string, KeyMetadata!.KeyId!);
          if (i.enableKeyRotation) await clients.kms.send(new EnableKeyRotationCommand({ KeyId: KeyMetadata!.KeyId! }));
          return;
        }
        case 'aws:kms/alias:Alias':
          return clients.kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyIds.get(i.targetKeyId as string) ?? (i.targetKeyId as string) }));
        case 'aws:iam/role:Role':
          return clients.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: i.assumeRolePolicy as string }));
        case 'aws:iam/policy:Policy':
          return clients.iam.send(new CreatePolicyCommand({
            PolicyName: name, PolicyDocument: awsArnsIn(i.policy as string), ...(i.description ? { Description: i.description as string } : {}),
          }));
        case 'aws:iam/rolePolicy:RolePolicy': {
          const role = roleNames.get(i.role as string) ?? (i.role as string);
          return clients.iam.send(new PutRolePolicyCommand({ RoleName: role, PolicyName: r.name, PolicyDocument: awsArnsIn(i.policy as string) }));
        }
        case 'aws:s3/bucket:Bucket':
          return clients.s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: BOX_REGION } }));
        case 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock':
          return clients.s3.send(new PutPublicAccessBlockCommand({
            Bucket: i.bucket as string,
            PublicAccessBlockConfiguration: {
              BlockPublicAcls: Boolean(i.blockPublicAcls), BlockPublicPolicy: Boolean(i.blockPublicPolicy),
              IgnorePublicAcls: Boolean(i.ignorePublicAcls), RestrictPublicBuckets: Boolean(i.restrictPublicBuckets),
            },
          }));
        case 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration': {
          const rules = i.rules as { id: string; status: string; filter?: { prefix?: string }; expiration?: { days?: number } }[];
          return clients.s3.send(new PutBucketLifecycleConfigurationCommand({
            Bucket: i.bucket as string,
            LifecycleConfiguration: {
              Rules: rules.map((rule) => ({
                ID: rule.id, Status: rule.status as 'Enabled', Filter: { Prefix: rule.filter?.prefix ?? '' },
                ...(rule.expiration?.days ? { Expiration: { Days: rule.expiration.days } } : {}),
              })),
            },
          }));
        }
        case 'aws:s3/bucketOwnershipControls:BucketOwnershipControls': {
          const rule = i.rule as { objectOwnership: string };
          return clients.s3.send(new PutBucketOwnershipControlsCommand({ Bucket: i.bucket as string, OwnershipControls: { Rules: [{ ObjectOwnership: rule.objectOwnership as 'BucketOwnerEnforced' }] } }));
        }
        case 'aws:cloudwatch/logGroup:LogGroup':
          await clients.logs.send(new CreateLogGroupCommand({ logGroupName: name })).catch(ignoreExisting);
          if (i.retentionInDays) await clients.logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: i.retentionInDays as number }));
          return;
        case 'aws:codebuild/project:Project': {
          const env = i.environment as { computeType: string; image: string; type: string };
          const source = i.source as { type: string; buildspec?: string };
          const logs = (i.logsConfig as { cloudwatchLogs?: { groupName?: string; status: string } } | undefined)?.cloudwatchLogs;
          return clients.codebuild.send(new CreateProjectCommand({
            name,
            ...(i.description ? { description: i.description as string } : {}),
            source: { type: source.type as 'NO_SOURCE', ...(source.buildspec ? { buildspec: source.buildspec } : {}) },
            artifacts: { type: 'NO_ARTIFACTS' },
            environment: { computeType: env.computeType as 'BUILD_GENERAL1_MEDIUM', image: env.image, type: env.type as 'LINUX_CONTAINER' },
            serviceRole: i.serviceRole as string,
            ...(i.buildTimeout ? { timeoutInMinutes: i.buildTimeout as number } : {}),
            ...(i.queuedTimeout ? { queuedTimeoutInMinutes: i.queuedTimeout as number } : {}),
            ...(logs ? { logsConfig: { cloudWatchLogs: { status: logs.status as 'ENABLED', ...(logs.groupName ? { groupName: logs.groupName } : {}) } } } : {}),
          }));
        }
        case 'aws:lambda/function:Function': {
          // Lambda@Edge (us-east-1): CloudFront runs it, not Lambda; the front door runs its code.
          if (r.providerRegion === 'us-east-1') return;
          const spec = stack.specs.find((s) => s.handler === i.handler && name.endsWith(s.name));
          await clients.iam.send(new CreateRoleCommand({
            RoleName: name,
            AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
          })).catch(ignoreExisting);
          return clients.lambda.send(new CreateFunctionCommand({
            FunctionName: name,
            Role: i.role as string,
            Runtime: 'nodejs22.x',
            Handler: code.handlerOf(i.handler as string),
            Code: { ZipFile: code.zip },
            ...(i.description ? { Description: i.description as string } : {}),
            Timeout: (i.timeout as number | undefined) ?? 30,
            MemorySize: 1024,
            Environment: { Variables: (i.environment as { variables?: Record<string, string> } | undefined)?.variables ?? {} },
            Tags: { 'shiplog:handler': spec?.handler ?? (i.handler as string) },
          }));
        }
        case 'aws:lambda/eventSourceMapping:EventSourceMapping':
          // moto keeps the mapping; the box's event source stand-in (sqs-event-source.ts) polls it.
          return clients.lambda.send(new CreateEventSourceMappingCommand({
            EventSourceArn: awsArn(i.eventSourceArn as string),
            FunctionName: i.functionName as string,
            ...(i.batchSize ? { BatchSize: i.batchSize as number } : {}),
            ...(i.functionResponseTypes ? { FunctionResponseTypes: i.functionResponseTypes as 'ReportBatchItemFailures'[] } : {}),
          }));
        case 'aws:lambda/permission:Permission':
          return clients.lambda.send(new AddPermissionCommand({
            FunctionName: i.function as string,
            StatementId: r.name,
            Action: i.action as string,
            Principal: i.principal as string,
            ...(i.sourceArn ? { SourceArn: withApiIds(awsArn(i.sourceArn as string)) } : {}),
          }));
        case 'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig': {
          const onFailure = (i.destinationConfig as { onFailure?: { destination: string } } | undefined)?.onFailure;
          return clients.lambda.send(new PutFunctionEventInvokeConfigCommand({
            FunctionName: i.functionName as string,
            MaximumRetryAttempts: i.maximumRetryAttempts as number,
            MaximumEventAgeInSeconds: i.maximumEventAgeInSeconds as number,
            ...(onFailure ? { DestinationConfig: { OnFailure: { Destination: awsArn(onFailure.destination) } } } : {}),
          }));
        }
        case 'aws:cloudwatch/eventRule:EventRule':
          return clients.events.send(new PutRuleCommand({
            Name: name,
            EventBusName: i.eventBusName as string,
            ...(i.description ? { Description: i.description as string } : {}),
            ...(i.eventPattern ? { EventPattern: i.eventPattern as string } : {}),
            ...(i.scheduleExpression ? { ScheduleExpression: i.scheduleExpression as string } : {}),
          }));
        case 'aws:cloudwatch/eventTarget:EventTarget': {
          const retry = i.retryPolicy as { maximumRetryAttempts: number; maximumEventAgeInSeconds: number } | undefined;
          const dlq = i.deadLetterConfig as { arn: string } | undefined;
          return clients.events.send(new PutTargetsCommand({
            Rule: i.rule as string,
            EventBusName: i.eventBusName as string,
            Targets: [{
              Id: (i.targetId as string | undefined) ?? r.name,
              Arn: awsArn(i.arn as string),
              ...(retry ? { RetryPolicy: { MaximumRetryAttempts: retry.maximumRetryAttempts, MaximumEventAgeInSeconds: retry.maximumEventAgeInSeconds } } : {}),
              ...(dlq ? { DeadLetterConfig: { Arn: awsArn(dlq.arn) } } : {}),
            }],
          }));
        }
        case 'aws:apigatewayv2/api:Api': {
          const api = await clients.apigateway.send(new CreateApiCommand({
            Name: name, ProtocolType: i.protocolType as 'HTTP', ...(i.description ? { Description: i.description as string } : {}),
          }));
          apiIds.set(`${r.name}-id`, api.ApiId!);
          apis.push({ name: r.name, apiId: api.ApiId! });
          return;
        }
        case 'aws:apigatewayv2/integration:Integration': {
          const integration = await clients.apigateway.send(new CreateIntegrationCommand({
            ApiId: apiId(i.apiId as string),
            IntegrationType: i.integrationType as 'AWS_PROXY',
            IntegrationUri: awsArn(i.integrationUri as string),
            ...(i.integrationMethod ? { IntegrationMethod: i.integrationMethod as string } : {}),
            ...(i.payloadFormatVersion ? { PayloadFormatVersion: i.payloadFormatVersion as string } : {}),
            ...(i.timeoutMilliseconds ? { TimeoutInMillis: i.timeoutMilliseconds as number } : {}),
          }));
          apiIds.set(`${r.name}-id`, integration.IntegrationId!);
          return;
        }
        case 'aws:apigatewayv2/route:Route':
          return clients.apigateway.send(new CreateRouteCommand({
            ApiId: apiId(i.apiId as string), RouteKey: i.routeKey as string, ...(i.target ? { Target: withApiIds(i.target as string) } : {}),
          }));
        case 'aws:apigatewayv2/stage:Stage': {
          const route = i.defaultRouteSettings as { throttlingRateLimit?: number; throttlingBurstLimit?: number } | undefined;
          return clients.apigateway.send(new CreateStageCommand({
            ApiId: apiId(i.apiId as string), StageName: i.name as string, AutoDeploy: Boolean(i.autoDeploy),
            ...(route ? { DefaultRouteSettings: { ThrottlingRateLimit: route.throttlingRateLimit, ThrottlingBurstLimit: route.throttlingBurstLimit } } : {}),
          }));
        }
        case 'aws:pipes/pipe:Pipe':
          // moto has no Pipes: the Pipes stand-in runs it from these inputs.
          pipes.push(r);
          return;
        case 'pulumi:providers:aws':
          // An explicit provider (the sites certificate's us-east-1): its resources carry its region.
          return;
        case 'aws:acm/certificate:Certificate': {
          const { CertificateArn } = await edgeApi.acm(r.providerRegion ?? BOX_REGION).send(new RequestCertificateCommand({
            DomainName: i.domainName as string,
            ValidationMethod: i.validationMethod as 'DNS',
            ...(i.subjectAlternativeNames ? { SubjectAlternativeNames: i.subjectAlternativeNames as string[] } : {}),
          }));
          edge.certificateArn = CertificateArn;
          return;
        }
        case 'aws:acm/certificateValidation:CertificateValidation':
          // A wait for DNS validation records the box has no DNS for: nothing to create.
          return;
        case 'aws:s3/bucketPolicy:BucketPolicy':
          return clients.s3.send(new PutBucketPolicyCommand({ Bucket: i.bucket as string, Policy: i.policy as string }));
        case 'aws:cloudfront/originAccessControl:OriginAccessControl':
          return edgeApi.cloudfront.send(new CreateOriginAccessControlCommand({
            OriginAccessControlConfig: {
              Name: name,
              ...(i.description ? { Description: i.description as string } : {}),
              OriginAccessControlOriginType: i.originAccessControlOriginType as 's3',
              SigningBehavior: i.signingBehavior as 'always',
              SigningProtocol: i.signingProtocol as 'sigv4',
            },
          }));
        // moto has no cache policies, CloudFront Functions, KeyValueStores or multi-tenant
        // distributions: the box's front door runs the declared function over its own store.
        case 'aws:cloudfront/cachePolicy:CachePolicy':
          return;
        case 'aws:cloudfront/keyValueStore:KeyValueStore':
          edge.keyValueStore = { name, arn: r.state.arn as string, id: r.id };
          return;
        case 'aws:cloudfront/function:Function':
          // The viewer-response one adds headers() to S3 files; the other is the site router.
          if (String(i.name).endsWith('-site-headers')) edge.responseFunctionCode = i.code as string;
          else edge.functionCode = i.code as string;
          return;
        case 'aws:cloudfront/multitenantDistribution:MultitenantDistribution': {
          edge.distributionArn = r.state.arn as string;
          const associations = (i.defaultCacheBehavior as { lambdaFunctionAssociations?: { eventType: string; includeBody?: boolean }[] } | undefined)?.lambdaFunctionAssociations ?? [];
          edge.bodyHash = associations.some((a) => a.eventType === 'origin-request' && a.includeBody === true);
          return;
        }
        case 'aws:cloudfront/distributionTenant:DistributionTenant':
          edge.tenantDomains!.push(...((i.domains as { domain: string }[] | undefined) ?? []).map((d) => d.domain));
          return;
        case 'aws:codeconnections/connection:Connection':
          // A GitHub App installation approved in the console: nothing the box can hold or complete.
          declaredOnly.push({
            type: r.type, name: r.name, arn: r.state.arn as string,
            reason: 'moto serves no CodeConnections; the CodeBuild stand-in records sourceAuthOverride and fetches GitHub sources from SHIPLOG_BOX_GITHUB_DIR',
          });
          return;
        default:
          throw new Error(`the AWS box cannot create ${r.type} (${r.name}): teach infra/aws-box/materialize.ts, or the declaration drifted from what the box runs`);
      }
    };
    try {
      await create();
      created++;
    } catch (err) {
      if (r.type === 'aws:dynamodb/table:Table' || r.type === 'aws:cloudwatch/logGroup:LogGroup') throw err;
      ignoreExisting(err);
    }
  }
  const { keyValueStore, functionCode, distributionArn, tenantDomains = [], certificateArn, bodyHash = false, responseFunctionCode } = edge;
  if (!keyValueStore || functionCode === undefined || !distributionArn) {
    throw new Error("the declared stack has no sites' front (key value store, site router function, distribution): the box cannot route sites");
  }
  return { pipes, apis, declaredOnly, edge: { keyValueStore, functionCode, distributionArn, tenantDomains, bodyHash, ...(certificateArn ? { certificateArn } : {}), ...(responseFunctionCode !== undefined ? { responseFunctionCode } : {}) }, created };
};
