import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

/**
 * How a child process ended. `spawnError` is set when it never started (missing binary, bad cwd).
 *
 * @example
 * const r: ProcessResult = { exitCode: 1, signal: null };
 */
export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
}

/**
 * Options of {@link runProcess}. Aborting `signal` kills the whole process group: SIGTERM,
 * then SIGKILL after `killGraceMs`.
 *
 * @example
 * const ctl = new AbortController();
 * await runProcess('sh', ['-c', 'npm ci'], { cwd, env, signal: ctl.signal, onLine: console.log });
 */
export interface RunProcessOptions {
  cwd: string;
  env: Record<string, string>;
  signal: AbortSignal;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  killGraceMs?: number;
  /** Called once the command runs, with its pid (= its process group id). */
  onSpawn?: (pid: number) => void;
  /** Starts the child (a sandbox's `spawn`, detached); a plain `child_process.spawn` in its own process group by default. */
  spawn?: (command: string, args: string[], opts: { cwd: string; env: Record<string, string> }) => ChildProcess;
}

/** Longest line passed on; longer ones are cut (BuildFailed log lines hold at most 1000 chars). */
const maxLineLength = 1000;

/**
 * Splits a byte stream into lines (`\n`, `\r\n` and lone `\r` progress updates), UTF-8 safe.
 *
 * @example
 * const split = lineSplitter((l) => lines.push(l));
 * split.write(Buffer.from('a\nb')); split.end(); // lines = ['a', 'b']
 */
export const lineSplitter = (onLine: (line: string) => void) => {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const emit = (line: string) => {
    if (line.length > 0) onLine(line.length > maxLineLength ? `${line.slice(0, maxLineLength - 1)}…` : line);
  };
  return {
    write(chunk: Buffer): void {
      const parts = (rest + decoder.write(chunk)).split(/\r?\n|\r/);
      rest = parts.pop() ?? '';
      for (const p of parts) emit(p);
    },
    end(): void {
      emit(rest + decoder.end());
      rest = '';
    },
  };
};

/**
 * Signals a whole process group (`pid` is its leader's, as {@link runProcess} starts it); a group
 * already gone is no error.
 *
 * @example
 * killGroup(pgid, 'SIGKILL');
 */
export const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
};

/**
 * Runs a command in its own process group (so `sh -c 'npm ci'` and every grandchild die
 * together) and resolves when it has exited and its output is drained. Never rejects.
 *
 * @example
 * const r = await runProcess('git', ['fetch', '--depth', '1', repo, sha], opts);
 * if (r.exitCode !== 0) fail('checkout-failed');
 */
export const runProcess = (command: string, args: string[], opts: RunProcessOptions): Promise<ProcessResult> =>
  new Promise((resolve) => {
    if (opts.signal.aborted) return resolve({ exitCode: null, signal: null });
    const child = opts.spawn
      ? opts.spawn(command, args, { cwd: opts.cwd, env: opts.env })
      : spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const out = lineSplitter((l) => opts.onLine(l, 'stdout'));
    const err = lineSplitter((l) => opts.onLine(l, 'stderr'));
    child.stdout!.on('data', (c: Buffer) => out.write(c));
    child.stderr!.on('data', (c: Buffer) => err.write(c));
    let hardKill: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      hardKill = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), opts.killGraceMs ?? 3000);
      hardKill.unref();
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (exitCode, signal) => {
      opts.signal.removeEventListener('abort', onAbort);
      if (hardKill) clearTimeout(hardKill);
      // Grandchildren may outlive a shell that exited on SIGTERM; make sure none linger.
      if (opts.signal.aborted && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      out.end();
      err.end();
      resolve(spawnError ? { exitCode: null, signal: null, spawnError } : { exitCode, signal });
    });
  });
