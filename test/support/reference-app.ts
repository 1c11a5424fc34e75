import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../infra/local/dynamodb-local.ts';

/**
 * Installs and builds an app as its developer would (`<install>`, then `next build` or `build`), the
 * reference an e2e suite compares shiplog's answers with. The install comes from the npm
 * registry: a fetch that stalls there once would hold the suite to its timeout and then fail
 * every case, so an install gets two tries of 5 minutes, its half-written `node_modules` removed
 * between them. The build gets one try of 10 minutes. Returns the environment the app was built
 * with (its own `TMPDIR`, `CI`, no telemetry), for `startNext`.
 *
 * @example
 * const env = buildReference(dir, 'npm ci', (line) => notes.push(line));
 * const { port, child } = await startNext(dir, env);
 */
export const buildReference = (dir: string, install: string, log: (line: string) => void = () => {}, build = 'npx next build'): NodeJS.ProcessEnv => {
  const tmp = join(dir, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, CI: '1', NEXT_TELEMETRY_DISABLED: '1' };
  delete env.NODE_ENV;
  const steps = [{ cmd: install, tries: 2, timeout: 300_000 }, { cmd: build, tries: 1, timeout: 600_000 }];
  for (const { cmd, tries, timeout } of steps) {
    for (let attempt = 1; ; attempt++) {
      const r = spawnSync('sh', ['-c', cmd], { cwd: dir, env, encoding: 'utf8', timeout });
      const outcome = r.error ? `${r.status} (${r.error.message})` : String(r.status);
      log(`$ ${cmd} (try ${attempt} of ${tries}): ${outcome}`);
      if (r.status === 0) break;
      if (attempt >= tries) throw new Error(`reference: "${cmd}" failed (${outcome}):\n${r.stdout}\n${r.stderr}`);
      rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    }
  }
  return env;
};

/**
 * `next start` of an app `buildReference` built, on a free port of 127.0.0.1, in its own process
 * group (stop it with `process.kill(-child.pid, 'SIGTERM')`). The caller waits for it to answer.
 */
export const startNext = async (dir: string, env: NodeJS.ProcessEnv): Promise<{ port: number; child: ChildProcess }> => {
  const port = await freePort();
  const child = spawn('npx', ['next', 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env: { ...env, NODE_ENV: 'production' }, stdio: 'ignore', detached: true });
  return { port, child };
};
