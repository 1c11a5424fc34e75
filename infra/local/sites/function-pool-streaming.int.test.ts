import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FunctionInvocationError, functionPool, type FunctionPool, type FunctionRef } from './function-pool.ts';

// Streamed invocations in real worker processes, with a hand-written handler shaped like
// OpenNext's streaming wrapper: prelude, body piped into the response stream, then work it
// awaits after the end (its waitUntil). Signals between invocations live in the process.
const root = mkdtempSync(join(tmpdir(), 'shiplog-pool-stream-'));
const handler = `
import { Readable } from 'node:stream';
const processId = crypto.randomUUID();
const markers = new Map();
const signals = new Map();
const signal = (name) => {
  if (!signals.has(name)) { let release; const promise = new Promise((r) => (release = r)); signals.set(name, { promise, release }); }
  return signals.get(name);
};
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const out = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'text/plain' }, cookies: [] });
  const { action, id } = event;
  if (action === 'state') return out.end(JSON.stringify({ marker: markers.get(id) ?? null, processId }));
  if (action === 'release') { signal(id).release(); return out.end('released'); }
  if (action === 'after') {
    markers.set(id, 'pending');
    out.end('answered');
    await signal(id).promise; // the work after the response, held until released
    markers.set(id, 'done');
    return;
  }
  if (action === 'endless' || action === 'stubborn') {
    let n = 0;
    const source = new Readable({ read() {} });
    const timer = setInterval(() => source.push('tick ' + ++n + '\\n'), 20);
    markers.set(id, 'streaming');
    source.on('close', () => { clearInterval(timer); markers.set(id, 'cancelled'); });
    source.pipe(out);
    // 'stubborn' never returns, whatever happens to its response.
    if (action === 'stubborn') return new Promise(() => {});
    return new Promise((resolve) => source.on('close', resolve));
  }
  if (action === 'throw-at-once') {
    out.write('first part\\n');
    throw new Error('broke at once');
  }
  if (action === 'throw') {
    out.write('first part\\n');
    await new Promise((r) => setImmediate(r));
    throw new Error('broke mid-stream');
  }
});
`;
const fnDir = join(root, 'streamer');
mkdirSync(fnDir, { recursive: true });
writeFileSync(join(fnDir, 'index.mjs'), handler);
const fn: FunctionRef = { key: 'streamer', dir: fnDir, env: async () => ({}) };

const stream = async (pool: FunctionPool, event: Record<string, string>): Promise<Readable> => {
  const inv = await pool.invoke(fn, event);
  if (inv.kind !== 'stream') throw new Error('expected a streamed response');
  return inv.body;
};
const text = async (body: Readable) => {
  let s = '';
  for await (const c of body) s += String(c);
  return s;
};
const state = async (pool: FunctionPool, id: string) => JSON.parse(await text(await stream(pool, { action: 'state', id }))) as { marker: string | null; processId: string };

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('function pool: streamed invocations', () => {
  it('ends the response before the work the handler awaits after it, and keeps the environment for that work', async () => {
    const pool = functionPool();
    try {
      const before = (await state(pool, 'x')).processId;
      // The work after the end waits for a release that only comes once the response is read whole.
      expect(await text(await stream(pool, { action: 'after', id: 'a1' }))).toBe('answered');
      expect((await state(pool, 'a1')).marker).toBe('pending');
      await text(await stream(pool, { action: 'release', id: 'a1' }));
      await expect.poll(async () => state(pool, 'a1')).toEqual({ marker: 'done', processId: before });
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('tells the function when the reader leaves mid-stream: what it was piping is closed, the environment lives on', async () => {
    const pool = functionPool();
    try {
      const body = await stream(pool, { action: 'endless', id: 'e1' });
      let seen = '';
      for await (const c of body) {
        seen += String(c);
        if (seen.split('\n').length > 2) break; // leaving destroys the body, as the router does when its client goes
      }
      expect(seen.startsWith('tick 1\ntick 2\n')).toBe(true);
      await expect.poll(async () => (await state(pool, 'e1')).marker).toBe('cancelled');
      expect(pool.running()).toEqual(['streamer']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('cuts a stream still open at the timeout with a 504, and a stream whose handler throws with a 502', async () => {
    const pool = functionPool({ invokeTimeoutMs: 1500 });
    try {
      const endless = await stream(pool, { action: 'stubborn', id: 't1' });
      const cut = await text(endless).then(() => undefined, (e: unknown) => e);
      expect(cut).toBeInstanceOf(FunctionInvocationError);
      expect((cut as FunctionInvocationError).status).toBe(504);
      // Its head (and maybe its first part) went out: the reader sees the body fail, not end.
      const failed = await text(await stream(pool, { action: 'throw', id: 'b1' })).then(() => undefined, (e: unknown) => e);
      expect(failed).toBeInstanceOf(FunctionInvocationError);
      expect((failed as FunctionInvocationError).status).toBe(502);
      expect((failed as Error).message).toContain('broke mid-stream');
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('keeps an error that arrives with the head for the reader instead of crashing the process', async () => {
    // The head, the first part and the error reach the pool in one IPC read, before the caller
    // can attach to the body; the reader still sees the 502 when it starts reading.
    const pool = functionPool({ invokeTimeoutMs: 5000 });
    try {
      for (let i = 0; i < 10; i++) {
        const body = await stream(pool, { action: 'throw-at-once', id: `a${i}` });
        await new Promise((r) => setTimeout(r, 20));
        const failed = await text(body).then(() => undefined, (e: unknown) => e);
        expect(failed).toBeInstanceOf(FunctionInvocationError);
        expect((failed as FunctionInvocationError).status).toBe(502);
        expect((failed as Error).message).toContain('broke at once');
      }
    } finally {
      await pool.close();
    }
  }, 60_000);
});
