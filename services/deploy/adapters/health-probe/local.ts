import { Agent, request } from 'node:http';
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
  /**
   * How long a connection to the router is kept idle for the next check; 4 s by default, under
   * the 5 s after which Node's HTTP server (the router) closes an idle connection itself.
   */
  idleConnectionMs?: number;
}

/** After the observation is taken, the rest of a body is read (so its connection can serve the next check) up to this much, for this long. */
const drainBytes = 1 << 20;
const drainMs = 2_000;

/**
 * The local health probe: one GET to the site router with the deployment's own host
 * (`<deployment>-<project>.localhost`), so the router runs that version's function (started
 * fresh if it is not running) whatever the aliases say. Redirects are not followed: a 3xx is
 * an answer. The body is read up to `maxBodyBytes` for the observation.
 *
 * The connection is kept for the next check (HTTP keep-alive, as a browser keeps it), so a check
 * soon after another (a rollback, then a promote) does not open one: the router runs in the
 * same process, and connecting and accepting cost it turns of its event loop while a rollback's
 * own work runs there. What follows the observed bytes is read and dropped (up to 1 MiB, 2 s;
 * else the connection is closed). A kept connection the router closed just as the check was
 * sent is no answer of the version: the check is sent again once, on a new connection.
 *
 * @example
 * const probe = localHealthProbe({ router: async () => ({ port: 3001 }) });
 * await probe.check({ projectId: 'web', deploymentId: '01JD…', path: '/', timeoutMs: 30_000 });
 * // { kind: 'response', status: 200, bodyStart: '<!DOCTYPE html>…' }
 */
export const localHealthProbe = (opts: LocalHealthProbeOptions): HealthProbe => {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 4, timeout: opts.idleConnectionMs ?? 4_000 });
  return {
    async check({ projectId, deploymentId, path, timeoutMs }: HealthCheckInput): Promise<HealthObservation> {
      const { port, hostname } = await opts.router();
      const max = opts.maxBodyBytes ?? 512;
      const host = `${deploymentId.toLowerCase()}-${projectId}.${opts.domain ?? 'localhost'}:${port}`;
      return new Promise<HealthObservation>((resolve) => {
        let settled = false;
        let req: ReturnType<typeof request>;
        const done = (o: HealthObservation, close: boolean) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (close) req.destroy();
          resolve(o);
        };
        const send = (fresh: boolean) => {
          req = request({ host: hostname ?? '127.0.0.1', port, path, method: 'GET', agent: fresh ? false : agent, headers: { host, 'user-agent': 'shiplog-health-check', accept: '*/*' } }, (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            const observation = (): HealthObservation => ({ kind: 'response', status: res.statusCode ?? 0, bodyStart: Buffer.concat(chunks).subarray(0, max).toString('utf8') });
            // The rest of the body, after the observation: read and dropped while it is short and quick, so the connection is kept.
            const drain = () => {
              if (res.complete) return;
              const cut = setTimeout(() => req.destroy(), drainMs);
              cut.unref();
              res.on('end', () => clearTimeout(cut)).on('close', () => clearTimeout(cut));
            };
            res.on('data', (c: Buffer) => {
              if (settled) {
                size += c.length;
                if (size > drainBytes) req.destroy();
                return;
              }
              chunks.push(c);
              size += c.length;
              if (size >= max) {
                done(observation(), false);
                drain();
              }
            });
            res.on('end', () => done(observation(), false));
            res.on('error', () => done(observation(), true));
            res.on('close', () => done(observation(), true));
          });
          req.on('error', (e: NodeJS.ErrnoException) => {
            // A kept connection closed by the router as this check went out: not the version's answer.
            if (!settled && !fresh && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return send(true);
            done({ kind: 'no-response', error: e.message }, true);
          });
          req.end();
        };
        const timer = setTimeout(() => done({ kind: 'no-response', error: `no response within ${timeoutMs} ms` }, true), timeoutMs);
        send(false);
      });
    },
  };
};
