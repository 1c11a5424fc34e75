import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetFunctionConfigurationCommand, GetFunctionEventInvokeConfigCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { unsandboxed } from '../../services/build/adapters/runner/sandbox.ts';
import { FunctionInvocationError, functionPool, type Invocation } from '../local/sites/function-pool.ts';
import { lambdaLogs, type InvocationEnd, type LoggedFunction } from './lambda-logs.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, sqsQueueUrl } from './moto.ts';

// moto keeps Lambda's control plane (functions, versions, aliases, invoke configs) but runs no
// code without Docker, and its code location is not downloadable. This stand-in is Lambda's data
// plane: it keeps every zip the box's endpoint saw go into CreateFunction / UpdateFunctionCode by
// its CodeSha256 (what moto reports for each version), and runs a version in the local function
// pool (one child process per version, reused like an execution environment) with the version's
// environment from moto plus what the Lambda runtime sets.

/** Where the box's functions find the AWS SDK, as Lambda's runtime provides it: shiplog's own node_modules. */
const RUNTIME_SDK = fileURLToPath(new URL('../../node_modules', import.meta.url));

/**
 * The outcome of one invocation as Lambda's Invoke reports it.
 *
 * @example
 * const out = await lambda.invoke('shiplog-box-Projections', '$LATEST', event);
 * if (out.error) console.error(out.error.errorMessage);
 */
export interface InvokeOutcome {
  executedVersion: string;
  payload?: unknown;
  /**
   * A streaming function's response, as Lambda's Invoke answers it: what the function wrote to
   * its response stream (`awslambda.HttpResponseStream`: the prelude JSON, eight NUL bytes, the body).
   */
  raw?: Buffer;
  error?: { errorType: string; errorMessage: string };
}

/** What an async invocation that used up its retries was sent to its on-failure destination with. */
export interface AsyncFailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted' | 'EventAgeExceeded'; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: string; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string };
}

/** Options of {@link lambdaStandIn}. */
export interface LambdaStandInOptions {
  /** moto's Lambda, for the functions' configurations. */
  lambda: LambdaClient;
  /** moto's S3, for code given as `S3Bucket`/`S3Key`. */
  s3: S3Client;
  /** moto's SQS, for on-failure destinations. */
  sqs: SQSClient;
  /** Where zips and their unpacked folders are kept. */
  codeDir: string;
  /** What every function gets beside its own variables: the box's AWS endpoint. */
  awsEndpoint: string;
  /**
   * Waits between an async invocation's attempts. Lambda waits about 1 then 2 minutes; the box
   * keeps the count and the order and shortens the waits (default 1 s, 2 s).
   */
  retryDelaysMs?: number[];
  log?: (line: string) => void;
  /** moto's CloudWatch Logs: where each function's output and invocation reports go, as on Lambda. */
  logs?: CloudWatchLogsClient;
  /** Every line a function writes, with its function name. */
  onFunctionLog?: (functionName: string, line: string) => void;
}

const functionNameOf = (nameOrArn: string): { name: string; qualifier?: string } => {
  const arn = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(?::(.+))?$/.exec(nameOrArn);
  if (arn) return { name: arn[1]!, ...(arn[2] ? { qualifier: arn[2] } : {}) };
  const [name, qualifier] = nameOrArn.split(':');
  return { name: name!, ...(qualifier ? { qualifier } : {}) };
};

/**
 * Lambda's data plane for the box.
 *
 * @example
 * const lambda = lambdaStandIn({ lambda: motoLambda, s3: motoS3, sqs: motoSqs, codeDir, awsEndpoint });
 * lambda.recordCode(zipBytes);                       // when CreateFunction passes through the endpoint
 * await lambda.invoke('shiplog-box-OutboxEnrich', '$LATEST', records);
 * lambda.invokeAsync('shiplog-box-Projections', undefined, event); // retries, then the destination
 */
export const lambdaStandIn = (opts: LambdaStandInOptions) => {
  const log = opts.log ?? (() => {});
  const delays = opts.retryDelaysMs ?? [1000, 2000];
  const pool = functionPool({
    // The box's functions reach its AWS endpoint on loopback: no sandbox here (see docs/aws-box.md).
    sandbox: unsandboxed(),
    idleMs: 10 * 60_000,
    invokeTimeoutMs: 15 * 60_000,
    maxEnvironments: 64,
    onLog: (key, line, stream) => {
      opts.onFunctionLog?.(key.split('@')[0]!, line);
      cloudwatch?.line(key, line, stream);
    },
  });
  const cloudwatch = opts.logs ? lambdaLogs({ logs: opts.logs, log }) : undefined;
  // moto drops a function's LoggingConfig: kept here as it passes through the endpoint, like code.
  const loggingConfigs = new Map<string, { LogFormat?: string; LogGroup?: string }>();
  mkdirSync(opts.codeDir, { recursive: true });
  let inFlight = 0;
  const settled: (() => void)[] = [];
  const hex = (sha256: string) => Buffer.from(sha256, 'base64').toString('hex');

  const recordCode = (zip: Buffer): string => {
    const sha256 = createHash('sha256').update(zip).digest('base64');
    const file = join(opts.codeDir, `${hex(sha256)}.zip`);
    if (!existsSync(file)) writeFileSync(file, zip);
    return sha256;
  };

  const dirOf = (sha256: string): string => {
    const dir = join(opts.codeDir, hex(sha256));
    if (existsSync(dir)) return dir;
    const zip = join(opts.codeDir, `${hex(sha256)}.zip`);
    if (!existsSync(zip)) throw new Error(`no code with sha256 ${sha256}: it did not go through the box's endpoint`);
    const tmp = `${dir}.${process.pid}.${randomUUID()}`;
    mkdirSync(tmp, { recursive: true });
    execFileSync('unzip', ['-qo', zip, '-d', tmp]);
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another invocation unpacked it first
    }
    return dir;
  };

  /**
   * Records the code of an intercepted `CreateFunction` (`Code`) or `UpdateFunctionCode` (top
   * level) request body: a `ZipFile` in base64, or an S3 object read from moto.
   */
  const captureCode = async (body: { ZipFile?: string; S3Bucket?: string; S3Key?: string; S3ObjectVersion?: string }): Promise<void> => {
    if (body.ZipFile) {
      recordCode(Buffer.from(body.ZipFile, 'base64'));
      return;
    }
    if (body.S3Bucket && body.S3Key) {
      const res = await opts.s3.send(new GetObjectCommand({ Bucket: body.S3Bucket, Key: body.S3Key, ...(body.S3ObjectVersion ? { VersionId: body.S3ObjectVersion } : {}) }));
      recordCode(Buffer.from(await res.Body!.transformToByteArray()));
    }
  };

  /** Records the LoggingConfig of an intercepted CreateFunction / UpdateFunctionConfiguration. */
  const captureConfig = (functionName: string, body: { LoggingConfig?: { LogFormat?: string; LogGroup?: string } }): void => {
    if (body.LoggingConfig) loggingConfigs.set(functionNameOf(functionName).name, body.LoggingConfig);
  };

  const configOf = async (name: string, qualifier?: string) =>
    opts.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, ...(qualifier && qualifier !== '$LATEST' ? { Qualifier: qualifier } : {}) }));

  const refOf = async (nameOrArn: string, qualifier?: string) => {
    const parsed = functionNameOf(nameOrArn);
    const q = qualifier ?? parsed.qualifier;
    const cfg = await configOf(parsed.name, q);
    const version = cfg.Version ?? '$LATEST';
    const sha = cfg.CodeSha256 ?? '';
    const dir = dirOf(sha);
    const env: Record<string, string> = {
      ...(cfg.Environment?.Variables ?? {}),
      AWS_REGION: BOX_REGION,
      AWS_DEFAULT_REGION: BOX_REGION,
      AWS_ACCESS_KEY_ID: BOX_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BOX_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL: opts.awsEndpoint,
      // OpenNext's lite cache and queue fetch AWS's public hosts: the worker sends them here.
      SHIPLOG_BOX_AWS_ENDPOINT: opts.awsEndpoint,
      AWS_LAMBDA_FUNCTION_NAME: parsed.name,
      AWS_LAMBDA_FUNCTION_VERSION: version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(cfg.MemorySize ?? 128),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Lambda's Node.js runtime provides the AWS SDK v3 on NODE_PATH (site functions' env entry requires it).
      NODE_PATH: RUNTIME_SDK,
      LAMBDA_TASK_ROOT: dir,
    };
    const logging = loggingConfigs.get(parsed.name);
    // As Lambda sets it from the LoggingConfig: the worker then records console.warn at WARN.
    env.AWS_LAMBDA_LOG_FORMAT = logging?.LogFormat === 'JSON' ? 'JSON' : 'Text';
    const logged: LoggedFunction = {
      name: parsed.name, version, memoryMb: cfg.MemorySize ?? 128,
      logFormat: logging?.LogFormat === 'JSON' ? 'JSON' : 'Text', ...(logging?.LogGroup ? { logGroup: logging.LogGroup } : {}),
    };
    return {
      name: parsed.name,
      version,
      logged,
      arn: cfg.FunctionArn ?? `arn:aws:lambda:${BOX_REGION}:${BOX_ACCOUNT}:function:${parsed.name}`,
      ref: { key: `${parsed.name}:${version}@${hex(sha)}`, dir, handler: cfg.Handler ?? 'index.handler', env: async () => env },
    };
  };

  /** Runs a version and hands back what it returned or streamed (the front door's path). */
  // Runs one invocation with its START/REPORT records around it (a streamed one ends with its body).
  const run = async (target: Awaited<ReturnType<typeof refOf>>, event: unknown, requestId: string = randomUUID()): Promise<Invocation> => {
    const started = performance.now();
    const end = cloudwatch?.begin(target.ref.key, target.logged, requestId);
    const finish = (e: Omit<InvocationEnd, 'durationMs'>) => end?.({ ...e, durationMs: performance.now() - started });
    try {
      const inv = await pool.invoke(target.ref, event);
      if (inv.kind === 'result') finish({ status: 'success' });
      else {
        inv.body.once('end', () => finish({ status: 'success' }));
        inv.body.once('close', () => finish({ status: 'success' }));
        inv.body.once('error', (err: Error) => finish({ status: 'error', errorMessage: err.message }));
      }
      return inv;
    } catch (err) {
      const timeout = err instanceof FunctionInvocationError && err.status === 504;
      finish({ status: timeout ? 'timeout' : 'error', errorType: timeout ? 'TimeoutError' : 'Error', errorMessage: (err as Error).message.replace(/^function \S+ failed: /, '') });
      throw err;
    }
  };

  /** Runs a version and hands back what it returned or streamed (the front door's path). */
  const invokeRaw = async (nameOrArn: string, qualifier: string | undefined, event: unknown): Promise<Invocation> =>
    run(await refOf(nameOrArn, qualifier), event);

  const invoke = async (nameOrArn: string, qualifier: string | undefined, event: unknown, requestId?: string): Promise<InvokeOutcome> => {
    const target = await refOf(nameOrArn, qualifier);
    try {
      const inv = await run(target, event, requestId);
      if (inv.kind === 'result') return { executedVersion: target.version, payload: inv.result };
      const chunks: Buffer[] = [Buffer.from(JSON.stringify(inv.head)), Buffer.alloc(8)];
      for await (const c of inv.body) chunks.push(Buffer.from(c as Buffer));
      return { executedVersion: target.version, raw: Buffer.concat(chunks) };
    } catch (err) {
      if (!(err instanceof FunctionInvocationError)) throw err;
      const message = err.message.replace(/^function \S+ failed: /, '');
      return { executedVersion: target.version, error: { errorType: err.status === 504 ? 'TimeoutError' : 'Error', errorMessage: message } };
    }
  };

  /**
   * Lambda's async invoke (what EventBridge does): accepted at once, run, retried on error up to
   * the function's `MaximumRetryAttempts` (default 2), then sent to its on-failure destination.
   */
  const invokeAsync = (nameOrArn: string, qualifier: string | undefined, event: unknown): void => {
    inFlight++;
    const requestId = randomUUID();
    void (async () => {
      const { name } = functionNameOf(nameOrArn);
      const config = await opts.lambda
        .send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name }))
        .catch(() => undefined);
      const retries = config?.MaximumRetryAttempts ?? 2;
      let last: InvokeOutcome | undefined;
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, delays[Math.min(attempt - 1, delays.length - 1)]));
        last = await invoke(nameOrArn, qualifier, event, requestId).catch((err: unknown) => ({
          executedVersion: '$LATEST', error: { errorType: 'ServiceException', errorMessage: (err as Error).message },
        }));
        if (!last.error) return;
        log(`lambda: ${name} failed (attempt ${attempt + 1} of ${retries + 1}): ${last.error.errorMessage}`);
      }
      const destination = config?.DestinationConfig?.OnFailure?.Destination;
      const record: AsyncFailureRecord = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: { requestId, functionArn: `arn:aws:lambda:${BOX_REGION}:${BOX_ACCOUNT}:function:${name}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: retries + 1 },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: last?.executedVersion ?? '$LATEST', functionError: 'Unhandled' },
        responsePayload: last?.error ?? { errorType: 'Error', errorMessage: 'unknown' },
      };
      const QueueUrl = sqsQueueUrl(destination, opts.awsEndpoint);
      if (!QueueUrl) {
        log(`lambda: ${name} dropped an event after ${retries + 1} attempts (no on-failure destination)`);
        return;
      }
      await opts.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(record) }));
      log(`lambda: ${name} sent an event to its on-failure destination after ${retries + 1} attempts`);
    })()
      .catch((err: unknown) => log(`lambda: async invoke of ${nameOrArn}: ${(err as Error).message}`))
      .finally(() => {
        inFlight--;
        if (inFlight === 0) for (const done of settled.splice(0)) done();
      });
  };

  return {
    recordCode,
    captureCode,
    captureConfig,
    invoke,
    invokeRaw,
    invokeAsync,
    /** Resolves once no async invocation is running or waiting for a retry. */
    idle: (): Promise<void> => (inFlight === 0 ? Promise.resolve() : new Promise((r) => settled.push(r))),
    inFlight: () => inFlight,
    /** Writes the log lines still batched (tests, and before the box stops). */
    flushLogs: async (): Promise<void> => cloudwatch?.flush(),
    close: async () => {
      await cloudwatch?.flush();
      return pool.close();
    },
  };
};

/** The Lambda stand-in. */
export type LambdaStandIn = ReturnType<typeof lambdaStandIn>;
