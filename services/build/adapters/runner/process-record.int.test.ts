import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupMembers, killRecordedGroup, readProcessRecord, recordProcess } from './process-record.ts';

// A build's process record after shiplog was killed: real process groups, nobody else to end them.
const started: ChildProcess[] = [];
const group = () => {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  started.push(child);
  return child.pid!;
};
const dirs: string[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const workDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shiplog-record-'));
  dirs.push(d);
  return d;
};

describe('killRecordedGroup', () => {
  it('kills the group of the phase\'s command and every group started ahead of its phase', async () => {
    const dir = workDir();
    const [build, packager, other] = [group(), group(), group()];
    recordProcess(dir, { phase: 'build', pgid: build, ahead: [packager] });
    expect(readProcessRecord(dir)).toMatchObject({ phase: 'build', pgid: build, ahead: [packager] });
    expect(await killRecordedGroup(dir)).toBe(2);
    expect(groupMembers(build)).toEqual([]);
    expect(groupMembers(packager)).toEqual([]);
    // A group the record does not name is left alone.
    expect(groupMembers(other)).toEqual([other]);
  });

  it('kills the groups started ahead between commands too (no command running), and a record without them as before', async () => {
    const between = workDir();
    const packager = group();
    recordProcess(between, { phase: 'install', pgid: null, ahead: [packager] });
    expect(await killRecordedGroup(between)).toBe(1);
    expect(groupMembers(packager)).toEqual([]);

    const plain = workDir();
    const install = group();
    recordProcess(plain, { phase: 'install', pgid: install });
    expect(await killRecordedGroup(plain)).toBe(1);
    expect(groupMembers(install)).toEqual([]);
  });
});
