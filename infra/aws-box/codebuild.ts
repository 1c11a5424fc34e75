import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type {
  BatchGetBuildsInput, BatchGetProjectsInput, CreateProjectInput, EnvironmentVariable, ListBuildsForProjectInput, LogsConfig, StartBuildInput, StopBuildInput,
} from '@aws-sdk/client-codebuild';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parse as parseYaml } from 'yaml';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION } from './moto.ts';
import { logEventBatches } from './lambda-logs.ts';

// CodeBuild's data plane for the AWS box (moto's CodeBuild is a stub). It speaks CodeBuild's JSON 1.1
// API to the unchanged build adapters, runs a buildspec 0.2 in one bash per build on this machine,
// writes the output to CloudWatch Logs and emits "CodeBuild Build State Change" events.

/**
 * One event for the default bus, as `PutEvents` takes it.
 *
 * @example
 * const e: BoxEventEntry = { Source: 'aws.codebuild', DetailType: 'CodeBuild Build State Change', Detail: '{}' };
 */
export interface BoxEventEntry { Source: string; DetailType: string; Detail: string; Resources?: string[]; EventBusName?: string; Time?: Date }

/**
 * Options of {@link codeBuildStandIn}.
 *
 * @example
 * codeBuildStandIn({ awsEndpoint: moto.endpoint, workRoot: '/tmp/box/codebuild', putEvents: async (entries) => bus.put(entries) });
 */
export interface CodeBuildStandInOptions {
  /** The box's AWS endpoint: used for S3, SSM and Logs, and handed to builds as `AWS_ENDPOINT_URL`. */
  awsEndpoint: string;
  /** Build directories (one per build, removed when it ends) and the state file. */
  workRoot: string;
  /** Emits to the account's default bus, as CodeBuild does. */
  putEvents: (entries: BoxEventEntry[]) => Promise<void>;
  log?: (line: string) => void;
  now?: () => number;
  /** The length of a timeout minute; 60 000 but in tests. */
  minuteMs?: number;
  /** Ids per `ListBuildsForProject` page; 100 as CodeBuild. */
  listPageSize?: number;
  /**
   * A directory standing in for github.com: a `GITHUB` source `https://github.com/<owner>/<repo>`
   * is fetched from the bare repository `<githubDir>/<owner>/<repo>.git` (the box has no GitHub).
   * Without it the location is fetched as it is.
   */
  githubDir?: string;
}

/**
 * Where the CodeBuild stand-in fetches a `GITHUB` source from: the location itself, or with a
 * directory standing in for github.com, the bare repository `<dir>/<owner>/<repo>.git`.
 *
 * @example
 * githubFetchUrl('https://github.com/Codertocat/Hello-World.git', '/tmp/box/github'); // '/tmp/box/github/Codertocat/Hello-World.git'
 */
export const githubFetchUrl = (location: string, githubDir: string | undefined): string => {
  const m = /^https:\/\/github\.com\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(location);
  return githubDir && m ? join(githubDir, m[1]!, `${m[2]!}.git`) : location;
};

/**
 * A running CodeBuild stand-in: serve `handle` where the box routes the `codebuild` service.
 *
 * @example
 * const codebuild = codeBuildStandIn(opts);
 * createServer((req, res) => codebuild.handle(req, res)).listen(0);
 * await codebuild.stop();
 */
export interface CodeBuildStandIn {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Kills running builds (they end as FAULT) and waits for them. */
  stop(): Promise<void>;
}

type Status = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'STOPPED' | 'TIMED_OUT';
type Halt = 'STOPPED' | 'TIMED_OUT' | 'FAULT';
interface Context { statusCode: string; message: string }
interface WirePhase { phaseType: string; phaseStatus?: string; startTime: number; endTime?: number; durationInSeconds?: number; contexts?: Context[] }
/** A project or a build as the JSON 1.1 wire carries it: timestamps in epoch seconds. */
type Wire = Record<string, unknown>;
interface WireBuild extends Wire {
  id: string; arn: string; buildNumber: number; startTime: number; endTime?: number; currentPhase: string; buildStatus: Status;
  projectName: string; phases: WirePhase[]; source: { type: string; location?: string; buildspec?: string; auth?: { type: string; resource?: string } }; sourceVersion?: string;
  environment: Wire & { environmentVariables: EnvironmentVariable[] }; logs: Wire & { groupName?: string; streamName?: string; deepLink?: string };
  timeoutInMinutes: number; queuedTimeoutInMinutes: number; buildComplete: boolean; initiator: string;
}
interface State { projects: Record<string, Wire>; builds: Record<string, WireBuild>; order: Record<string, string[]>; tokens: Record<string, { id: string; at: number }> }
interface Run { build: WireBuild; halt?: Halt; shell?: Shell; done: Promise<void> }

class ApiError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

const PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;
const IDEMPOTENCY_MS = 5 * 60_000;
const secs = (ms: number) => ms / 1000;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** The events' time format: `Sep 1, 2017 4:12:29 PM` (UTC). */
const eventTime = (s: number) => {
  const d = new Date(s * 1000);
  const h = d.getUTCHours();
  return `${months[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${h % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
};
/** CodeBuild's agent lines: `[Container] 2026/11/22 10:00:00.123000 Running command npm ci`. */
const containerLine = (ms: number, text: string) => {
  const d = new Date(ms);
  return `[Container] ${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds() * 1000, 6)} ${text}`;
};
/** The host's variables that let a build reach registries from this machine: TLS trust and proxies. */
const hostNetworkEnv = (): Record<string, string> => {
  const names = ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'GIT_SSL_CAINFO', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
  return Object.fromEntries(names.flatMap((n) => (process.env[n] === undefined ? [] : [[n, process.env[n]!]])));
};
const afterLast = (s: string, mark: string) => (s.includes(mark) ? s.slice(s.lastIndexOf(mark) + mark.length) : s);

/**
 * One `bash` per build, fed commands on stdin: each runs in a subshell whose EXIT trap hands its
 * exports and cwd back to the parent (CodeBuild 0.2's shell: state persists, `exit 1` fails
 * only that command). Output (stderr merged) comes back line by line; a random marker line
 * carries each command's exit status.
 */
interface Shell { run(command: string): Promise<number | null>; exportVar(name: string, value: string): void; kill(): void }

const startShell = (dir: string, cwd: string, env: Record<string, string>, onLine: (text: string) => void): Shell => {
  const mark = `__codebuild_${randomUUID().replace(/-/g, '')}:`;
  mkdirSync(dir, { recursive: true });
  // Not sandboxed: the box is a test harness, so builds run as this process's user with its PATH
  // and HOME. `detached` gives the build its own process group, which StopBuild and timeouts kill.
  const child: ChildProcessWithoutNullStreams = spawn('bash', ['--noprofile', '--norc'], { cwd, env, detached: true, stdio: 'pipe' });
  let pending: ((rc: number | null) => void) | undefined;
  const settle = (rc: number | null) => {
    const p = pending;
    pending = undefined;
    p?.(rc);
  };
  const lines = (stream: NodeJS.ReadableStream, onText: (text: string) => void) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) onText(p.replace(/\r$/, ''));
    });
    stream.on('end', () => rest && onText(rest));
  };
  lines(child.stdout, (text) => {
    const i = text.indexOf(mark);
    if (i < 0) return onLine(text);
    if (i > 0) onLine(text.slice(0, i));
    settle(Number(text.slice(i + mark.length)));
  });
  lines(child.stderr, onLine);
  child.stdin.on('error', () => undefined); // EPIPE once killed
  child.on('exit', () => settle(null));
  child.on('error', (err) => {
    onLine(`bash could not start: ${err.message}`);
    settle(null);
  });
  child.stdin.write(`exec 2>&1\n__cb_dir=${quote(dir)}\n`);
  const save = `__cb_rc=$?; export -p > "$__cb_dir/env"; pwd > "$__cb_dir/cwd"; exit $__cb_rc`;
  return {
    run: (command) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(null);
      pending = resolve;
      writeFileSync(join(dir, 'cmd'), `${command}\n`);
      child.stdin.write(`( trap ${quote(save)} EXIT; . "$__cb_dir/cmd" ) </dev/null; __cb_rc=$?; . "$__cb_dir/env" 2>/dev/null; cd "$(cat "$__cb_dir/cwd")" 2>/dev/null; echo "${mark}$__cb_rc"\n`);
    }),
    exportVar: (name, value) => void child.stdin.write(`export ${name}=${quote(value)}\n`),
    kill: () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
};

/**
 * CodeBuild for the AWS box: `CreateProject`, `UpdateProject`, `DeleteProject`, `ListProjects`,
 * `BatchGetProjects`, `StartBuild`, `BatchGetBuilds`, `ListBuilds`, `ListBuildsForProject` and
 * `StopBuild` over JSON 1.1 (`X-Amz-Target: CodeBuild_20161006.<Op>`). A build downloads its
 * source (S3 zip, git, or none), resolves PARAMETER_STORE variables through SSM, runs the
 * buildspec's phases in one bash, sends every line to CloudWatch Logs (values of resolved
 * secrets of 4 characters or more masked as `***`) and emits a "CodeBuild Build State Change" event when it starts and
 * when it ends. Projects and builds survive a restart in `<workRoot>/codebuild.json`; a build
 * that was running then ends as FAULT.
 *
 * @example
 * const codebuild = codeBuildStandIn({ awsEndpoint: moto.endpoint, workRoot, putEvents: (e) => bus.put(e), log: console.error });
 * const client = new CodeBuildClient({ endpoint: `http://127.0.0.1:${port}`, region: BOX_REGION, credentials: BOX_CREDENTIALS });
 */
export const codeBuildStandIn = (opts: CodeBuildStandInOptions): CodeBuildStandIn => {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => undefined);
  const minuteMs = opts.minuteMs ?? 60_000;
  const pageSize = opts.listPageSize ?? 100;
  const client = { endpoint: opts.awsEndpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  const s3 = new S3Client({ ...client, forcePathStyle: true });
  const ssm = new SSMClient(client);
  const cwl = new CloudWatchLogsClient(client);
  const stateFile = join(opts.workRoot, 'codebuild.json');
  const runs = new Map<string, Run>();
  mkdirSync(join(opts.workRoot, 'builds'), { recursive: true });

  const state: State = existsSync(stateFile)
    ? (JSON.parse(readFileSync(stateFile, 'utf8')) as State)
    : { projects: {}, builds: {}, order: {}, tokens: {} };
  const save = () => {
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state));
    renameSync(`${stateFile}.tmp`, stateFile);
  };

  const projectArn = (name: string) => `arn:aws:codebuild:${BOX_REGION}:${BOX_ACCOUNT}:project/${name}`;
  const projectOf = (nameOrArn: string | undefined): Wire => {
    const name = afterLast(nameOrArn ?? '', ':project/');
    const p = state.projects[name];
    if (!p) throw new ApiError('ResourceNotFoundException', `Project cannot be found: ${projectArn(name)}`);
    return p;
  };
  const buildOf = (idOrArn: string) => state.builds[afterLast(idOrArn, ':build/')];

  // ---- events
  const emit = async (b: WireBuild) => {
    const env = b.environment;
    const detail = {
      'build-status': b.buildStatus,
      'project-name': b.projectName,
      'build-id': b.arn,
      'additional-information': {
        environment: {
          image: env.image, 'privileged-mode': env.privilegedMode ?? false, 'compute-type': env.computeType, type: env.type,
          'environment-variables': env.environmentVariables,
        },
        'timeout-in-minutes': b.timeoutInMinutes,
        'queued-timeout-in-minutes': b.queuedTimeoutInMinutes,
        'build-complete': b.buildComplete,
        initiator: b.initiator,
        'build-start-time': eventTime(b.startTime),
        source: { type: b.source.type, ...(b.source.location ? { location: b.source.location } : {}) },
        ...(b.sourceVersion ? { 'source-version': b.sourceVersion } : {}),
        logs: { 'group-name': b.logs.groupName, 'stream-name': b.logs.streamName, 'deep-link': b.logs.deepLink },
        phases: b.phases.map((p) => (p.phaseStatus === undefined && p.phaseType === 'COMPLETED'
          ? { 'start-time': eventTime(p.startTime), 'phase-type': p.phaseType }
          : {
              'phase-context': (p.contexts ?? []).map((c) => `${c.statusCode}: ${c.message}`),
              'start-time': eventTime(p.startTime),
              ...(p.endTime !== undefined ? { 'end-time': eventTime(p.endTime), 'duration-in-seconds': p.durationInSeconds } : {}),
              'phase-type': p.phaseType,
              ...(p.phaseStatus ? { 'phase-status': p.phaseStatus } : {}),
            })),
      },
      'current-phase': b.currentPhase,
      'current-phase-context': '[]',
      version: '1',
    };
    await opts.putEvents([{
      Source: 'aws.codebuild', DetailType: 'CodeBuild Build State Change', Detail: JSON.stringify(detail),
      Resources: [b.arn], EventBusName: 'default', Time: new Date(now()),
    }]).catch((err: Error) => log(`codebuild: state change of ${b.id} (${b.buildStatus}) not emitted: ${err.message}`));
  };

  // ---- CloudWatch Logs, in batches
  const logWriter = (b: WireBuild, mask: (text: string) => string) => {
    const group = b.logs.groupName;
    const stream = b.logs.streamName;
    let buf: { timestamp: number; message: string }[] = [];
    let last = 0;
    let chain = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      chain = chain.then(async () => {
        const pending = group && stream ? buf : [];
        buf = [];
        for (const batch of logEventBatches(pending)) {
          await cwl.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: batch }))
            .catch((err: Error) => log(`codebuild: ${batch.length} log lines of ${b.id} lost: ${err.message}`));
        }
      });
      return chain;
    };
    return {
      open: async () => {
        if (!group || !stream) return;
        const exists = (err: Error) => {
          if (err.name !== 'ResourceAlreadyExistsException') throw err;
        };
        await cwl.send(new CreateLogGroupCommand({ logGroupName: group })).catch(exists);
        await cwl.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })).catch(exists);
      },
      line: (text: string) => {
        // A batch must be in time order, even if the clock steps back.
        last = Math.max(last, now());
        buf.push({ timestamp: last, message: mask(text).slice(0, 250_000) || ' ' });
        timer ??= setTimeout(() => void flush(), 300).unref();
      },
      close: () => flush(),
    };
  };

  // ---- one build
  class PhaseFailure extends Error {
    constructor(readonly context: Context) {
      super(context.message);
    }
  }

  const resolveVariables = async (vars: EnvironmentVariable[], secrets: string[]): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const v of vars) {
      const name = v.name ?? '';
      if (v.type === 'SECRETS_MANAGER') {
        throw new PhaseFailure({ statusCode: 'Secrets Manager Error', message: `SECRETS_MANAGER variables are not supported by the AWS box (${name})` });
      }
      if (v.type !== 'PARAMETER_STORE') {
        out[name] = v.value ?? '';
        continue;
      }
      const value = await ssm.send(new GetParameterCommand({ Name: v.value, WithDecryption: true })).then(
        (r) => r.Parameter?.Value ?? '',
        (err: Error) => {
          const why = err.name === 'ParameterNotFound' ? `parameter does not exist: ${v.value}` : `${err.name}: ${err.message}`;
          throw new PhaseFailure({ statusCode: 'Decrypted Variables Error', message: why });
        },
      );
      out[name] = value;
      secrets.push(value);
    }
    return out;
  };

  const downloadSource = async (b: WireBuild, src: string, scratch: string) => {
    const { type, location = '' } = b.source;
    mkdirSync(src, { recursive: true });
    if (type === 'NO_SOURCE') return;
    if (type === 'S3') {
      const slash = location.indexOf('/');
      const [bucket, key] = [location.slice(0, slash), location.slice(slash + 1)];
      const zip = join(scratch, 'source.zip');
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        writeFileSync(zip, await res.Body!.transformToByteArray());
        await promisify(execFile)('unzip', ['-q', '-o', zip, '-d', src]);
      } catch (err) {
        throw new PhaseFailure({ statusCode: 'CLIENT_ERROR', message: `${(err as Error).name}: ${(err as Error).message.trim()} for primary source and source version ${location}` });
      }
      return;
    }
    if (['GITHUB', 'GITLAB', 'BITBUCKET', 'CODECOMMIT', 'GITHUB_ENTERPRISE'].includes(type)) {
      const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: src });
      try {
        await git('init', '-q');
        const from = type === 'GITHUB' ? githubFetchUrl(location, opts.githubDir) : location;
        await git('fetch', '-q', '--depth', '1', '--', from, b.sourceVersion ?? 'HEAD');
        await git('checkout', '-q', '--detach', 'FETCH_HEAD');
      } catch (err) {
        throw new PhaseFailure({ statusCode: 'CLIENT_ERROR', message: `git fetch of ${location} ${b.sourceVersion ?? ''} failed: ${(err as Error).message.trim()}` });
      }
      return;
    }
    throw new PhaseFailure({ statusCode: 'CLIENT_ERROR', message: `source type ${type} is not supported by the AWS box` });
  };

  type Spec = { env: { variables: Record<string, unknown>; 'parameter-store': Record<string, unknown> }; phases: Record<string, { commands: string[]; finally: string[]; onFailure?: string; runtimeVersions?: unknown }> };
  const readBuildspec = (b: WireBuild, src: string): Spec => {
    const yamlError = (message: string) => new PhaseFailure({ statusCode: 'YAML_FILE_ERROR', message });
    let text = b.source.buildspec;
    if (!text || (!text.includes('\n') && /\.ya?ml$/.test(text.trim()))) {
      const file = join(src, text?.trim() || 'buildspec.yml');
      if (!existsSync(file)) throw yamlError(`stat ${file}: no such file or directory`);
      text = readFileSync(file, 'utf8');
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw yamlError((err as Error).message);
    }
    const root = (doc ?? {}) as Record<string, unknown>;
    if (String(root.version) !== '0.2') throw yamlError(`invalid buildspec version: ${String(root.version)} (the box runs 0.2)`);
    const asMap = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)]);
    const env = asMap(root.env);
    const phases: Spec['phases'] = {};
    for (const [name, raw] of Object.entries(asMap(root.phases))) {
      const p = asMap(raw);
      phases[name] = { commands: list(p.commands), finally: list(p.finally), onFailure: p['on-failure'] as string | undefined, runtimeVersions: p['runtime-versions'] };
    }
    return { env: { variables: asMap(env.variables), 'parameter-store': asMap(env['parameter-store']) }, phases };
  };

  const execute = async (run: Run): Promise<void> => {
    const b = run.build;
    const uuid = b.id.slice(b.id.indexOf(':') + 1);
    const root = join(opts.workRoot, 'builds', uuid);
    const src = join(root, 'src');
    const secrets: string[] = [];
    const mask = (text: string) => secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join('***') : t), text);
    const logs = logWriter(b, mask);
    const sys = (text: string) => logs.line(containerLine(now(), text));
    const open = () => b.phases[b.phases.length - 1];
    const begin = (type: string) => {
      b.phases.push({ phaseType: type, startTime: secs(now()) });
      b.currentPhase = type;
      save();
    };
    const end = (status: string, context?: Context) => {
      const p = open();
      if (!p || p.phaseStatus) return;
      p.phaseStatus = status;
      p.endTime = secs(now());
      p.durationInSeconds = Math.round(p.endTime - p.startTime);
      p.contexts = context ? [context] : [];
      sys(`Phase complete: ${p.phaseType} State: ${status}`);
      sys(`Phase context status code: ${context?.statusCode ?? ''} Message: ${context?.message ?? ''}`);
      save();
    };
    const haltContext = (): Context => ({
      STOPPED: { statusCode: 'BUILD_STOPPED', message: 'Build was stopped' },
      TIMED_OUT: { statusCode: 'BUILD_TIMED_OUT', message: `Build has timed out after ${b.timeoutInMinutes} minutes` },
      FAULT: { statusCode: 'INTERNAL_ERROR', message: 'the AWS box stopped while the build ran' },
    })[run.halt ?? 'FAULT'];
    const timer = setTimeout(() => halt(run, 'TIMED_OUT'), b.timeoutInMinutes * minuteMs);
    let failed = false;
    let fault: Context | undefined;
    try {
      // 1. provisioning: the build's directories and its log stream
      begin('PROVISIONING');
      mkdirSync(root, { recursive: true });
      await logs.open();
      sys('Waiting for agent ping');
      if (!run.halt) end('SUCCEEDED');
      // 2. source, buildspec and variables (a missing parameter fails here, as on CodeBuild)
      let spec: Spec | undefined;
      let vars: Record<string, string> = {};
      if (!run.halt) {
        begin('DOWNLOAD_SOURCE');
        try {
          sys(`CODEBUILD_SRC_DIR=${src}`);
          await downloadSource(b, src, root);
          spec = readBuildspec(b, src);
          sys('Processing environment variables');
          const fromSpec = [
            ...Object.entries(spec.env.variables).map(([name, value]) => ({ name, value: String(value), type: 'PLAINTEXT' as const })),
            ...Object.entries(spec.env['parameter-store']).map(([name, value]) => ({ name, value: String(value), type: 'PARAMETER_STORE' as const })),
          ];
          const all = [...fromSpec, ...b.environment.environmentVariables];
          if (all.some((v) => v.type === 'PARAMETER_STORE')) sys('Decrypting parameter store environment variables');
          vars = await resolveVariables(all, secrets);
          if (!run.halt) end('SUCCEEDED');
        } catch (err) {
          if (!(err instanceof PhaseFailure)) throw err;
          failed = true;
          end('FAILED', err.context);
        }
      }
      // 3. the phases, in one shell
      if (spec && !failed && !run.halt) {
        const scratch = join(root, 'shell');
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? root,
          // This machine's TLS trust and proxies (corepack's downloads go through Node's fetch).
          ...hostNetworkEnv(),
          AWS_REGION: BOX_REGION, AWS_DEFAULT_REGION: BOX_REGION,
          AWS_ACCESS_KEY_ID: BOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: BOX_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL: opts.awsEndpoint,
          ...vars,
          CODEBUILD_BUILD_ID: b.id, CODEBUILD_BUILD_ARN: b.arn, CODEBUILD_BUILD_NUMBER: String(b.buildNumber),
          CODEBUILD_INITIATOR: b.initiator, CODEBUILD_SRC_DIR: src, CODEBUILD_BUILD_SUCCEEDING: '1',
          CODEBUILD_START_TIME: String(Math.round(b.startTime * 1000)), CODEBUILD_BUILD_IMAGE: String(b.environment.image ?? ''),
          CODEBUILD_LOG_PATH: uuid, CODEBUILD_SOURCE_VERSION: b.sourceVersion ?? '',
        };
        run.shell = startShell(scratch, src, env, logs.line);
        let next: 'all' | 'post_build' | 'none' = 'all';
        for (const name of PHASES) {
          if (run.halt || next === 'none') break;
          if (next === 'post_build' && name !== 'post_build') continue;
          const phase = spec.phases[name] ?? { commands: [], finally: [] };
          begin(name.toUpperCase());
          sys(`Entering phase ${name.toUpperCase()}`);
          if (phase.runtimeVersions) sys(`runtime-versions ${JSON.stringify(phase.runtimeVersions)} ignored: the AWS box runs this machine's tools (node ${process.version})`);
          let context: Context | undefined;
          const runAll = async (commands: string[]) => {
            for (const command of commands) {
              if (run.halt) return;
              sys(`Running command ${command}`);
              const rc = await run.shell!.run(command);
              if (run.halt) return;
              if (rc !== 0) {
                const reason = rc === null ? 'the shell exited' : `exit status ${rc}`;
                sys(`Command did not exit successfully ${command} ${reason}`);
                context ??= { statusCode: 'COMMAND_EXECUTION_ERROR', message: `Error while executing command: ${command}. Reason: ${reason}` };
                return;
              }
            }
          };
          await runAll(phase.commands);
          await runAll(phase.finally);
          if (run.halt) break;
          end(context ? 'FAILED' : 'SUCCEEDED', context);
          if (!context) continue;
          failed = true;
          run.shell.exportVar('CODEBUILD_BUILD_SUCCEEDING', '0');
          const policy = phase.onFailure;
          next = policy === 'CONTINUE' ? next : policy === 'ABORT' ? 'none' : name === 'build' ? 'post_build' : 'none';
        }
      }
      if (run.halt) end(run.halt, haltContext());
      else {
        begin('UPLOAD_ARTIFACTS');
        end('SUCCEEDED');
      }
    } catch (err) {
      fault = { statusCode: 'INTERNAL_ERROR', message: (err as Error).message };
      log(`codebuild: ${b.id} faulted: ${(err as Error).message}`);
      end('FAULT', fault);
    } finally {
      clearTimeout(timer);
      // 4. finalizing: nothing of the build outlives it
      begin('FINALIZING');
      run.shell?.kill();
      end('SUCCEEDED');
      begin('COMPLETED');
      rmSync(root, { recursive: true, force: true });
      // Every line is in CloudWatch before the build reads as complete.
      await logs.close();
      b.buildStatus = run.halt ?? (fault ? 'FAULT' : failed ? 'FAILED' : 'SUCCEEDED');
      b.endTime = secs(now());
      b.buildComplete = true;
      save();
      runs.delete(b.id);
      log(`codebuild: ${b.id} ${b.buildStatus}`);
      await emit(b);
    }
  };

  const halt = (run: Run, why: Halt) => {
    if (run.halt || run.build.buildComplete) return;
    run.halt = why;
    run.shell?.kill();
  };

  // Builds that were running when the box went down did not survive it.
  for (const b of Object.values(state.builds)) {
    if (b.buildComplete) continue;
    const p = b.phases[b.phases.length - 1];
    const t = secs(now());
    if (p && !p.phaseStatus) Object.assign(p, { phaseStatus: 'FAULT', endTime: t, durationInSeconds: Math.round(t - p.startTime), contexts: [{ statusCode: 'INTERNAL_ERROR', message: 'the AWS box restarted while the build ran' }] });
    b.phases.push({ phaseType: 'COMPLETED', startTime: t });
    Object.assign(b, { buildStatus: 'FAULT', buildComplete: true, endTime: t, currentPhase: 'COMPLETED' });
    rmSync(join(opts.workRoot, 'builds', b.id.slice(b.id.indexOf(':') + 1)), { recursive: true, force: true });
    void emit(b);
  }
  save();

  // ---- the API
  const initiatorOf = (req: IncomingMessage) => /Credential=([^/,\s]+)/.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'shiplog-box';

  const createProject = (input: CreateProjectInput): Wire => {
    if (!input.name) throw new ApiError('InvalidInputException', 'Project name is required');
    if (state.projects[input.name]) throw new ApiError('ResourceAlreadyExistsException', `Project already exists: ${input.name}`);
    const t = secs(now());
    const project: Wire = {
      timeoutInMinutes: 60, queuedTimeoutInMinutes: 480, ...input,
      source: input.source ?? { type: 'NO_SOURCE' }, artifacts: input.artifacts ?? { type: 'NO_ARTIFACTS' }, arn: projectArn(input.name), created: t, lastModified: t,
    };
    delete project.badgeEnabled;
    state.projects[input.name] = project;
    save();
    return project;
  };

  const startBuild = (input: StartBuildInput, req: IncomingMessage): WireBuild => {
    const project = projectOf(input.projectName);
    const name = String(project.name);
    const t = now();
    for (const [k, v] of Object.entries(state.tokens)) if (t - v.at > IDEMPOTENCY_MS) delete state.tokens[k];
    const tokenKey = input.idempotencyToken ? `${name}\n${input.idempotencyToken}` : undefined;
    const earlier = tokenKey ? state.tokens[tokenKey] : undefined;
    if (earlier && state.builds[earlier.id]) return state.builds[earlier.id]!;

    const timeout = input.timeoutInMinutesOverride ?? (project.timeoutInMinutes as number);
    if (!Number.isInteger(timeout) || timeout < 5 || timeout > 2160) {
      throw new ApiError('InvalidInputException', `1 validation error detected: Value '${timeout}' at 'timeoutInMinutesOverride' failed to satisfy constraint: Member must have value between 5 and 2160`);
    }
    const overrides = input.environmentVariablesOverride ?? [];
    for (const v of overrides) {
      if (!v.name || v.name.startsWith('CODEBUILD_')) throw new ApiError('InvalidInputException', `Invalid environment variable name: ${v.name ?? ''}`);
      if (v.type && !['PLAINTEXT', 'PARAMETER_STORE', 'SECRETS_MANAGER'].includes(v.type)) throw new ApiError('InvalidInputException', `Invalid environment variable type: ${v.type}`);
    }
    const projectEnv = (project.environment ?? { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_SMALL' }) as Wire & { environmentVariables?: EnvironmentVariable[] };
    const vars = new Map<string, EnvironmentVariable>();
    for (const v of [...(projectEnv.environmentVariables ?? []), ...overrides]) vars.set(v.name!, { name: v.name, value: v.value ?? '', type: v.type ?? 'PLAINTEXT' });

    const projectSource = (project.source ?? { type: 'NO_SOURCE' }) as WireBuild['source'];
    const type = input.sourceTypeOverride ?? projectSource.type;
    const location = input.sourceLocationOverride ?? (input.sourceTypeOverride ? undefined : projectSource.location);
    const buildspec = input.buildspecOverride ?? projectSource.buildspec;
    // How CodeBuild authenticates to the source provider (a CodeConnections connection to GitHub):
    // recorded on the build as CodeBuild does. The box fetches GitHub sources from its own
    // directory, so no connection is used; moto has none to check it against.
    const auth = input.sourceAuthOverride ?? (input.sourceTypeOverride ? undefined : projectSource.auth);
    if (auth) {
      if (!['OAUTH', 'CODECONNECTIONS', 'SECRETS_MANAGER'].includes(String(auth.type))) {
        throw new ApiError('InvalidInputException', `1 validation error detected: Value '${String(auth.type)}' at 'sourceAuthOverride.type' failed to satisfy constraint: Member must satisfy enum value set: [OAUTH, CODECONNECTIONS, SECRETS_MANAGER]`);
      }
      if (auth.type !== 'OAUTH' && !auth.resource?.startsWith('arn:')) throw new ApiError('InvalidInputException', `Invalid source auth resource for ${auth.type}: an ARN is required`);
    }

    const logsConfig = { ...((project.logsConfig as LogsConfig | undefined)?.cloudWatchLogs ?? {}), ...(input.logsConfigOverride?.cloudWatchLogs ?? {}) };
    const uuid = randomUUID();
    const id = `${name}:${uuid}`;
    const arn = `arn:aws:codebuild:${BOX_REGION}:${BOX_ACCOUNT}:build/${id}`;
    const enabled = logsConfig.status !== 'DISABLED';
    const groupName = logsConfig.groupName ?? `/aws/codebuild/${name}`;
    const streamName = logsConfig.streamName ? `${logsConfig.streamName}/${uuid}` : uuid;
    const order = (state.order[name] ??= []);
    const start = secs(t);
    const build: WireBuild = {
      id, arn, buildNumber: order.length + 1, startTime: start, currentPhase: 'QUEUED', buildStatus: 'IN_PROGRESS', projectName: name,
      phases: [
        { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED', startTime: start, endTime: start, durationInSeconds: 0, contexts: [] },
        { phaseType: 'QUEUED', phaseStatus: 'SUCCEEDED', startTime: start, endTime: start, durationInSeconds: 0, contexts: [] },
      ],
      source: {
        type, ...(location ? { location } : {}), ...(buildspec ? { buildspec } : {}),
        ...(auth ? { auth: { type: auth.type!, ...(auth.resource ? { resource: auth.resource } : {}) } } : {}),
      },
      ...(input.sourceVersion ? { sourceVersion: input.sourceVersion } : {}),
      artifacts: { location: '' },
      environment: { ...projectEnv, environmentVariables: [...vars.values()] },
      // The project's own role when shiplog passes one (build-roles.ts); moto's IAM holds it, nothing evaluates it.
      serviceRole: input.serviceRoleOverride ?? project.serviceRole,
      logs: enabled
        ? {
            groupName, streamName,
            deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${BOX_REGION}#logEvent:group=${encodeURIComponent(groupName)};stream=${encodeURIComponent(streamName)}`,
            cloudWatchLogsArn: `arn:aws:logs:${BOX_REGION}:${BOX_ACCOUNT}:log-group:${groupName}:log-stream:${streamName}`,
            cloudWatchLogs: { status: 'ENABLED', groupName, streamName: logsConfig.streamName },
            s3Logs: { status: 'DISABLED' },
          }
        : { cloudWatchLogs: { status: 'DISABLED' }, s3Logs: { status: 'DISABLED' } },
      timeoutInMinutes: timeout,
      queuedTimeoutInMinutes: input.queuedTimeoutInMinutesOverride ?? (project.queuedTimeoutInMinutes as number) ?? 480,
      buildComplete: false,
      initiator: initiatorOf(req),
    };
    state.builds[id] = build;
    order.push(id);
    if (tokenKey) state.tokens[tokenKey] = { id, at: t };
    save();
    log(`codebuild: ${id} started (${type}${location ? ` ${location}` : ''}${auth ? ` via ${auth.type}` : ''})`);
    const run: Run = { build, done: Promise.resolve() };
    runs.set(id, run);
    run.done = emit(build).then(() => execute(run)).catch((err: Error) => log(`codebuild: ${id} crashed: ${err.stack ?? err.message}`));
    return build;
  };

  const page = (ids: string[], nextToken: string | undefined) => {
    const from = nextToken ? Number(Buffer.from(nextToken, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(from) || from < 0) throw new ApiError('InvalidInputException', 'Invalid nextToken');
    const to = from + pageSize;
    return { ids: ids.slice(from, to), ...(to < ids.length ? { nextToken: Buffer.from(String(to)).toString('base64url') } : {}) };
  };

  const ops: Record<string, (input: Wire, req: IncomingMessage) => unknown> = {
    CreateProject: (input) => ({ project: createProject(input as unknown as CreateProjectInput) }),
    UpdateProject: (input) => {
      const p = projectOf(input.name as string);
      Object.assign(p, input, { arn: p.arn, lastModified: secs(now()) });
      save();
      return { project: p };
    },
    DeleteProject: (input) => {
      delete state.projects[afterLast(String(input.name ?? ''), ':project/')];
      save();
      return {};
    },
    ListProjects: () => ({ projects: Object.keys(state.projects).sort() }),
    BatchGetProjects: (input) => {
      const names = (input as unknown as BatchGetProjectsInput).names ?? [];
      const found = names.map((n) => state.projects[afterLast(n, ':project/')]);
      return { projects: found.filter(Boolean), projectsNotFound: names.filter((_, i) => !found[i]) };
    },
    StartBuild: (input, req) => ({ build: startBuild(input as unknown as StartBuildInput, req) }),
    BatchGetBuilds: (input) => {
      const ids = (input as unknown as BatchGetBuildsInput).ids ?? [];
      if (ids.length === 0 || ids.length > 100) throw new ApiError('InvalidInputException', 'ids must hold 1 to 100 build ids');
      return { builds: ids.map(buildOf).filter(Boolean), buildsNotFound: ids.filter((id) => !buildOf(id)) };
    },
    ListBuilds: (input) => {
      const all = Object.values(state.builds).sort((a, b) => a.startTime - b.startTime).map((b) => b.id);
      return page(input.sortOrder === 'ASCENDING' ? all : all.reverse(), input.nextToken as string | undefined);
    },
    ListBuildsForProject: (input) => {
      const { projectName, sortOrder, nextToken } = input as unknown as ListBuildsForProjectInput;
      const ids = [...(state.order[String(projectOf(projectName).name)] ?? [])];
      return page(sortOrder === 'ASCENDING' ? ids : ids.reverse(), nextToken);
    },
    StopBuild: async (input) => {
      const { id } = input as unknown as StopBuildInput;
      const build = buildOf(id ?? '');
      if (!build) throw new ApiError('ResourceNotFoundException', `Build ${id ?? ''} does not exist`);
      const run = runs.get(build.id);
      if (run) {
        halt(run, 'STOPPED');
        // The build group is killed at once; wait (briefly) so the answer says STOPPED.
        await Promise.race([run.done, new Promise((r) => setTimeout(r, 10_000).unref())]);
      }
      return { build };
    },
  };

  const reply = (res: ServerResponse, status: number, body: unknown, errorType?: string) => {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(JSON.stringify(body));
  };

  return {
    handle: (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const target = String(req.headers['x-amz-target'] ?? '');
          const op = target.startsWith('CodeBuild_20161006.') ? target.slice('CodeBuild_20161006.'.length) : '';
          try {
            if (!Object.hasOwn(ops, op)) throw new ApiError('InvalidInputException', `Unsupported operation: ${target || '(no X-Amz-Target)'}`);
            let input: Wire;
            try {
              input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Wire;
            } catch {
              throw new ApiError('SerializationException', 'The request body is not JSON');
            }
            reply(res, 200, await ops[op]!(input, req));
          } catch (err) {
            const e = err instanceof ApiError ? err : new ApiError('InternalFailure', (err as Error).message, 500);
            if (!(err instanceof ApiError)) log(`codebuild: ${op} failed: ${(err as Error).stack ?? e.message}`);
            reply(res, e.status, { __type: e.type, message: e.message }, e.type);
          }
        })();
      });
    },
    stop: async () => {
      const running = [...runs.values()];
      for (const run of running) halt(run, 'FAULT');
      await Promise.all(running.map((r) => r.done));
      for (const c of [s3, ssm, cwl]) c.destroy();
    },
  };
};
