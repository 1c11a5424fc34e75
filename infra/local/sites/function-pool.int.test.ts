import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FunctionInvocationError, functionPool, type FunctionRef } from './function-pool.ts';

// Real worker processes: each function is a directory with an index.mjs, as OpenNext's are.
const root = mkdtempSync(join(tmpdir(), 'shiplog-pool-'));
// Each worker process answers an id of its own (pids are the sandbox's, not the host's).
const fn = (name: string, body = 'return { statusCode: 200, body: processId };'): FunctionRef => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.mjs'), `const processId = crypto.randomUUID();\nexport const handler = async (event) => { ${body} };\n`);
  return { key: name, dir, env: async () => ({}) };
};
const pidOf = async (pool: ReturnType<typeof functionPool>, f: FunctionRef) => {
  const inv = await pool.invoke(f, {});
  if (inv.kind !== 'result') throw new Error('expected a plain result');
  return (inv.result as { body: string }).body;
};
// Whether any host process still runs a function's directory (the sandbox names it on its command line).
const alive = (f: FunctionRef) =>
  readdirSync('/proc').some((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(f.dir);
    } catch {
      return false;
    }
  });

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('function pool pre-warm', () => {
  it('starts the environment the first invocation then uses, and reaps it when idle like any other', async () => {
    const starts: string[] = [];
    const pool = functionPool({ idleMs: 300, onLog: (key, line) => starts.push(`${key} ${line}`) });
    try {
      const f = fn('warm', 'return { statusCode: 200, body: processId };');
      writeFileSync(join(f.dir, 'index.mjs'), `console.log('started');\n${readFileSync(join(f.dir, 'index.mjs'), 'utf8')}`);
      // A pre-warm and an invocation at once share one start.
      const [warmed, first] = await Promise.all([pool.prewarm(f), pidOf(pool, f)]);
      expect(warmed).toEqual({ ready: true });
      expect(await pool.prewarm(f)).toEqual({ ready: true });
      expect(await pidOf(pool, f)).toBe(first);
      expect(starts).toEqual(['warm started']);
      await expect.poll(() => pool.running(), { timeout: 10_000 }).toEqual([]);
      await expect.poll(() => alive(f)).toBe(false);
      // Pre-warmed and never invoked: reaped too.
      expect(await pool.prewarm(f)).toEqual({ ready: true });
      expect(pool.running()).toEqual(['warm']);
      await expect.poll(() => pool.running(), { timeout: 10_000 }).toEqual([]);
      await expect.poll(() => alive(f)).toBe(false);
      expect(starts).toEqual(['warm started', 'warm started']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('says why a function could not start, and the next invocation starts it afresh', async () => {
    const pool = functionPool();
    try {
      const f = fn('broken');
      writeFileSync(join(f.dir, 'index.mjs'), 'throw new Error("no start");\n');
      const warmed = await pool.prewarm(f);
      expect(warmed.ready).toBe(false);
      expect(warmed.error).toMatch(/failed to start: no start/);
      await expect.poll(() => pool.running()).toEqual([]);
      writeFileSync(join(f.dir, 'index.mjs'), 'export const handler = async () => ({ statusCode: 200, body: "ok" });\n');
      expect(await pidOf(pool, f)).toBe('ok');
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('function pool prestart (ahead of publishing)', () => {
  // A build's artifact: a function that says at import which process it is, and answers with it.
  const artifact = (name: string) => {
    const dir = join(root, `${name}-artifact`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.mjs'), "const processId = crypto.randomUUID();\nconsole.log('started ' + processId);\nexport const handler = async () => ({ statusCode: 200, body: processId });\n");
    return dir;
  };
  const target = (name: string): FunctionRef => ({ key: name, dir: join(root, `${name}-version`), env: async () => ({}) });

  it('reads nothing of the function until its version is in place, then is the environment its first request uses', async () => {
    const logs: string[] = [];
    const pool = functionPool({ onLog: (key, line) => logs.push(`${key} ${line}`) });
    try {
      const from = artifact('moved');
      const f = target('moved');
      expect(await pool.prestart(f, from)).toEqual({ started: true });
      expect(pool.running()).toEqual(['moved']);
      renameSync(from, f.dir); // published: the artifact becomes the version
      expect(logs).toEqual([]);
      expect(await pool.prewarm(f)).toEqual({ ready: true });
      const [line] = logs;
      expect(logs).toHaveLength(1);
      expect(line).toBe(`moved started ${await pidOf(pool, f)}`);
      expect(logs).toHaveLength(1);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('is stopped, and a fresh environment started, when the version in place is not the directory it was started from', async () => {
    const logs: string[] = [];
    const pool = functionPool({ onLog: (key, line) => logs.push(`${key} ${line}`) });
    try {
      const from = artifact('copied');
      const f = target('copied');
      expect(await pool.prestart(f, from)).toEqual({ started: true });
      cpSync(from, f.dir, { recursive: true }); // published as a copy
      rmSync(from, { recursive: true });
      const answer = await pidOf(pool, f);
      // (The sandbox of the first may fail to bind the removed directory: it then says so and exits.)
      expect(logs.filter((l) => l.includes(' started '))).toEqual([`copied started ${answer}`]);
      expect(pool.running()).toEqual(['copied']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('never published, it is reaped when idle', async () => {
    const pool = functionPool({ idleMs: 300 });
    try {
      const f = target('abandoned');
      expect(await pool.prestart(f, artifact('abandoned'))).toEqual({ started: true });
      expect(pool.running()).toEqual(['abandoned']);
      await expect.poll(() => pool.running(), { timeout: 10_000 }).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('function pool cap', () => {
  it('keeps at most maxEnvironments alive, stopping the least recently used idle one first', async () => {
    const pool = functionPool({ maxEnvironments: 2 });
    try {
      const [a, b, c] = [fn('a'), fn('b'), fn('c')];
      const pa = await pidOf(pool, a);
      const pb = await pidOf(pool, b);
      expect(await pidOf(pool, a)).toBe(pa); // a is now more recently used than b
      const pc = await pidOf(pool, c);
      expect(pc).not.toBe(pa);
      expect(pool.running().sort()).toEqual(['a', 'c']);
      await expect.poll(() => alive(b)).toBe(false);
      expect(alive(a) && alive(c)).toBe(true);
      // b starts again on demand, and a (now the least recently used) makes room.
      expect(await pidOf(pool, b)).not.toBe(pb);
      expect(pool.running().sort()).toEqual(['b', 'c']);
      await expect.poll(() => alive(a)).toBe(false);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('answers 503 when every environment is busy, and never exceeds the cap', async () => {
    const pool = functionPool({ maxEnvironments: 1 });
    try {
      // Never answers: its environment stays busy until the pool closes.
      const slow = fn('slow', 'await new Promise(() => {});');
      const busy = pool.invoke(slow, {});
      busy.catch(() => undefined);
      await expect.poll(() => pool.running()).toEqual(['slow']);
      const refused = await pool.invoke(fn('other'), {}).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(FunctionInvocationError);
      expect((refused as FunctionInvocationError).status).toBe(503);
      expect(pool.running()).toEqual(['slow']);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
