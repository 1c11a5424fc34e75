import { describe, expect, it } from 'vitest';
import { levelOf, runtimeCapture } from './capture.ts';
import type { RequestRecord, RuntimeLogRecord, RuntimeLogStore } from './ports.ts';

// A capture on in-memory sinks with a clock the test moves.
const setup = () => {
  const logs: RuntimeLogRecord[] = [];
  const requests: RequestRecord[] = [];
  let t = Date.parse('2026-11-22T10:00:00.000Z');
  const store: RuntimeLogStore = { append: async (rs) => void logs.push(...rs), query: async () => logs, follow: () => () => {} };
  const capture = runtimeCapture({ logs: store, requests: { record: async (r) => void requests.push(r) }, clock: () => t, graceMs: 500 });
  return { capture, logs, requests, tick: (ms: number) => (t += ms) };
};
const req = (requestId: string, path = '/') => ({
  projectId: 'web', deploymentId: 'd1', requestId, method: 'GET', path, origin: 'function' as const, functionKey: 'web/d1/default', coldStart: false,
});

describe('runtime capture', () => {
  it('gives a line to the one request in flight, with its status and duration once it ends', async () => {
    const { capture, logs, requests, tick } = setup();
    const end = capture.begin({ ...req('r1'), coldStart: true });
    capture.line('web/d1/default', 'hello marker', 'stdout');
    expect(logs).toEqual([]);
    tick(12);
    end({ status: 200, durationMs: 12, bytesOut: 300 });
    await expect.poll(() => requests.length).toBe(1);
    expect(logs).toMatchObject([
      { kind: 'console', level: 'info', requestId: 'r1', method: 'GET', path: '/', status: 200, durationMs: 12, message: 'hello marker' },
      { kind: 'request', level: 'info', requestId: 'r1', status: 200, message: 'GET / 200 in 12 ms (cold start)' },
    ]);
    expect(requests[0]).toMatchObject({ requestId: 'r1', status: 200, coldStart: true, bytesOut: 300, origin: 'function' });
    expect(requests[0]).not.toHaveProperty('functionKey');
  });

  it('gives a line arriving just after the end to the request that ended, and later ones to none', async () => {
    const { capture, logs, tick } = setup();
    capture.begin(req('r1'))({ status: 500, durationMs: 5, bytesOut: 10 });
    tick(100);
    capture.line('web/d1/default', 'Error: boom', 'stderr');
    tick(1000);
    capture.line('web/d1/default', 'background', 'stdout');
    await expect.poll(() => logs.length).toBe(3);
    expect(logs[0]).toMatchObject({ kind: 'request', level: 'error', status: 500 });
    expect(logs[1]).toMatchObject({ kind: 'console', level: 'error', requestId: 'r1', message: 'Error: boom' });
    expect(logs[2]).toMatchObject({ kind: 'console', message: 'background' });
    expect(logs[2]).not.toHaveProperty('requestId');
  });

  it("joins a stack trace's frames to the line they follow", async () => {
    const { capture, logs } = setup();
    const end = capture.begin(req('r1'));
    for (const l of ['Error: boom', '    at Home (page.js:1:1)', '    at render (next.js:2:2) {', "  digest: '1'", '}', 'next line']) capture.line('web/d1/default', l, 'stderr');
    end({ status: 500, durationMs: 5, bytesOut: 10 });
    await expect.poll(() => logs.length).toBe(3);
    expect(logs.map((r) => r.message)).toEqual([
      "Error: boom\n    at Home (page.js:1:1)\n    at render (next.js:2:2) {\n  digest: '1'\n}", 'next line', 'GET / 500 in 5 ms',
    ]);
  });

  it('ties no line to a request while two are in flight on one function', async () => {
    const { capture, logs } = setup();
    capture.begin(req('r1'));
    capture.begin(req('r2'));
    capture.line('web/d1/default', 'whose?', 'stdout');
    await expect.poll(() => logs.length).toBe(1);
    expect(logs[0]).not.toHaveProperty('requestId');
  });

  it('records static files as requests, not log lines', async () => {
    const { capture, logs, requests } = setup();
    capture.begin({ ...req('r1', '/_next/static/a.js'), origin: 'asset', functionKey: undefined } as never)({ status: 200, durationMs: 1, bytesOut: 900 });
    await expect.poll(() => requests.length).toBe(1);
    expect(requests[0]).toMatchObject({ origin: 'asset', bytesOut: 900 });
    expect(logs).toEqual([]);
  });

  it('writes what it captured in one batch, after the requests, not one write per request', async () => {
    const appends: RuntimeLogRecord[][] = [];
    const recorded: RequestRecord[] = [];
    const watched: string[] = [];
    const store: RuntimeLogStore = { append: async (rs) => void appends.push(rs), query: async () => [], follow: () => () => {} };
    const capture = runtimeCapture({
      logs: store, requests: { record: async (r) => void recorded.push(r) }, onRequest: (r) => watched.push(r.requestId), flushMs: 60_000,
    });
    for (const id of ['r1', 'r2', 'r3']) {
      const end = capture.begin(req(id));
      capture.line('web/d1/default', `line of ${id}`, 'stdout');
      end({ status: 200, durationMs: 3, bytesOut: 10 });
    }
    capture.line('other/d9/default', 'no request', 'stdout');
    // Nothing is written while the requests are served: it waits for the batch.
    await new Promise((r) => setTimeout(r, 20));
    expect(appends).toEqual([]);
    expect(recorded).toEqual([]);
    await capture.flush();
    expect(appends).toHaveLength(1);
    expect(appends[0]!.map((r) => r.message)).toEqual([
      'line of r1', 'GET / 200 in 3 ms', 'line of r2', 'GET / 200 in 3 ms', 'line of r3', 'GET / 200 in 3 ms', 'no request',
    ]);
    expect(recorded.map((r) => r.requestId)).toEqual(['r1', 'r2', 'r3']);
    // onRequest hears of a request once its record is written.
    expect(watched).toEqual(['r1', 'r2', 'r3']);
  });

  it('writes a batch by itself after flushMs, and flush waits for writes under way', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const logs: RuntimeLogRecord[] = [];
    const store: RuntimeLogStore = { append: async (rs) => { await gate; logs.push(...rs); }, query: async () => [], follow: () => () => {} };
    const capture = runtimeCapture({ logs: store, requests: { record: async () => {} }, flushMs: 5 });
    capture.begin(req('r1'))({ status: 200, durationMs: 1, bytesOut: 1 });
    let flushed = false;
    await new Promise((r) => setTimeout(r, 30));
    // The timer started the write; flush waits for it to finish.
    const done = capture.flush().then(() => (flushed = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(flushed).toBe(false);
    release();
    await done;
    expect(logs.map((r) => r.requestId)).toEqual(['r1']);
  });

  it('reports a failed batch to onError and keeps capturing', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const logs: RuntimeLogRecord[] = [];
    const store: RuntimeLogStore = {
      append: async (rs) => { if (fail) throw new Error('disk full'); logs.push(...rs); }, query: async () => [], follow: () => () => {},
    };
    const capture = runtimeCapture({ logs: store, requests: { record: async () => {} }, onError: (e) => errors.push(e), flushMs: 60_000 });
    capture.line('web/d1/default', 'lost', 'stdout');
    await capture.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    capture.line('web/d1/default', 'kept', 'stdout');
    await capture.flush();
    expect(logs.map((r) => r.message)).toEqual(['kept']);
  });

  it('reads levels from structured lines and warnings', () => {
    expect(levelOf('{"level":"warn","msg":"x"}', 'stdout')).toBe('warning');
    expect(levelOf('{"severity":"DEBUG"}', 'stderr')).toBe('debug');
    expect(levelOf('Warning: deprecated', 'stderr')).toBe('warning');
    expect(levelOf('plain', 'stderr')).toBe('error');
    expect(levelOf('plain', 'stdout')).toBe('info');
  });
});
