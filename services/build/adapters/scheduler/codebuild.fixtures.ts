import type { Build, BuildPhase, BuildPhaseType } from '@aws-sdk/client-codebuild';
import type { ScheduledBuild } from '../../scheduler.ts';
import { artifactUriFor } from './buildspec.ts';

/**
 * Test data for the CodeBuild adapters, in the shapes AWS documents: `Build` as `BatchGetBuilds`
 * returns it, and the "CodeBuild Build State Change" EventBridge event (the sample of the
 * CodeBuild user guide, "Build notifications input format reference").
 */

export const PROJECT = 'shiplog-build';
export const ARTIFACTS = 'shiplog-artifacts';
export const T0 = Date.parse('2026-11-22T10:00:00.000Z');

/**
 * A build as the build service schedules it, with the event that caused it.
 *
 * @example
 * scheduled('01JD000000000000000000000B', { requestedAt: '2026-11-22T10:01:00.000Z' });
 */
export const scheduled = (deploymentId: string, over: Partial<ScheduledBuild> = {}): ScheduledBuild => ({
  deploymentId,
  projectId: 'web',
  lane: 'web#main#production',
  requestedAt: '2026-11-22T10:00:00.000Z',
  target: 'production',
  causeEventId: `cause-${deploymentId}`,
  job: {
    deploymentId, projectId: 'web', repo: 'https://github.com/acme/web.git', sha: '9fceb02d0ae598e95dc970b74767f19372d61af8',
    rootDir: '.', installCommand: 'npm ci', buildCommand: 'npx next build', timeoutMs: 20 * 60_000,
  },
  ...over,
});

const env = (b: ScheduledBuild) => [
  { name: 'API_KEY', type: 'PARAMETER_STORE' as const, value: '/shiplog/env/web/production/API_KEY/3' },
  { name: 'SHIPLOG_DEPLOYMENT_ID', type: 'PLAINTEXT' as const, value: b.deploymentId },
  { name: 'SHIPLOG_ARTIFACT_URI', type: 'PLAINTEXT' as const, value: artifactUriFor(ARTIFACTS, b.projectId, b.deploymentId) },
  { name: 'SHIPLOG_BUILD', type: 'PLAINTEXT' as const, value: JSON.stringify(b) },
];

/** The phases of a build that succeeded, with their durations in seconds. */
export const succeededPhases = (): BuildPhase[] =>
  ([['SUBMITTED', 0], ['QUEUED', 1], ['PROVISIONING', 36], ['DOWNLOAD_SOURCE', 4], ['INSTALL', 30], ['PRE_BUILD', 1], ['BUILD', 70], ['POST_BUILD', 25], ['UPLOAD_ARTIFACTS', 0], ['FINALIZING', 4]] as const)
    .map(([phaseType, durationInSeconds]) => ({ phaseType, phaseStatus: 'SUCCEEDED', durationInSeconds, contexts: [] }));

/** The phases of a build that failed in `phase` with a command's exit status. */
export const failedPhases = (phase: BuildPhaseType, command: string, status = 1): BuildPhase[] => {
  const all = succeededPhases();
  const at = all.findIndex((p) => p.phaseType === phase);
  return [
    ...all.slice(0, at),
    { phaseType: phase, phaseStatus: 'FAILED', durationInSeconds: 9, contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: `Error while executing command: ${command}. Reason: exit status ${status}` }] },
    { phaseType: 'FINALIZING', phaseStatus: 'SUCCEEDED', durationInSeconds: 2, contexts: [] },
  ];
};

/**
 * A `Build` of `BatchGetBuilds` for a scheduled build.
 *
 * @example
 * codeBuild(scheduled('d1'), { status: 'SUCCEEDED' });
 */
export const codeBuild = (b: ScheduledBuild, o: { id?: string; status?: Build['buildStatus']; startedAt?: number; phases?: BuildPhase[] } = {}): Build => {
  const status = o.status ?? 'IN_PROGRESS';
  const id = o.id ?? `${PROJECT}:${b.deploymentId.toLowerCase()}-uuid`;
  return {
    id,
    arn: `arn:aws:codebuild:us-east-1:123456789012:build/${id}`,
    buildNumber: 55,
    startTime: new Date(o.startedAt ?? T0),
    currentPhase: status === 'IN_PROGRESS' ? 'BUILD' : 'COMPLETED',
    buildStatus: status,
    buildComplete: status !== 'IN_PROGRESS',
    projectName: PROJECT,
    phases: o.phases ?? (status === 'SUCCEEDED' ? succeededPhases() : []),
    environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_MEDIUM', environmentVariables: env(b) },
    logs: { groupName: `/aws/codebuild/${PROJECT}`, streamName: `${b.deploymentId}/${id.split(':')[1]}`, deepLink: 'https://console.aws.amazon.com/cloudwatch/home' },
    timeoutInMinutes: 20,
    queuedTimeoutInMinutes: 60,
  };
};

const eventTime = (ms: number) => new Date(ms).toLocaleString('en-US', { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'medium' });

/**
 * The EventBridge event CodeBuild sends when a build changes state.
 *
 * @example
 * stateChange(codeBuild(scheduled('d1'), { status: 'FAILED', phases: failedPhases('INSTALL', 'npm ci') }));
 */
export const stateChange = (build: Build, o: { withEnvironment?: boolean } = {}) => ({
  version: '0',
  id: 'c030038d-8c4d-6141-9545-00ff7b7153EX',
  'detail-type': 'CodeBuild Build State Change',
  source: 'aws.codebuild',
  account: '123456789012',
  time: '2026-11-22T10:05:00Z',
  region: 'us-east-1',
  resources: [build.arn],
  detail: {
    'build-status': build.buildStatus,
    'project-name': build.projectName,
    'build-id': build.arn,
    'additional-information': {
      'timeout-in-minutes': build.timeoutInMinutes,
      'build-complete': build.buildComplete,
      initiator: 'shiplog-build-OnDeploymentRequested',
      'build-start-time': eventTime(build.startTime!.getTime()),
      source: { type: 'GITHUB', location: 'https://github.com/acme/web.git' },
      'source-version': '9fceb02d0ae598e95dc970b74767f19372d61af8',
      environment: {
        image: 'aws/codebuild/standard:7.0', 'privileged-mode': false, 'compute-type': 'BUILD_GENERAL1_MEDIUM', type: 'LINUX_CONTAINER',
        'environment-variables': o.withEnvironment === false ? [] : build.environment!.environmentVariables,
      },
      logs: { 'group-name': build.logs!.groupName, 'stream-name': build.logs!.streamName, 'deep-link': build.logs!.deepLink },
      phases: (build.phases ?? []).map((p) => ({
        'phase-context': (p.contexts ?? []).map((c) => `${c.statusCode}: ${c.message}`),
        'start-time': eventTime(T0), 'end-time': eventTime(T0), 'duration-in-seconds': p.durationInSeconds,
        'phase-type': p.phaseType, 'phase-status': p.phaseStatus,
      })),
    },
    'current-phase': build.currentPhase,
    'current-phase-context': '[]',
    version: '1',
  },
});
