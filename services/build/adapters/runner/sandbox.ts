import { spawn, spawnSync, type ChildProcess, type IOType, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { delimiter, dirname, join, sep } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { isInside } from './artifact-links.ts';

/**
 * Raised when user code cannot be sandboxed: the host lacks a tool or user namespaces, or the
 * network of one sandbox could not be set up. The message is one line that says what is missing.
 *
 * @example
 * throw new SandboxError('bwrap (Debian: bubblewrap) not found');
 */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

/**
 * What one sandboxed command may see. Everything else of the host is absent: the root is built
 * from the system directories (`/usr`, `/etc`, the `/bin` and `/lib` links), a fresh `/dev`,
 * `/proc` and `/tmp`, plus the listed paths, bound at the same place.
 *
 * @example
 * const spec: SandboxSpec = { cwd: work, env: { PATH: '/usr/bin', HOME: `${work}/home` }, writable: [work], readOnly: [shiplogModules], network: 'outside' };
 */
export interface SandboxSpec {
  cwd: string;
  /** The whole environment of the command. */
  env: Record<string, string>;
  /** Directories (or files) bound read-only. */
  readOnly?: string[];
  /** Directories bound writable (the sandbox user must own them: see {@link Sandbox.own}). */
  writable?: string[];
  /** `outside`: a network namespace of its own that reaches the internet through slirp4netns, not the host. */
  network: 'outside' | 'none';
}

/**
 * Extra options of {@link Sandbox.spawn}: what `child_process.spawn` would take for the process itself.
 *
 * @example
 * sandbox.spawn(process.execPath, [worker], spec, { ipc: true, serialization: 'advanced' });
 */
export interface SandboxSpawnOptions {
  /** Adds an IPC channel at fd 3 (as `fork` does). */
  ipc?: boolean;
  serialization?: 'json' | 'advanced';
  /** Own session and process group (`kill(-pid)` reaches everything inside); true by default. */
  detached?: boolean;
}

/**
 * Runs user code. `spawn` gives a child like `child_process.spawn` (stdin ignored, stdout and
 * stderr piped); a sandbox that cannot be set up emits `error` on it and kills it.
 *
 * @example
 * const sandbox = bwrapSandbox();
 * await sandbox.own(work);
 * const child = sandbox.spawn('sh', ['-c', 'npm ci'], { cwd: work, env, writable: [work], network: 'outside' });
 */
export interface Sandbox {
  /** `bwrap`, or `none` when the operator chose `--unsafe-no-sandbox`. */
  readonly kind: 'bwrap' | 'none';
  spawn(command: string, args: string[], spec: SandboxSpec, opts?: SandboxSpawnOptions): ChildProcess;
  /** Gives a directory the sandbox will write to its user (a no-op unless shiplog runs as root). */
  own(dir: string): Promise<void>;
}

/** The unprivileged user sandboxed code runs as when shiplog runs as root (`nobody`). */
export const sandboxUid = 65534;

const isRoot = () => process.getuid?.() === 0;

const which = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
};

interface Tools {
  bwrap: string;
  slirp: string;
  setpriv?: string;
}

const findTools = (): Tools | string => {
  const bwrap = which('bwrap');
  if (!bwrap) return 'bwrap not found (Debian package bubblewrap)';
  const slirp = which('slirp4netns');
  if (!slirp) return 'slirp4netns not found (Debian package slirp4netns)';
  const setpriv = isRoot() ? which('setpriv') : undefined;
  if (isRoot() && !setpriv) return 'setpriv not found (Debian package util-linux), needed to drop root';
  return { bwrap, slirp, setpriv };
};

// As root, bwrap sets up the namespaces itself (it can open any path it binds, even under a
// 0700 data dir) and the command starts through setpriv, which drops to nobody with no
// capabilities and no_new_privs; as anyone else, bwrap works in a user namespace of its own.
const namespaces = (): string[] =>
  isRoot() ? ['--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'] : ['--unshare-all'];
const dropRoot = (tools: Tools): string[] =>
  tools.setpriv
    ? ['--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--', tools.setpriv, `--reuid=${sandboxUid}`, `--regid=${sandboxUid}`, '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--']
    : ['--'];

// The system part of the root: real directories bound read-only, merged-/usr links recreated.
const systemArgs = (): string[] => {
  const args: string[] = ['--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc'];
  for (const p of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(p), p);
      else if (st.isDirectory()) args.push('--ro-bind', p, p);
    } catch {
      // not on this host
    }
  }
  return args;
};

const systemDirs = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/dev', '/proc'];
const isUnder = (p: string, roots: string[]) => roots.some((r) => isInside(r, p));

/** The installation of the running `node` (e.g. `/usr/local` or `~/.nvm/versions/node/v20…`), unless it is a system one. */
const nodePrefix = (): string | undefined => {
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  return isUnder(prefix, ['/usr', '/bin', '/lib']) ? undefined : prefix;
};

// A host whose resolver is on its loopback (systemd-resolved, dnsmasq) cannot be asked from
// inside: slirp4netns's own DNS forwarder (10.0.2.3) answers instead.
const loopbackResolver = (): boolean => {
  try {
    return /^\s*nameserver\s+(127\.|::1)/m.test(readFileSync('/etc/resolv.conf', 'utf8'));
  } catch {
    return false;
  }
};

const readJson = (stream: Readable, what: string): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    let buf = '';
    const done = (err?: Error, value?: Record<string, unknown>) => {
      stream.off('data', onData).off('end', onEnd).off('error', onEnd);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (c: Buffer) => {
      buf += c.toString();
      try {
        done(undefined, JSON.parse(buf) as Record<string, unknown>);
      } catch {
        // not complete yet
      }
    };
    const onEnd = () => done(new SandboxError(`${what} closed before it said anything ("${buf.trim()}")`));
    stream.on('data', onData).once('end', onEnd).once('error', onEnd);
  });

const readReady = (stream: Readable, what: string): Promise<void> =>
  new Promise((resolve, reject) => {
    stream.once('data', () => resolve());
    stream.once('end', () => reject(new SandboxError(what)));
    stream.once('error', () => reject(new SandboxError(what)));
  });

/**
 * The bubblewrap sandbox: a user, mount, PID, IPC, UTS and network namespace per command, the
 * root built from an allow-list (system directories plus what the spec binds, so shiplog's data
 * dir, other projects and every home directory are simply absent), its own `/tmp`, killed with
 * its parent (`--die-with-parent`). As root it first drops to `nobody` (`setpriv`), so even what
 * is bound is guarded by file permissions, and nothing runs with capabilities on the host.
 * `network: 'outside'` adds slirp4netns with `--disable-host-loopback`: the internet answers,
 * the host's loopback ports (DynamoDB Local, the API, the router) do not.
 *
 * Throws {@link SandboxError} when the host cannot do it (see {@link sandboxUnavailable}).
 *
 * @example
 * const sandbox = bwrapSandbox();
 * const child = sandbox.spawn('node', ['-e', 'fetch("https://registry.npmjs.org")'], { cwd: dir, env: { PATH: '/usr/bin' }, writable: [dir], network: 'outside' });
 */
export const bwrapSandbox = (): Sandbox => {
  const tools = findTools();
  if (typeof tools === 'string') throw new SandboxError(tools);
  const nodeDir = nodePrefix();
  const system = systemArgs();
  const ownResolver = loopbackResolver();

  const spawnSandboxed = (command: string, args: string[], spec: SandboxSpec, opts: SandboxSpawnOptions = {}): ChildProcess => {
    const stdio: (IOType | 'ipc' | number)[] = ['ignore', 'pipe', 'pipe'];
    if (opts.ipc) stdio.push('ipc');
    const outside = spec.network === 'outside';
    const infoFd = outside ? stdio.push('pipe') - 1 : -1;
    // The command waits in the sandbox until its network is up: it says it is set up on
    // `readyFd` (bwrap has made its loopback by then; slirp4netns must not race it), then
    // reads "1" from `goFd`, or exits without running anything.
    const readyFd = outside ? stdio.push('pipe') - 1 : -1;
    const goFd = outside ? stdio.push('pipe') - 1 : -1;
    const resolvFd = outside && ownResolver ? stdio.push('pipe') - 1 : -1;

    // Its own /tmp, writable by whoever it runs as (sticky, as a host's /tmp and Lambda's are): bwrap
    // makes a tmpfs 0755 and owned by root when started as root, so the dropped user could not write it.
    const bw = [...namespaces(), '--die-with-parent', ...system, '--dev', '/dev', '--proc', '/proc', '--perms', '1777', '--tmpfs', '/tmp'];
    // The network namespace is always new: with `none` it has only its own loopback.
    if (outside) bw.push('--info-fd', String(infoFd));
    if (resolvFd >= 0) bw.push('--ro-bind-data', String(resolvFd), '/etc/resolv.conf');
    // Paths the spec binds travel as descriptors we open: bwrap, already unprivileged, may not
    // be able to walk to them (a data dir under /root), while the sandbox sees only them.
    const opened: number[] = [];
    const binds = [
      ...(nodeDir ? [{ path: nodeDir, writable: false }] : []),
      ...(spec.readOnly ?? []).map((path) => ({ path, writable: false })),
      ...(spec.writable ?? []).map((path) => ({ path, writable: true })),
    ].sort((a, b) => a.path.length - b.path.length);
    // bwrap would give the directories it creates on the way the host's modes (a 0700 data dir
    // would lock the sandbox user out of its own work dir): make them plain 0755 first.
    const made = new Set<string>();
    for (const b of binds) {
      const bound = binds.filter((o) => o !== b && b.path.startsWith(o.path + sep)).map((o) => o.path);
      for (let d = dirname(b.path); d !== '/' && d !== '/tmp' && !isUnder(d, [...systemDirs, ...bound]); d = dirname(d)) made.add(d);
    }
    for (const d of [...made].sort((a, b) => a.length - b.length)) bw.push('--perms', '0755', '--dir', d);
    try {
      for (const b of binds) {
        const fd = openSync(b.path, 'r');
        opened.push(fd);
        const at = stdio.push(fd) - 1;
        bw.push(b.writable ? '--bind-fd' : '--ro-bind-fd', String(at), b.path);
      }
    } catch (e) {
      for (const fd of opened) closeSync(fd);
      throw new SandboxError(`cannot bind into the sandbox: ${(e as Error).message}`);
    }
    bw.push('--chdir', spec.cwd);
    let child: ChildProcess;
    try {
      const gate = outside
        ? ['/bin/sh', '-c', `printf 1 >&${readyFd}; exec ${readyFd}>&-; read -r go <&${goFd}; exec ${goFd}<&-; [ "$go" = 1 ] || exit 125; exec "$@"`, 'sandbox']
        : [];
      child = spawn(tools.bwrap, [...bw, ...dropRoot(tools), ...gate, command, ...args], {
        cwd: '/',
        env: spec.env,
        stdio: stdio as StdioOptions,
        detached: opts.detached ?? true,
        ...(opts.serialization ? { serialization: opts.serialization } : {}),
      });
    } finally {
      for (const fd of opened) closeSync(fd);
    }
    if (resolvFd >= 0) (child.stdio[resolvFd] as Writable).end('nameserver 10.0.2.3\n');
    if (outside) void connectOutside(child, infoFd, readyFd, goFd);
    return child;
  };

  // Once the sandbox is set up (and waits at its gate), slirp4netns gives its network
  // namespace a tap device routed to the outside, then the gate opens. slirp exits when its exit fd closes (the sandbox ended, or
  // shiplog died).
  const connectOutside = async (child: ChildProcess, infoFd: number, readyFd: number, goFd: number) => {
    let slirp: ChildProcess | undefined;
    const stopSlirp = () => {
      if (slirp && slirp.exitCode === null && slirp.signalCode === null) slirp.kill('SIGKILL');
    };
    child.once('exit', stopSlirp);
    try {
      const info = await readJson(child.stdio[infoFd] as Readable, 'bwrap --info-fd');
      const pid = Number(info['child-pid']);
      if (!Number.isInteger(pid) || pid <= 0) throw new SandboxError(`bwrap gave no child pid: ${JSON.stringify(info)}`);
      await readReady(child.stdio[readyFd] as Readable, 'the sandbox exited during its set-up');
      let stderr = '';
      slirp = spawn(
        tools.slirp,
        ['--configure', '--mtu=65520', '--disable-host-loopback', '--exit-fd', '3', '--ready-fd', '4', ...(isRoot() ? [] : ['--userns-path', `/proc/${pid}/ns/user`]), String(pid), 'tap0'],
        { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
      );
      slirp.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-500)));
      const started = new Promise<never>((_, reject) => slirp!.once('error', (e) => reject(new SandboxError(`slirp4netns could not start: ${e.message}`))));
      await Promise.race([readReady(slirp.stdio[4] as Readable, 'slirp4netns exited before its network was ready'), started]).catch((e: Error) => {
        throw new SandboxError(`${e.message}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
      });
      slirp.stdio[4]?.destroy();
      // (resumed, so its end is read and the child's `close` comes when it exits)
      (child.stdio[goFd] as Duplex).end('1\n').resume();
    } catch (e) {
      stopSlirp();
      if (child.exitCode === null && child.signalCode === null) {
        child.emit('error', e instanceof SandboxError ? e : new SandboxError(`sandbox network: ${(e as Error).message}`));
        child.kill('SIGKILL');
      }
    }
  };

  return {
    kind: 'bwrap',
    spawn: spawnSandboxed,
    own: async (dir) => {
      if (isRoot()) await chown(dir, sandboxUid, sandboxUid);
    },
  };
};

/**
 * No sandbox at all (`shiplog dev --unsafe-no-sandbox`): the command runs as shiplog's own user
 * and sees everything shiplog sees. For hosts without user namespaces, on the operator's word.
 *
 * @example
 * const sandbox = process.env.SHIPLOG_UNSAFE_NO_SANDBOX === '1' ? unsandboxed() : bwrapSandbox();
 */
export const unsandboxed = (): Sandbox => ({
  kind: 'none',
  spawn: (command, args, spec, opts = {}) =>
    spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? (['ipc'] as const) : [])],
      detached: opts.detached ?? true,
      ...(opts.serialization ? { serialization: opts.serialization } : {}),
    }),
  own: async () => undefined,
});

let probed: string | undefined | null = null;
/**
 * Why this host cannot run the bubblewrap sandbox (a missing tool, user namespaces turned off),
 * or `undefined` when it can. Probed once per process, by running `true` in a sandbox.
 *
 * @example
 * const why = sandboxUnavailable(); // 'slirp4netns not found (Debian package slirp4netns)' | undefined
 */
export const sandboxUnavailable = (): string | undefined => {
  if (probed !== null) return probed;
  const tools = findTools();
  if (typeof tools === 'string') return (probed = tools);
  const argv = [...namespaces(), '--die-with-parent', ...systemArgs(), '--dev', '/dev', '--proc', '/proc', ...dropRoot(tools), 'id', '-u'];
  const r = spawnSync(tools.bwrap, argv, { stdio: 'pipe', encoding: 'utf8', timeout: 10_000, cwd: '/' });
  probed =
    r.error ? `bwrap could not run: ${r.error.message}`
      : r.status !== 0 ? `bwrap cannot make namespaces here (user namespaces off?): ${(r.stderr || '').trim().split('\n').pop() ?? ''}`
        : isRoot() && r.stdout.trim() !== String(sandboxUid) ? `the sandbox did not drop root (uid ${r.stdout.trim()})`
          : undefined;
  return probed;
};

/**
 * The sandbox of this process: bubblewrap, or none when `SHIPLOG_UNSAFE_NO_SANDBOX=1` (what
 * `shiplog dev --unsafe-no-sandbox` sets). Throws {@link SandboxError} naming what is missing.
 *
 * @example
 * const sandbox = sandboxFromEnv(process.env);
 */
export const sandboxFromEnv = (env: NodeJS.ProcessEnv = process.env): Sandbox => {
  if (env.SHIPLOG_UNSAFE_NO_SANDBOX === '1') return unsandboxed();
  const why = sandboxUnavailable();
  if (why) throw new SandboxError(`cannot sandbox builds and apps: ${why}; install it, or run with --unsafe-no-sandbox (user code then runs as shiplog's own user)`);
  return bwrapSandbox();
};
