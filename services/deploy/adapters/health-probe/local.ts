import { request } from 'node:http';
import type { HealthCheckInput, HealthObservation, HealthProbe } from '../../ports.ts';

/**
 * Options of {@link localHealthProbe}.
 *
 * @example
 * localHealthProbe({ router: async () => ({ port: 3001 }) });
 */
export interface LocalHealthProbeOptions {
  /** Where the site router listens; awaited, so a check that comes before the router has started waits for it. */
  router: () => Promise<{ port: number; hostname?: string }>;
  /** The router's site domain; `localhost` by default. */
  domain?: string;
  /** How much of the body the observation keeps; 512 bytes by default. */
  maxBodyBytes?: number;
}

/**
 * The local health probe: one GET to the site router with the deployment's own host
 * (`<deployment>-<project>.localhost`), so the router runs that version's function (started
 * fresh if it is not running) whatever the aliases say. Redirects are not followed: a 3xx is
 * an answer. The body is read up to `maxBodyBytes`, then the response is dropped.
 *
 * @example
 * const probe = localHealthProbe({ router: async () => ({ port: 3001 }) });
 * await probe.check({ projectId: 'web', deploymentId: '01JD…', path: '/', timeoutMs: 30_000 });
 * // { kind: 'response', status: 200, bodyStart: '<!DOCTYPE html>…' }
 */
export const localHealthProbe = (opts: LocalHealthProbeOptions): HealthProbe => ({
  async check({ projectId, deploymentId, path, timeoutMs }: HealthCheckInput): Promise<HealthObservation> {
    const { port, hostname } = await opts.router();
    const max = opts.maxBodyBytes ?? 512;
    const host = `${deploymentId.toLowerCase()}-${projectId}.${opts.domain ?? 'localhost'}:${port}`;
    return new Promise<HealthObservation>((resolve) => {
      let settled = false;
      const done = (o: HealthObservation) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(o);
      };
      const req = request({ host: hostname ?? '127.0.0.1', port, path, method: 'GET', headers: { host, 'user-agent': 'shiplog-health-check', accept: '*/*' } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answer = () => done({ kind: 'response', status: res.statusCode ?? 0, bodyStart: Buffer.concat(chunks).subarray(0, max).toString('utf8') });
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (size >= max) answer();
        });
        res.on('end', answer);
        res.on('error', answer);
        res.on('close', answer);
      });
      const timer = setTimeout(() => done({ kind: 'no-response', error: `no response within ${timeoutMs} ms` }), timeoutMs);
      req.on('error', (e) => done({ kind: 'no-response', error: e.message }));
      req.end();
    });
  },
});
