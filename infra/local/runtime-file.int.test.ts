import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirBusyError, holdDataDir } from './runtime-file.ts';

// Another process that holds a data dir as `shiplog dev` does, until it is killed.
const holder = async (dataDir: string) => {
  const script = `const { holdDataDir } = await import(${JSON.stringify(new URL('./runtime-file.ts', import.meta.url).pathname)});
    holdDataDir(${JSON.stringify(dataDir)}); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
};

describe('holdDataDir', () => {
  it('refuses a data dir another live shiplog holds, saying which, and takes it once that one is gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-hold-'));
    const other = await holder(dataDir);
    try {
      expect(() => holdDataDir(dataDir)).toThrow(DataDirBusyError);
      expect(() => holdDataDir(dataDir)).toThrow(new RegExp(`shiplog already runs on ${dataDir} \\(pid ${other.pid}\\)`));
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // Killed: its lock is left behind, and taken over.
    expect(readFileSync(join(dataDir, 'shiplog.lock'), 'utf8')).toBe(String(other.pid));
    const release = holdDataDir(dataDir);
    expect(readFileSync(join(dataDir, 'shiplog.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(join(dataDir, 'shiplog.lock'))).toBe(false);
  });

  it('takes a lock whose pid names no Node process, and releases only its own', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-hold-'));
    // A pid that is alive but not a Node process: this test's own `sleep`.
    const sleep = spawnSync('sh', ['-c', 'sleep 5 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    writeFileSync(join(dataDir, 'shiplog.lock'), sleep.stdout.trim());
    const release = holdDataDir(dataDir);
    // Another holder wrote the lock meanwhile (it was taken from this process): releasing leaves it.
    writeFileSync(join(dataDir, 'shiplog.lock'), '1');
    release();
    expect(readFileSync(join(dataDir, 'shiplog.lock'), 'utf8')).toBe('1');
  });
});
