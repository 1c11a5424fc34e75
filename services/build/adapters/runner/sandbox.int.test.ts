import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapSandbox, sandboxUid, sandboxUnavailable, type Sandbox, type SandboxSpec } from './sandbox.ts';

// The real bubblewrap + slirp4netns sandbox, on this host. CI installs both (.ci/run).
const missing = sandboxUnavailable();
if (missing) throw new Error(`these tests need the sandbox tools: ${missing} (apt-get install bubblewrap slirp4netns)`);

let root: string;
let dataDir: string;
let work: string;
let server: Server;
let port: number;
let sandbox: Sandbox;
let hostTmpFile: string;

const run = (child: ChildProcess): Promise<{ code: number | null; out: string; err: string; error?: Error }> =>
  new Promise((resolve) => {
    let out = '';
    let err = '';
    let error: Error | undefined;
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => (error = e));
    child.on('close', (code) => resolve({ code, out, err, error }));
  });

const spec = (network: SandboxSpec['network']): SandboxSpec => ({
  cwd: work,
  env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: work, ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}) },
  writable: [work],
  network,
});

// A node script inside the sandbox, reporting what it could do as JSON on stdout.
const probe = async (script: string, network: SandboxSpec['network'] = 'outside') => {
  await writeFile(join(work, 'probe.mjs'), script);
  const r = await run(sandbox.spawn(process.execPath, ['probe.mjs'], spec(network)));
  if (r.code !== 0) throw new Error(`probe exited ${r.code}: ${r.err} ${r.error?.message ?? ''}`);
  return JSON.parse(r.out) as Record<string, unknown>;
};

const attempt = `const attempt = async (f) => { try { return 'ok: ' + String(await f()).slice(0, 80); } catch (e) { return 'failed: ' + (e.cause?.code ?? e.code ?? e.message); } };\n`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-sandbox-'));
  dataDir = join(root, 'data');
  work = join(dataDir, 'builds', 'work', 'b1');
  await mkdir(work, { recursive: true });
  await writeFile(join(dataDir, 'secrets.key'), 'top secret');
  await writeFile(join(work, 'own.txt'), 'mine');
  hostTmpFile = join(root, 'host-tmp.txt');
  await writeFile(hostTmpFile, 'host');
  sandbox = bwrapSandbox();
  await sandbox.own(work);
  server = createServer((_req, res) => res.end('shiplog internal'));
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the bubblewrap sandbox', () => {
  it('runs as an unprivileged user that sees its own dir and nothing of the data dir or homes', async () => {
    const r = await probe(`${attempt}import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
      const out = {
        uid: process.getuid(),
        own: await attempt(() => readFileSync('own.txt', 'utf8')),
        write: await attempt(() => { writeFileSync('made.txt', 'x'); return 'written'; }),
        secret: await attempt(() => readFileSync(${JSON.stringify(join(dataDir, 'secrets.key'))}, 'utf8')),
        siblings: await attempt(() => readdirSync(${JSON.stringify(join(dataDir, 'builds', 'work'))}).join(',')),
        root: await attempt(() => readFileSync('/root/.npmrc', 'utf8')),
        rootDir: await attempt(() => readdirSync('/root').join(',')),
        hostTmp: await attempt(() => readFileSync(${JSON.stringify(hostTmpFile)}, 'utf8')),
        // its own /tmp is writable, as Lambda's and next start's are (os.tmpdir(): uploads, caches)
        tmpWrite: await attempt(() => { writeFileSync('/tmp/scratch.txt', 'y'); return readFileSync('/tmp/scratch.txt', 'utf8'); }),
      };
      console.log(JSON.stringify(out));`, 'none');
    expect(r.uid).toBe(process.getuid?.() === 0 ? sandboxUid : process.getuid?.());
    expect(r.own).toBe('ok: mine');
    expect(r.write).toBe('ok: written');
    expect(await readFile(join(work, 'made.txt'), 'utf8')).toBe('x');
    expect(r.secret).toMatch(/^failed: ENOENT/);
    expect(r.siblings).toBe('ok: b1'); // only its own dir exists under the data dir
    expect(r.root).toMatch(/^failed: ENOENT/);
    expect(r.rootDir).toMatch(/^failed: ENOENT/);
    expect(r.hostTmp).toMatch(/^failed: ENOENT/); // its own /tmp
    expect(r.tmpWrite).toBe('ok: y');
  });

  it('reaches the internet but neither the host loopback nor the host\'s own addresses', async () => {
    const hostAddrs = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
    const targets = ['127.0.0.1', '10.0.2.2', ...hostAddrs].map((h) => `http://${h}:${port}/`);
    const r = await probe(`${attempt}
      const out = { registry: await attempt(async () => (await fetch('https://registry.npmjs.org/')).status) };
      for (const t of ${JSON.stringify(targets)}) out[t] = await attempt(async () => (await fetch(t, { signal: AbortSignal.timeout(5000) })).text());
      console.log(JSON.stringify(out));`);
    expect(r.registry).toBe('ok: 200');
    for (const t of targets.slice(0, 2)) expect(r[t], t).toMatch(/^failed: /);
    // The host's own non-loopback addresses reach whatever listens on every interface (as this
    // test's server does): shiplog's ports listen on 127.0.0.1 only for that reason.
    expect(Object.keys(r)).toHaveLength(targets.length + 1);
  });

  it('has no network at all with network: none', async () => {
    const r = await probe(`${attempt}console.log(JSON.stringify({ registry: await attempt(async () => (await fetch('https://registry.npmjs.org/')).status) }));`, 'none');
    expect(r.registry).toMatch(/^failed: /);
  });

  it('keeps a node IPC channel through bwrap', async () => {
    await writeFile(join(work, 'ipc.mjs'), "process.on('message', (m) => process.send({ echo: m, uid: process.getuid() })); process.on('disconnect', () => process.exit(0)); process.send('ready');");
    const child = sandbox.spawn(process.execPath, ['ipc.mjs'], spec('outside'), { ipc: true, serialization: 'advanced' });
    const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const messages: unknown[] = [];
    child.on('message', (m) => {
      messages.push(m);
      if (m === 'ready') child.send({ big: 1n });
      else child.disconnect();
    });
    expect(await done).toBe(0);
    expect(messages).toEqual(['ready', { echo: { big: 1n }, uid: process.getuid?.() === 0 ? sandboxUid : process.getuid?.() }]);
  });

  it('dies with its process group, grandchildren included', async () => {
    const marker = `${300 + Math.random()}`.slice(0, 10);
    const sleeping = () =>
      readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${marker}\0`;
        } catch {
          return false;
        }
      });
    const child = sandbox.spawn('sh', ['-c', `sleep ${marker} & echo started; wait`], spec('outside'));
    const done = run(child);
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    // `echo` may run before the forked `sleep` has exec'd (until then its command line is the shell's).
    await expect.poll(sleeping).toBe(true);
    process.kill(-child.pid!, 'SIGTERM');
    const r = await done;
    expect(r.code).not.toBe(0);
    await expect.poll(sleeping).toBe(false);
  });
});
