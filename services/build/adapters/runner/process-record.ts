import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildPhase } from './build-env.ts';

/**
 * What a build's work dir says about its current command: the phase and the process group it
 * runs in, the groups started ahead of their phase, with the boot it was recorded in (a group id
 * means nothing after a reboot). Kept at `<workRoot>/<deploymentId>/process.json`.
 *
 * @example
 * const r: ProcessRecord = { phase: 'build', pgid: 4242, ahead: [4240], bootId: '513c…' };
 */
export interface ProcessRecord {
  phase: BuildPhase;
  /** The group of the running command; null between commands. */
  pgid: number | null;
  /** Groups of commands started ahead of their phase (OpenNext's packager, waiting while next build runs). */
  ahead?: number[];
  bootId: string;
}

const recordFile = (dir: string) => join(dir, 'process.json');

const bootId = (): string => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
};

/**
 * Records a build's phase and process group in its work dir (atomically: write, then rename).
 *
 * @example
 * recordProcess('/data/builds/work/01JD…', { phase: 'install', pgid: child.pid! });
 */
export const recordProcess = (dir: string, r: Omit<ProcessRecord, 'bootId'>): void => {
  const tmp = `${recordFile(dir)}.new`;
  writeFileSync(tmp, JSON.stringify({ ...r, bootId: bootId() }));
  renameSync(tmp, recordFile(dir));
};

/**
 * The record of a build's work dir, if any.
 *
 * @example
 * readProcessRecord('/data/builds/work/01JD…')?.phase; // 'build'
 */
export const readProcessRecord = (dir: string): ProcessRecord | undefined => {
  try {
    return JSON.parse(readFileSync(recordFile(dir), 'utf8')) as ProcessRecord;
  } catch {
    return undefined;
  }
};

/**
 * How a phase reads in a message ("interrupted: shiplog restarted during next build").
 *
 * @example
 * phaseLabel('package'); // 'OpenNext packaging'
 */
export const phaseLabel = (phase: BuildPhase | undefined): string =>
  phase === 'build' ? 'next build' : phase === 'package' ? 'OpenNext packaging' : phase === undefined ? 'the queue' : phase;

/**
 * The live (not zombie) processes of a process group, from /proc.
 *
 * @example
 * groupMembers(4242); // [4242, 4250, 4251]
 */
export const groupMembers = (pgid: number): number[] => {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return members;
};

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kills every process group a build's work dir records (SIGKILL): its command's and those started
 * ahead; then waits until none of their processes is left, so a resumed build never shares its
 * folder with an orphan of the last run. A record from another boot is ignored: its group ids may
 * name anything now.
 *
 * @example
 * await killRecordedGroup('/data/builds/work/01JD…'); // 3 (processes killed)
 */
export const killRecordedGroup = async (dir: string, waitMs = 10_000): Promise<number> => {
  const r = readProcessRecord(dir);
  if (!r || r.bootId !== bootId()) return 0;
  const groups = [r.pgid, ...(Array.isArray(r.ahead) ? r.ahead : [])].filter((g): g is number => typeof g === 'number' && Number.isInteger(g) && g > 1 && g !== process.pid);
  const members = groups.flatMap((g) => groupMembers(g));
  if (members.length === 0) return 0;
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const deadline = Date.now() + waitMs; groups.some((g) => groupMembers(g).length > 0) && Date.now() < deadline; ) await pause(50);
  return members.length;
};

/**
 * At start: kills every build process group a previous run left behind (`kill -9` of shiplog
 * does not reach them, each build command runs in a group of its own).
 *
 * @example
 * const killed = await killOrphanedBuilds('/data/builds/work');
 */
export const killOrphanedBuilds = async (workRoot: string): Promise<number> => {
  if (!existsSync(workRoot)) return 0;
  let killed = 0;
  for (const ent of readdirSync(workRoot, { withFileTypes: true })) {
    if (ent.isDirectory()) killed += await killRecordedGroup(join(workRoot, ent.name));
  }
  return killed;
};
