import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
