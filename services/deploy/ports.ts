/**
 * What the deploy service needs from the world to put a build live: a place that keeps every
 * deployment as an immutable version and moves named aliases between them. Lambda versions +
 * aliases, S3 and CloudFront on AWS; version directories and pointer files behind the local
 * router (`adapters/site-host/local.ts`).
 */

/**
 * A build's artifact to publish: the `.open-next` output of the build runner.
 *
 * @example
 * const input: PublishInput = { projectId: 'web', deploymentId: '01JD…', artifactDir: outcome.artifactDir };
 */
export interface PublishInput {
  projectId: string;
  deploymentId: string;
  artifactDir: string;
}

/**
 * What publishing produced: how many static assets, and the version id of the server function
 * (a Lambda version number on AWS, the version directory's name locally).
 *
 * @example
 * const r: Published = { assets: 24, functionVersion: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ' };
 */
export interface Published {
  assets: number;
  functionVersion: string;
}

/**
 * Points an alias of a project at a published deployment.
 *
 * @example
 * await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: '01JD…' });
 */
export interface ShiftAliasInput {
  projectId: string;
  alias: string;
  deploymentId: string;
}

/**
 * The URLs a deployment is reachable at: its own, which serves it forever, and the project's
 * production URL, which serves whatever the `production` alias points at. Asked with an
 * `alias`, `alias` is that alias's stable URL (the production URL for `production`, the branch
 * URL for a preview alias) when the host serves aliases on URLs of their own.
 *
 * @example
 * host.urls({ projectId: 'web', deploymentId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ', alias: 'preview-login' });
 * // { deployment: 'http://01jd2z8j6x3q4r5s6t7v8w9xyz-web.localhost:3001', production: 'http://web.localhost:3001',
 * //   alias: 'http://login--web.localhost:3001' }
 */
export interface SiteUrls {
  deployment: string;
  production: string;
  alias?: string;
}

/**
 * Hosts deployments. `publish` is idempotent (a retried deploy publishes nothing twice) and a
 * published version never changes; `shiftAlias` is atomic for requests (each request is served
 * entirely by the old or entirely by the new deployment) and refuses an unpublished deployment.
 *
 * @example
 * await host.publish({ projectId: 'web', deploymentId: d2, artifactDir });
 * const previous = await host.aliasTarget('web', 'production');
 * await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d2 });
 * // rollback: await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: previous! });
 */
export interface SiteHost {
  /** Copies a build's artifact into an immutable version dir; idempotent. */
  publish(input: PublishInput): Promise<Published>;
  /** Points an alias (e.g. 'production') of a project at a published deployment, atomically. */
  shiftAlias(input: ShiftAliasInput): Promise<void>;
  /** The deployment an alias points at, or undefined if it was never shifted. */
  aliasTarget(projectId: string, alias: string): Promise<string | undefined>;
  urls(input: { projectId: string; deploymentId: string; alias?: string }): SiteUrls;
  /**
   * Where the host keeps its own routing state (AWS: the sites' KeyValueStore), sets a project's
   * path mounts (`[]` removes them). A host whose router reads the projects read model (local)
   * has none.
   */
  routeMounts?(projectId: string, mounts: readonly { prefix: string; project: string }[]): Promise<void>;
}

/**
 * What the health gate asks: one request to a deployment's own version (not through an alias),
 * at its health path, answered or given up on within `timeoutMs`.
 *
 * @example
 * const input: HealthCheckInput = { projectId: 'web', deploymentId: '01JD…', path: '/', timeoutMs: 30_000 };
 */
export interface HealthCheckInput {
  projectId: string;
  deploymentId: string;
  path: string;
  timeoutMs: number;
}

/**
 * What the probe saw: a response (its status and first bytes, as text), or none (the version
 * could not be reached, crashed before answering, or ran past the timeout). The verdict is the
 * deploy decider's (`healthVerdict`), not the probe's.
 *
 * @example
 * const seen: HealthObservation = { kind: 'response', status: 502, bodyStart: '<!doctype html>…Function failed' };
 */
export type HealthObservation = { kind: 'response'; status: number; bodyStart: string } | { kind: 'no-response'; error: string };

/**
 * Requests a deployment's health path from its own version. Locally the site router invokes the
 * version through its per-deployment host; on AWS it would invoke the Lambda version.
 *
 * @example
 * const seen = await probe.check({ projectId: 'web', deploymentId, path: '/', timeoutMs: 30_000 });
 */
export interface HealthProbe {
  check(input: HealthCheckInput): Promise<HealthObservation>;
}
