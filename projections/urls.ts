/**
 * Where deployments are served. Read models store no URLs; they are added when read, so the
 * local runtime and AWS (CloudFront) each supply their own.
 *
 * @example
 * const urls = localUrls(3001);
 * urls.production('web');           // 'http://web.localhost:3001'
 * urls.deployment('web', '01JD…');  // 'http://01jd…-web.localhost:3001'
 */
export interface Urls {
  production(projectId: string): string;
  deployment(projectId: string, deploymentId: string): string;
}

/** The local runtime's site router: `<project>.localhost` and `<deployment>-<project>.localhost`. */
export const localUrls = (sitesPort: number): Urls => ({
  production: (projectId) => `http://${projectId}.localhost:${sitesPort}`,
  deployment: (projectId, deploymentId) => `http://${deploymentId.toLowerCase()}-${projectId}.localhost:${sitesPort}`,
});
