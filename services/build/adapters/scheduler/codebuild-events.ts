import { BatchGetBuildsCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { BuildFailureKind, BuildOutcome } from '../../ports.ts';
import type { SchedulerEvents } from '../../scheduler.ts';
import { fromCodeBuild, isNewer, listShiplogBuilds } from './aws.ts';
import { ArtifactFile, CHECKOUT_MARK, type ArtifactManifest } from './buildspec.ts';
import { readShiplogBuild, translateCodeBuildError, type CodeBuildPhase, type ShiplogBuild } from './codebuild-build.ts';

const Phase = z.object({
  'phase-type': z.string(),
  'phase-status': z.string().optional(),
  'duration-in-seconds': z.number().optional(),
  'phase-context': z.array(z.string()).optional(),
});

/**
 * CodeBuild's "Build State Change" event, as much of it as shiplog reads.
 *
 * @example
 * CodeBuildStateChange.parse(event).detail['build-status']; // 'SUCCEEDED'
 */
export const CodeBuildStateChange = z.object({
  source: z.literal('aws.codebuild'),
  'detail-type': z.literal('CodeBuild Build State Change'),
  detail: z.object({
    'build-status': z.string(),
    'project-name': z.string(),
    'build-id': z.string(),
    'additional-information': z.object({
      'build-complete': z.boolean().optional(),
      'timeout-in-minutes': z.number().optional(),
      environment: z.object({ 'environment-variables': z.array(z.object({ name: z.string(), value: z.string().optional() })).optional() }).optional(),
      logs: z.object({ 'group-name': z.string().optional(), 'stream-name': z.string().optional(), 'deep-link': z.string().optional() }).optional(),
      phases: z.array(Phase).optional(),
    }).optional(),
  }),
});

// The event's phase contexts are strings ("COMMAND_EXECUTION_ERROR: Error while executing command: …").
const contextOf = (text: string) => {
  const i = text.indexOf(': ');
  return i > 0 && /^[A-Z_]+$/.test(text.slice(0, i)) ? { statusCode: text.slice(0, i), message: text.slice(i + 2) } : { message: text };
};

/**
 * The build a state-change event is about, as far as the event tells (undefined when the event
 * carries no shiplog build, or is not a state change at all).
 *
 * @example
 * const build = fromStateChange(event); // { id: 'shiplog-build:8745…', status: 'FAILED', complete: true, … }
 */
export const fromStateChange = (event: unknown): ShiplogBuild | undefined => {
  const parsed = CodeBuildStateChange.safeParse(event);
  if (!parsed.success) return undefined;
  const d = parsed.data.detail;
  const info = d['additional-information'] ?? {};
  return readShiplogBuild({
    id: d['build-id'],
    status: d['build-status'],
    complete: info['build-complete'] ?? d['build-status'] !== 'IN_PROGRESS',
    timeoutMinutes: info['timeout-in-minutes'],
    env: (info.environment?.['environment-variables'] ?? []).map((v) => ({ name: v.name, value: v.value ?? '' })),
    phases: (info.phases ?? []).map((p) => ({
      type: p['phase-type'], status: p['phase-status'], durationSeconds: p['duration-in-seconds'], contexts: (p['phase-context'] ?? []).filter(Boolean).map(contextOf),
    })),
    logs: { group: info.logs?.['group-name'], stream: info.logs?.['stream-name'], deepLink: info.logs?.['deep-link'] },
  });
};

const reasonOfPhase: Record<string, BuildFailureKind> = {
  DOWNLOAD_SOURCE: 'checkout-failed', INSTALL: 'install-failed', PRE_BUILD: 'build-failed', BUILD: 'build-failed', POST_BUILD: 'package-failed',
};
const phaseLabel: Partial<Record<BuildFailureKind, string>> = { 'install-failed': 'install', 'build-failed': 'build', 'package-failed': 'package' };
const seconds = (phases: CodeBuildPhase[], ...types: string[]) =>
  Math.round(phases.filter((p) => types.includes(p.type)).reduce((sum, p) => sum + (p.durationSeconds ?? 0), 0) * 1000);

/**
 * The outcome of a finished build: the artifact on success (with its manifest's versions), and
 * otherwise why, from the failed phase and its command (`exit status <n>`). A success whose
 * manifest is missing did not package completely. STOPPED reads as `canceled`; whether a newer
 * build superseded it is the caller's question.
 *
 * @example
 * outcomeOf(build, manifest, []); // { ok: true, artifactDir: 's3://bucket/artifacts/web/d1/', … }
 */
export const outcomeOf = (build: ShiplogBuild, manifest: ArtifactManifest | undefined, logTail: string[]): BuildOutcome => {
  const fail = (reason: BuildFailureKind, exitCode: number | null, message: string): BuildOutcome =>
    ({ ok: false, reason, exitCode, message: message.slice(0, 2000), logTail });
  switch (build.status) {
    case 'SUCCEEDED': {
      if (!manifest || !build.artifactUri) return fail('package-failed', null, `the build succeeded but left no ${ArtifactFile.manifest} at ${build.artifactUri}`);
      const p = build.phases;
      return {
        ok: true,
        artifactDir: build.artifactUri,
        durationsMs: { checkout: seconds(p, 'DOWNLOAD_SOURCE'), install: seconds(p, 'INSTALL'), build: seconds(p, 'PRE_BUILD', 'BUILD'), package: seconds(p, 'POST_BUILD') },
        versions: manifest.versions,
      };
    }
    case 'TIMED_OUT':
      return fail('timed-out', null, `build exceeded its ${build.timeoutMinutes ?? build.scheduled.job.timeoutMs / 60_000} min limit`);
    case 'STOPPED':
      return fail('canceled', null, 'the CodeBuild build was stopped');
    case 'FAULT':
      return fail('infrastructure', null, `CodeBuild faulted: ${build.phases.flatMap((p) => p.contexts.map((c) => c.message ?? '')).filter(Boolean).join('; ') || 'no detail'}`);
    default: {
      const phase = build.phases.find((p) => p.status && !['SUCCEEDED', 'IN_PROGRESS'].includes(p.status));
      const context = phase?.contexts.find((c) => c.message)?.message ?? '';
      const command = /executing command: ([\s\S]*?)\. Reason:/.exec(context)?.[1]?.trim();
      const exit = /exit status (\d+)/.exec(context)?.[1];
      const reason: BuildFailureKind = command?.endsWith(CHECKOUT_MARK) ? 'checkout-failed' : (reasonOfPhase[phase?.type ?? ''] ?? 'infrastructure');
      // The lines that run a command the checkout decided (the buildspec's eval of it) are named by what they ran, as the log says it.
      const ran = command?.includes('eval "$SHIPLOG_BUILD_COMMAND"') ? 'build' : command?.includes('eval "$SHIPLOG_INSTALL_COMMAND"') ? 'install' : undefined;
      const what = !command ? `phase ${phase?.type ?? 'unknown'}`
        : ran ? `${ran} command (the one the build log's "${ran}:" line names)`
        : `${phaseLabel[reason] ?? reason.replace('-failed', '')} command "${command.replace(CHECKOUT_MARK, '').trim()}"`;
      return fail(reason, exit ? Number(exit) : null, exit ? `${what} exited with code ${exit}` : `${what} failed${context ? `: ${context}` : ''}`);
    }
  }
};

/**
 * Reads a build's manifest (`shiplog-build.json` in its artifact prefix); undefined when absent.
 *
 * @example
 * await readArtifactManifest(s3, 's3://shiplog-artifacts/artifacts/web/d1/'); // { sha256, sizeBytes, files, versions }
 */
export const readArtifactManifest = async (s3: S3Client, artifactUri: string): Promise<ArtifactManifest | undefined> => {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(artifactUri);
  if (!m) throw new Error(`not an s3:// artifact: ${artifactUri}`);
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: `${m[2]}${ArtifactFile.manifest}` }));
    return JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null') as ArtifactManifest;
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey' || (err as Error).name === 'NotFound') return undefined;
    throw err;
  }
};

/**
 * Options of {@link codeBuildCompletions}.
 *
 * @example
 * codeBuildCompletions({ codebuild, s3, projectName: 'shiplog-build', events: build.schedulerEvents, isOpen });
 */
export interface CodeBuildCompletionsOptions {
  codebuild: CodeBuildClient;
  s3: S3Client;
  projectName: string;
  events: SchedulerEvents;
  /** Whether our store still has this deployment's build queued or running. */
  isOpen(deploymentId: string): Promise<boolean>;
  /** The last lines of a build's log, for a failure (CloudWatch Logs); none by default. */
  logTail?(logs: ShiplogBuild['logs']): Promise<string[]>;
  /** How far back to look for builds: at least a build's longest life (queue + timeout); default 3 hours. */
  windowMs?: number;
  now?: () => number;
}

/**
 * Turns finished CodeBuild builds into `SchedulerEvents.finished` / `superseded`. Fed by the
 * "Build State Change" rule (`onStateChange`), and, because those events are best effort, by
 * `reconcile` on a schedule: every recent build of ours that has finished while our store still
 * has it running. Both paths may report one build twice; the build decider decides nothing the
 * second time.
 *
 * @example
 * const completions = codeBuildCompletions(opts);
 * export const onCodeBuildStateChange = (e: unknown) => completions.onStateChange(e);
 * export const reconcile = () => completions.reconcile();
 */
export const codeBuildCompletions = (opts: CodeBuildCompletionsOptions) => {
  const { codebuild, events } = opts;
  const now = opts.now ?? Date.now;
  const windowMs = opts.windowMs ?? 3 * 3600_000;

  const complete = async (build: ShiplogBuild): Promise<'finished' | 'superseded' | 'ignored'> => {
    const b = build.scheduled;
    if (!build.complete || !(await opts.isOpen(b.deploymentId))) return 'ignored';
    if (build.status === 'STOPPED') {
      // Superseding records itself when it stops a build; this covers a report that was lost.
      const lane = (await listShiplogBuilds(codebuild, opts.projectName, now() - windowMs)).filter((x) => x.scheduled.lane === b.lane);
      const newer = lane.filter((x) => isNewer(x.scheduled, b)).sort((x, y) => (isNewer(x.scheduled, y.scheduled) ? -1 : 1))[0];
      if (newer) {
        await events.superseded(b, newer.scheduled.deploymentId);
        return 'superseded';
      }
    }
    const manifest = build.status === 'SUCCEEDED' && build.artifactUri ? await readArtifactManifest(opts.s3, build.artifactUri) : undefined;
    const tail = build.status === 'SUCCEEDED' || !opts.logTail ? [] : await opts.logTail(build.logs).catch(() => []);
    await events.finished(b, outcomeOf(build, manifest, tail));
    return 'finished';
  };

  return {
    complete,
    /** Handles one EventBridge event; anything but a finished shiplog build of our project is ignored. */
    onStateChange: async (event: unknown): Promise<'finished' | 'superseded' | 'ignored'> => {
      const parsed = CodeBuildStateChange.safeParse(event);
      if (!parsed.success || parsed.data.detail['project-name'] !== opts.projectName || parsed.data.detail['build-status'] === 'IN_PROGRESS') return 'ignored';
      let build = fromStateChange(event);
      if (!build) {
        // The event did not carry the environment: ask CodeBuild for the whole build.
        const arn = parsed.data.detail['build-id'];
        const id = arn.includes(':build/') ? arn.slice(arn.indexOf(':build/') + ':build/'.length) : arn;
        const res = await codebuild.send(new BatchGetBuildsCommand({ ids: [id] })).catch(translateCodeBuildError);
        const found = res.builds?.[0];
        build = found ? fromCodeBuild(found) : undefined;
      }
      return build ? complete(build) : 'ignored';
    },
    /** Finds recent builds of ours that finished while our store still has them running, and reports them. */
    reconcile: async (): Promise<{ checked: number; reported: string[] }> => {
      const builds = (await listShiplogBuilds(codebuild, opts.projectName, now() - windowMs, 50)).filter((b) => b.complete);
      const reported: string[] = [];
      for (const build of builds) if ((await complete(build)) !== 'ignored') reported.push(build.scheduled.deploymentId);
      return { checked: builds.length, reported };
    },
  };
};
