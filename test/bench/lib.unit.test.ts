import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { treeCpuSeconds } from './lib.ts';

describe('treeCpuSeconds', () => {
  it('counts the CPU of the processes under the one named', async () => {
    // A shell whose child burns ~400 ms of CPU, then says so and waits to be killed.
    const burn = "const end = Date.now() + 400; while (Date.now() < end); console.log('done'); setInterval(() => {}, 1000);";
    const parent = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e ${JSON.stringify(burn)}; sleep 60`], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    try {
      await once(parent.stdout!, 'data');
      // The shell itself used next to nothing: what is counted is its child's.
      expect(treeCpuSeconds(parent.pid!)).toBeGreaterThanOrEqual(0.3);
    } finally {
      process.kill(-parent.pid!, 'SIGKILL'); // the shell's process group: its child too
    }
  });

  it('refuses a process that does not exist', () => {
    expect(() => treeCpuSeconds(2 ** 22 + 7)).toThrow(/no process/);
  });
});
