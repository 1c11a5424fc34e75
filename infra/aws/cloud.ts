import type * as AwsModule from '@pulumi/aws';
import type * as PulumiModule from '@pulumi/pulumi';
import type { Input, Output } from '@pulumi/pulumi';

/**
 * The Pulumi modules the declaration uses, handed in rather than imported.
 *
 * `sst.config.ts` passes SST's own copies (the `aws` global and `$util`), so a deploy runs one
 * Pulumi runtime; the tests pass the copies in `node_modules` under `runtime.setMocks`. Files in
 * `infra/aws` import `@pulumi/*` for types only.
 *
 * @example
 * declareShiplog({ aws, pulumi: $util }, input);                 // sst.config.ts
 * declareShiplog({ aws: await import('@pulumi/aws'), pulumi }, input); // a test
 */
export interface Cloud {
  aws: typeof AwsModule;
  pulumi: typeof PulumiModule;
}

/**
 * One IAM condition, in the shape `sst.aws.Function`'s `permissions` take it.
 *
 * @example
 * const c: PermissionCondition = { test: 'StringEquals', variable: 'iam:PassedToService', values: ['lambda.amazonaws.com'] };
 */
export interface PermissionCondition {
  test: string;
  variable: string;
  values: Input<string>[];
}

/**
 * One IAM statement a function is granted: the actions on the resources (under the conditions,
 * when there are any), nothing else.
 *
 * @example
 * const put: PermissionSpec = { actions: ['events:PutEvents'], resources: [bus.arn] };
 */
export interface PermissionSpec {
  actions: string[];
  resources: Input<string>[];
  conditions?: PermissionCondition[];
}

/**
 * A resource a function is linked to: its name in the function's `Resource` (SST link), the
 * values the function may read, and the permissions the link grants.
 *
 * @example
 * const link: LinkSpec = { name: 'ShiplogBus', properties: { name: bus.name, arn: bus.arn }, permissions: [put] };
 */
export interface LinkSpec {
  name: string;
  properties: Record<string, Input<string>>;
  permissions: PermissionSpec[];
}

/**
 * Everything needed to declare one Lambda function. `handler` is `<module>.<export>` relative
 * to the repo root (SST's handler form, the same as a subscription's `handler`).
 *
 * @example
 * const spec: FunctionSpec = {
 *   name: 'Projections', handler: 'infra/aws/functions/projections.handler', description: 'folds events',
 *   environment: { SHIPLOG_EVENTS_TABLE: table.name }, links: [eventStoreLink], permissions: [],
 * };
 */
export interface FunctionSpec {
  /** Logical name, unique in the stack. */
  name: string;
  handler: string;
  description: string;
  environment: Record<string, Input<string>>;
  links: LinkSpec[];
  /** Permissions beyond the links, for what this function alone needs. */
  permissions: PermissionSpec[];
  /** How long one invocation may run; the platform's default (SST: 20 s) when absent. */
  timeoutSeconds?: number;
}

/**
 * What the rest of the declaration needs from a declared function.
 *
 * @example
 * const fn: DeclaredFunction = { name: lambda.name, arn: lambda.arn };
 */
export interface DeclaredFunction {
  name: Output<string>;
  arn: Output<string>;
}

/**
 * Declares a Lambda function from a spec. `sst.config.ts` uses `sst.aws.Function` (which builds
 * the handler); the tests use a raw `aws.lambda.Function` under mocks.
 *
 * @example
 * const declareFunction: DeclareFunction = (spec) => new sst.aws.Function(spec.name, { handler: spec.handler });
 */
export type DeclareFunction = (spec: FunctionSpec) => DeclaredFunction;

/**
 * The account and region the stack is deployed to, for the ARNs the declaration writes itself
 * (patterns, parameter paths) rather than reads from a resource.
 *
 * @example
 * const scope: AccountScope = { accountId: aws.getCallerIdentityOutput({}).accountId, region: aws.getRegionOutput({}).region };
 */
export interface AccountScope {
  accountId: Input<string>;
  region: Input<string>;
}
