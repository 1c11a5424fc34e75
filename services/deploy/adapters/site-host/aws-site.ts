import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { awsErrorTranslator, ConfigError, RetryableError } from '../../../shell/index.ts';

/**
 * The S3 keys of a project's sites. Deployment ids never start with a dot, so the markers
 * cannot shadow a deployment's assets.
 *
 * @example
 * siteKeys.published('web', 'd1'); // 'sites/web/.published/d1.json'
 */
export const siteKeys = {
  asset: (projectId: string, deploymentId: string, path: string) => `sites/${projectId}/${deploymentId}/${path}`,
  /** Written last by `publish`: `{ assets, functionVersion, deploymentId }`. */
  published: (projectId: string, deploymentId: string) => `sites/${projectId}/.published/${deploymentId}.json`,
  /** Written before a version is published: a retry then looks for the version instead of publishing again. */
  publishing: (projectId: string, deploymentId: string) => `sites/${projectId}/.publishing/${deploymentId}`,
  cache: (projectId: string, path: string) => `cache/${projectId}/${path}`,
  code: (projectId: string, deploymentId: string) => `artifacts/${projectId}/${deploymentId}/server-function.zip`,
  /**
   * `{ previewModeId }` of a deployment, which ISR revalidation sends as `x-prerender-revalidate`.
   * Outside `sites/` (the only prefix CloudFront may read) and `cache/` (the site functions').
   */
  revalidation: (projectId: string, deploymentId: string) => `revalidation/${projectId}/${deploymentId}.json`,
};

/**
 * The `Cache-Control` of a static asset: Next's hashed `_next/static/*` files never change;
 * everything else (public files) is revalidated on every request.
 *
 * @example
 * cacheControlFor('_next/static/chunks/app.js'); // 'public, max-age=31536000, immutable'
 */
export const cacheControlFor = (path: string): string =>
  /(^|\/)_next\/static\//.test(path) ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml', '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.avif': 'image/avif',
  '.ico': 'image/x-icon', '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf',
  '.pdf': 'application/pdf', '.mp4': 'video/mp4', '.webm': 'video/webm', '.wasm': 'application/wasm',
};

/**
 * The `Content-Type` of an asset, by extension.
 *
 * @example
 * contentTypeFor('favicon.ico'); // 'image/x-icon'
 */
export const contentTypeFor = (path: string): string => types[extname(path).toLowerCase()] ?? 'application/octet-stream';

/**
 * A project's server function: `<prefix>-site-<projectId>`, shortened with a hash past Lambda's 64 characters.
 *
 * @example
 * siteFunctionName('shiplog', 'web'); // 'shiplog-site-web'
 */
export const siteFunctionName = (prefix: string, projectId: string): string => {
  const name = `${prefix}-site-${projectId}`;
  return name.length <= 64 ? name : `${name.slice(0, 55)}-${createHash('sha256').update(projectId).digest('hex').slice(0, 8)}`;
};

/**
 * A project's image function (OpenNext's `/_next/image`): its server function's name with
 * `_image`, which no project id has (they are lowercase letters, digits and `-`), so the name
 * stays inside the `<prefix>-site-*` pattern the deploy functions are granted.
 *
 * @example
 * siteImageFunctionName('shiplog', 'web'); // 'shiplog-site-web_image'
 */
export const siteImageFunctionName = (prefix: string, projectId: string): string => {
  const server = siteFunctionName(prefix, projectId);
  return server.length + 6 <= 64 ? `${server}_image` : `${server.slice(0, 58)}_image`;
};

/**
 * Lambda or S3 cannot take the request now (throttled, an update that does not finish, a fault
 * on their side, or concurrent deployments that keep winning). Retryable.
 *
 * @example
 * catch (e) { if (e instanceof SiteHostBusyError) e.retryable; } // true
 */
export class SiteHostBusyError extends RetryableError {
  override readonly name = 'SiteHostBusyError';
}

/**
 * The site host is set up wrongly: no access, no such bucket, a role Lambda cannot assume, the
 * account's code storage full. Not retryable until someone fixes it (then redrive).
 *
 * @example
 * catch (e) { if (e instanceof SiteHostConfigError) alert(e.message); }
 */
export class SiteHostConfigError extends ConfigError {
  override readonly name = 'SiteHostConfigError';
}

/**
 * A deployment that cannot be (or is not) published: its artifact is not an OpenNext output,
 * Lambda refused its code, or an alias was asked to point at it before `publish`.
 *
 * @example
 * await expect(host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: 'nope' })).rejects.toBeInstanceOf(DeploymentNotPublishedError);
 */
export class DeploymentNotPublishedError extends Error {
  override readonly name = 'DeploymentNotPublishedError';
  readonly retryable = false;
}

/**
 * Rethrows a Lambda or S3 SDK error as one of ours; anything unrecognised is rethrown unchanged.
 *
 * @example
 * await lambda.send(new GetAliasCommand(input)).catch(translateHostError);
 */
export const translateHostError = awsErrorTranslator({
  prefix: '',
  busy: ['SlowDown', 'ServiceException', 'ResourceNotReadyException', 'EC2ThrottledException', 'InternalError'],
  misconfigured: [
    'AccessDenied', 'Forbidden', 'NoSuchBucket', 'InvalidParameterValueException', 'ResourceNotFoundException',
    'CodeStorageExceededException', 'KMSAccessDeniedException', 'KMSNotFoundException', 'InvalidRuntimeException',
  ],
  Busy: SiteHostBusyError,
  Config: SiteHostConfigError,
});
