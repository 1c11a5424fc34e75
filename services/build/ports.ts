/**
 * What the build service needs from the world: something that turns a commit into an OpenNext
 * artifact. CodeBuild on AWS, a child process in a scratch directory locally
 * (`adapters/runner/local.ts`).
 */

/**
 * One build to run: which commit of which repository, how to install and build it, with which
 * environment, and how long it may take.
 *
 * @example
 * const job: BuildJob = {
 *   deploymentId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ', projectId: 'web', repo: '/srv/git/web.git',
 *   sha: '9fceb02d0ae598e95dc970b74767f19372d61af8', rootDir: '.', installCommand: 'npm ci',
 *   buildCommand: '', env: { NEXT_PUBLIC_SITE_NAME: 'Web' }, timeoutMs: 15 * 60_000,
 * };
 */
export interface BuildJob {
  deploymentId: string;
  projectId: string;
  /** A path to a git repository (bare or not) or a git URL. */
  repo: string;
  /** The full commit sha to build. */
  sha: string;
  /** The app's directory inside the repository, `'.'` for the root. */
  rootDir: string;
  /** Runs in `rootDir`; empty: the local runner detects it from the lockfile (`install-command.ts`), CodeBuild runs `npm ci`. */
  installCommand: string;
  /** Runs in `rootDir`; empty: the app's `build` script with its package manager, else `npx next build` (`chooseBuild`). OpenNext packaging follows it. */
  buildCommand: string;
  /**
   * The project's Node.js setting (`'22.x'`): the version the build asks for when the app's
   * `engines.node`, `.nvmrc` or `.node-version` does not (those win, as on Vercel).
   */
  nodeVersion?: string;
  /** The project's environment variables (already decrypted); the build sees only these plus basics. */
  env: Record<string, string>;
  /** The whole build, checkout to packaging. */
  timeoutMs: number;
}

/**
 * How far each phase of a successful build took, in milliseconds.
 *
 * @example
 * const d: BuildPhaseDurations = { checkout: 120, install: 8000, build: 17000, package: 7000 };
 */
export interface BuildPhaseDurations {
  checkout: number;
  install: number;
  build: number;
  package: number;
}

/**
 * Why a build did not produce an artifact. `infrastructure` is ours; the rest are the app's,
 * or a decision (`canceled`) or a limit (`timed-out`).
 *
 * @example
 * const r: BuildFailureKind = 'install-failed';
 */
export type BuildFailureKind =
  | 'checkout-failed'
  | 'install-failed'
  | 'build-failed'
  | 'package-failed'
  | 'timed-out'
  | 'canceled'
  | 'infrastructure';

/**
 * The end of a build. A failure carries the last log lines (oldest first) for the
 * `BuildFailed` event and the dashboard.
 *
 * @example
 * const outcome = await runner.start(job, onLog).outcome;
 * if (outcome.ok) await host.publish({ projectId, deploymentId, artifactDir: outcome.artifactDir });
 * else console.error(outcome.reason, outcome.message, outcome.logTail.join('\n'));
 */
export type BuildOutcome =
  | {
      ok: true;
      /** A directory with the `.open-next` output: `assets/`, `cache/`, `server-functions/default/`, … */
      artifactDir: string;
      durationsMs: BuildPhaseDurations;
      versions: { next: string | null; openNext: string };
    }
  | {
      ok: false;
      reason: BuildFailureKind;
      /** The failing command's exit code; null when it was killed or never ran. */
      exitCode: number | null;
      message: string;
      logTail: string[];
    };

/**
 * Where a log line came from: the build's own output, or the runner's narration (`system`).
 *
 * @example
 * const onLog = (line: string, stream: LogStream) => console.log(`[${stream}] ${line}`);
 */
export type LogStream = 'stdout' | 'stderr' | 'system';

/**
 * A build in progress. `cancel` stops it (the outcome becomes `canceled`); calling it after the
 * build ended does nothing.
 *
 * @example
 * const running = runner.start(job, onLog);
 * setTimeout(() => running.cancel('superseded by 01JD…'), 1000);
 * const outcome = await running.outcome; // { ok: false, reason: 'canceled', … }
 */
export interface RunningBuild {
  /** Always resolves; a build never rejects. */
  outcome: Promise<BuildOutcome>;
  cancel(reason: string): void;
}

/**
 * Starts builds. Lines reach `onLog` as the build prints them.
 *
 * @example
 * const runner: BuildRunner = localBuildRunner({ workRoot: '.shiplog/builds' });
 * const { outcome } = runner.start(job, (line, stream) => logs.push({ line, stream }));
 */
export interface BuildRunner {
  start(job: BuildJob, onLog: (line: string, stream: LogStream) => void): RunningBuild;
}
