import {
  BatchGetBuildsCommand, ListBuildsForProjectCommand, StartBuildCommand, StopBuildCommand,
  type Build, type CodeBuildClient, type EnvironmentVariable, type StartBuildCommandInput,
} from '@aws-sdk/client-codebuild';
import type { EnvVarRef } from '../../../../events/index.ts';
import type { BuildScheduler, ScheduledBuild, SchedulerEvents } from '../../scheduler.ts';
import { artifactUriFor, buildspecFor, cacheUriFor } from './buildspec.ts';
import { readShiplogBuild, translateCodeBuildError, type ShiplogBuild } from './codebuild-build.ts';
import { RUNTIME_ENV_VARIABLE } from './runtime-env.ts';

export { BuildRunnerConfigError, BuildRunnerUnavailableError, translateCodeBuildError, type ShiplogBuild } from './codebuild-build.ts';

/**
 * Where CodeBuild reads one env var's value when the build starts. Never a value itself.
 *
 * @example
 * const ref: SecretRef = { type: 'PARAMETER_STORE', value: '/shiplog/env/web/production/API_KEY/3' };
 */
export interface SecretRef {
  type: 'PARAMETER_STORE' | 'SECRETS_MANAGER';
  value: string;
}

/**
 * The default {@link SecretRef}: one SecureString parameter per env var version, under
 * `/<prefix>/env/<projectId>/<target>/<name>/<version>`, so a deployment always reads exactly
 * the versions it was requested with. The AWS secret store of ingest writes there.
 *
 * @example
 * parameterStoreRef('shiplog')('web', { name: 'API_KEY', target: 'production', version: 3 });
 * // { type: 'PARAMETER_STORE', value: '/shiplog/env/web/production/API_KEY/3' }
 */
export const parameterStoreRef = (prefix: string) => (projectId: string, ref: EnvVarRef): SecretRef => ({
  type: 'PARAMETER_STORE',
  value: `/${prefix}/env/${projectId}/${ref.target}/${ref.name}/${ref.version}`,
});

/**
 * Options of {@link codeBuildScheduler}.
 *
 * @example
 * codeBuildScheduler({ client, projectName: 'shiplog-build', artifactsBucket, events, envRefsFor, secretRef: parameterStoreRef('shiplog') });
 */
export interface CodeBuildSchedulerOptions {
  client: CodeBuildClient;
  /** The CodeBuild project every build runs in (its role, image and compute come from it). */
  projectName: string;
  artifactsBucket: string;
  events: SchedulerEvents;
  /** The env var references (names, targets, versions) the build's deployment was requested with. */
  envRefsFor(b: ScheduledBuild): Promise<readonly EnvVarRef[]>;
  secretRef: (projectId: string, ref: EnvVarRef) => SecretRef;
  /** How long a build may wait for capacity (5–480 minutes); default 60. */
  queuedTimeoutMinutes?: number;
  /** The log group of the builds; default: the project's (`/aws/codebuild/<project>`). */
  logGroupName?: string;
  openNextVersion?: string;
  /**
   * The service role a project's builds run with (`serviceRoleOverride`): its own, so a build
   * of one project cannot read another's parameters or write its artifacts (`build-roles.ts`).
   * Without it builds run with the CodeBuild project's role.
   */
  serviceRoleFor?: (projectId: string) => Promise<string>;
  /**
   * The stage's CodeConnections connection to GitHub: a `GITHUB` source is fetched through it
   * (`sourceAuthOverride`), so private repositories build. Without it CodeBuild uses the
   * account's imported GitHub credential, if any.
   */
  githubConnectionArn?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** CodeBuild's refusal of a service role IAM has not yet propagated (a project's first build, just after its role was created). */
const isRoleNotYetAssumable = (err: unknown) =>
  (err as Error).name === 'InvalidInputException' && /not authorized to perform:? sts:AssumeRole|service role/i.test((err as Error).message);

/**
 * The CodeBuild source of a job: an S3 zip (`s3://bucket/prefix/` + `<sha>.zip`, or a full key),
 * a GitHub repository at the commit (through the stage's CodeConnections connection when given,
 * else CodeBuild's account credential), or no source at all, in which case the buildspec fetches
 * the commit with git.
 *
 * @example
 * sourceFor({ repo: 'https://github.com/acme/web.git', sha }); // { sourceTypeOverride: 'GITHUB', sourceLocationOverride, sourceVersion: sha }
 * sourceFor({ repo: 'https://github.com/acme/web.git', sha }, connectionArn).sourceAuthOverride; // { type: 'CODECONNECTIONS', resource: connectionArn }
 */
export const sourceFor = (
  job: { repo: string; sha: string },
  githubConnectionArn?: string,
): Pick<StartBuildCommandInput, 'sourceTypeOverride' | 'sourceLocationOverride' | 'sourceVersion' | 'sourceAuthOverride'> => {
  if (job.repo.startsWith('s3://')) {
    const location = job.repo.slice('s3://'.length);
    return { sourceTypeOverride: 'S3', sourceLocationOverride: location.endsWith('/') ? `${location}${job.sha}.zip` : location };
  }
  if (/^https:\/\/github\.com\/[^/]+\/[^/]+?(?:\.git)?$/.test(job.repo)) {
    return {
      sourceTypeOverride: 'GITHUB', sourceLocationOverride: job.repo, sourceVersion: job.sha,
      ...(githubConnectionArn ? { sourceAuthOverride: { type: 'CODECONNECTIONS', resource: githubConnectionArn } } : {}),
    };
  }
  return { sourceTypeOverride: 'NO_SOURCE' };
};

const plain = (name: string, value: string): EnvironmentVariable => ({ name, value, type: 'PLAINTEXT' });
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));
/** CodeBuild's build timeout: whole minutes, 5 to 2160. */
const buildMinutes = (b: ScheduledBuild) => clamp(Math.ceil(b.job.timeoutMs / 60_000), 5, 2160);

/**
 * Orders two builds of one lane: by request time, then by deployment id (ULIDs grow).
 *
 * @example
 * isNewer({ ...b, requestedAt: '2026-11-22T10:01:00Z' }, { ...b, requestedAt: '2026-11-22T10:00:00Z' }); // true
 */
export const isNewer = (a: ScheduledBuild, b: ScheduledBuild): boolean =>
  a.requestedAt === b.requestedAt ? a.deploymentId > b.deploymentId : a.requestedAt > b.requestedAt;

/**
 * Our builds of a CodeBuild project that started after `sinceMs`, newest first:
 * `ListBuildsForProject` (newest build number first) and `BatchGetBuilds`, a page of up to 100 at a time,
 * until a page reaches back past `sinceMs`. Builds not started by shiplog are left out.
 *
 * @example
 * const running = (await listShiplogBuilds(client, 'shiplog-build', Date.now() - 3 * 3600_000)).filter((b) => !b.complete);
 */
export const listShiplogBuilds = async (client: CodeBuildClient, projectName: string, sinceMs: number, maxPages = 10): Promise<ShiplogBuild[]> => {
  const out: ShiplogBuild[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    // Newest first (by build number) is the default; passing `sortOrder` fails past 100 builds.
    const listed = await client.send(new ListBuildsForProjectCommand({ projectName, nextToken })).catch(translateCodeBuildError);
    const ids = listed.ids ?? [];
    if (ids.length === 0) break;
    const { builds = [] } = await client.send(new BatchGetBuildsCommand({ ids })).catch(translateCodeBuildError);
    for (const b of builds) {
      const ours = fromCodeBuild(b);
      if (ours && (ours.startedAt ?? Infinity) >= sinceMs) out.push(ours);
    }
    const oldest = Math.min(...builds.map((b) => b.startTime?.getTime() ?? Infinity));
    nextToken = listed.nextToken;
    if (!nextToken || oldest < sinceMs) break;
  }
  return out.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
};

/**
 * A CodeBuild `Build` (from `BatchGetBuilds`, `StartBuild` or `StopBuild`) as shiplog reads it,
 * or undefined when shiplog did not start it.
 *
 * @example
 * const b = fromCodeBuild((await client.send(new BatchGetBuildsCommand({ ids: [id] }))).builds![0]!);
 */
export const fromCodeBuild = (b: Build): ShiplogBuild | undefined =>
  readShiplogBuild({
    id: b.id ?? '',
    status: b.buildStatus ?? 'IN_PROGRESS',
    complete: b.buildComplete ?? false,
    startedAt: b.startTime?.getTime(),
    timeoutMinutes: b.timeoutInMinutes,
    env: (b.environment?.environmentVariables ?? []).map((v) => ({ name: v.name ?? '', value: v.value ?? '' })),
    phases: (b.phases ?? []).map((p) => ({
      type: p.phaseType ?? '',
      status: p.phaseStatus,
      durationSeconds: p.durationInSeconds,
      contexts: (p.contexts ?? []).map((c) => ({ statusCode: c.statusCode, message: c.message })),
    })),
    logs: { group: b.logs?.groupName, stream: b.logs?.streamName, deepLink: b.logs?.deepLink },
  });

/**
 * The build scheduler on AWS: CodeBuild is the queue. `submit` starts one build per deployment
 * (`idempotencyToken` = deployment id, and a retry after CodeBuild's 5-minute token window finds
 * the build an earlier attempt started), reports it started, then stops older running builds of
 * the same lane, or its own build when a newer one of the lane is already running.
 *
 * Running builds are found with `ListBuildsForProject` + `BatchGetBuilds` rather than tracked in
 * a table of ours: CodeBuild already holds the truth, a table would need its own reconciliation,
 * and a lane's running builds are always among the project's most recent ones. The lane is read
 * again after starting, so of two concurrent submits at least one sees the other's build.
 *
 * Completion arrives through CodeBuild's state-change events (`codebuild-events.ts`).
 *
 * @example
 * const scheduler = codeBuildScheduler({ client, projectName, artifactsBucket, events: build.schedulerEvents, envRefsFor, secretRef });
 * build.attach(scheduler);
 */
export const codeBuildScheduler = (opts: CodeBuildSchedulerOptions): BuildScheduler => {
  const { client, projectName, events } = opts;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const queuedMinutes = clamp(opts.queuedTimeoutMinutes ?? 60, 5, 480);
  const submitted = new Map<string, 'queued' | 'running'>();

  const environment = async (b: ScheduledBuild, artifactUri: string, checkout: boolean): Promise<EnvironmentVariable[]> => {
    const platform = [
      plain('CI', '1'), plain('NEXT_TELEMETRY_DISABLED', '1'), plain('SHIPLOG', '1'),
      plain('SHIPLOG_PROJECT_ID', b.projectId), plain('SHIPLOG_DEPLOYMENT_ID', b.deploymentId),
      plain('SHIPLOG_GIT_COMMIT_SHA', b.job.sha), plain('SHIPLOG_ARTIFACT_URI', artifactUri),
      // The project's own build cache prefix (node_modules by lockfile, .next/cache): never another project's.
      plain('SHIPLOG_CACHE_URI', cacheUriFor(opts.artifactsBucket, b.projectId)),
      plain('SHIPLOG_BUILD', JSON.stringify(b)),
      ...(checkout ? [plain('SHIPLOG_REPO', b.job.repo)] : []),
    ];
    // The platform's variables win over the project's (as locally); CodeBuild reserves CODEBUILD_*.
    const refs = (await opts.envRefsFor(b)).filter((r) => !r.name.startsWith('CODEBUILD_') && r.name !== RUNTIME_ENV_VARIABLE && !platform.some((p) => p.name === r.name));
    const secrets = refs.map((r) => ({ name: r.name, ...opts.secretRef(b.projectId, r) }));
    // What the site function reads at cold start (runtime-env.ts): parameter names, never values.
    const runtime = Object.fromEntries(secrets.filter((s) => s.type === 'PARAMETER_STORE').map((s) => [s.name, s.value]));
    return [...secrets, plain(RUNTIME_ENV_VARIABLE, JSON.stringify(runtime)), ...platform];
  };

  const start = async (b: ScheduledBuild): Promise<string> => {
    const source = sourceFor(b.job, opts.githubConnectionArn);
    const checkout = source.sourceTypeOverride === 'NO_SOURCE';
    const artifactUri = artifactUriFor(opts.artifactsBucket, b.projectId, b.deploymentId);
    const role = opts.serviceRoleFor ? await opts.serviceRoleFor(b.projectId) : undefined;
    const input = {
      projectName,
      ...(role ? { serviceRoleOverride: role } : {}),
      idempotencyToken: b.deploymentId,
      ...source,
      buildspecOverride: buildspecFor({ ...b.job, checkout, ...(opts.openNextVersion ? { openNextVersion: opts.openNextVersion } : {}) }),
      environmentVariablesOverride: await environment(b, artifactUri, checkout),
      artifactsOverride: { type: 'NO_ARTIFACTS' },
      timeoutInMinutesOverride: buildMinutes(b),
      queuedTimeoutInMinutesOverride: queuedMinutes,
      // CodeBuild appends `/<build uuid>` to the stream name, so a deployment's logs are found by prefix.
      logsConfigOverride: { cloudWatchLogs: { status: 'ENABLED', streamName: b.deploymentId, ...(opts.logGroupName ? { groupName: opts.logGroupName } : {}) } },
    } satisfies StartBuildCommandInput;
    // A role IAM created moments ago takes a few seconds to reach CodeBuild: wait up to a minute for it.
    let res;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await client.send(new StartBuildCommand(input));
        break;
      } catch (err) {
        if (!role || attempt >= 12 || !isRoleNotYetAssumable(err)) return translateCodeBuildError(err);
        await sleep(5000);
      }
    }
    if (!res.build?.id) throw new Error(`StartBuild returned no build for ${b.deploymentId}`);
    return res.build.id;
  };

  const stop = async (victim: ShiplogBuild, by: string): Promise<void> => {
    const res = await client.send(new StopBuildCommand({ id: victim.id })).catch((err: unknown) => {
      // Already finished or gone: its own completion reports it.
      if ((err as Error).name === 'ResourceNotFoundException' || (err as Error).name === 'InvalidInputException') return undefined;
      return translateCodeBuildError(err);
    });
    const status = res?.build?.buildStatus;
    if (status === 'IN_PROGRESS' || status === 'STOPPED') await events.superseded(victim.scheduled, by);
  };

  const laneOf = async (b: ScheduledBuild): Promise<ShiplogBuild[]> => {
    const window = (queuedMinutes + buildMinutes(b) + 60) * 60_000;
    return (await listShiplogBuilds(client, projectName, now() - window)).filter((x) => x.scheduled.lane === b.lane);
  };

  const submit = async (b: ScheduledBuild): Promise<void> => {
    // 1. one build per deployment, and none when the lane already runs a newer one
    const before = await laneOf(b);
    const existing = before.find((x) => x.scheduled.deploymentId === b.deploymentId);
    if (!existing) {
      const newer = before.find((x) => !x.complete && isNewer(x.scheduled, b));
      if (newer) return events.superseded(b, newer.scheduled.deploymentId);
    }
    const mine: ShiplogBuild = existing ?? { id: await start(b), status: 'IN_PROGRESS', complete: false, scheduled: b, phases: [], logs: {} };
    submitted.set(b.deploymentId, 'running');
    const deadline = now() + (queuedMinutes + buildMinutes(b)) * 60_000;
    await events.started(b, { runnerBuildId: mine.id, deadlineAt: new Date(deadline).toISOString() });
    // 2. supersede, from a fresh look at the lane
    const running = (await laneOf(b)).filter((x) => !x.complete && x.scheduled.deploymentId !== b.deploymentId);
    const newest = running.filter((x) => isNewer(x.scheduled, b)).sort((x, y) => (isNewer(x.scheduled, y.scheduled) ? -1 : 1))[0];
    if (newest) return stop(mine, newest.scheduled.deploymentId);
    for (const older of running) await stop(older, b.deploymentId);
  };

  return {
    submit,
    // What this process submitted; CodeBuild (listShiplogBuilds) knows the rest.
    active: () => [...submitted].map(([deploymentId, state]) => ({ deploymentId, state })),
    // CodeBuild keeps builds running across our restarts; lost completions are reconciliation's.
    resume: async () => 0,
    stop: async () => undefined,
  };
};
