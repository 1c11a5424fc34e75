import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a running `shiplog dev` tells other commands through its data dir: the CLI finds the
 * local instance there, with no login step.
 *
 * @example
 * const rt = readRuntimeFile(localConfig().dataDir); // undefined when nothing runs
 */
export interface RuntimeFile {
  pid: number;
  startedAt: string;
  dynamoEndpoint: string;
  apiUrl: string | null;
  sitesUrl: string | null;
  tables: Record<string, string>;
}

const fileOf = (dataDir: string) => join(dataDir, 'runtime.json');

export const writeRuntimeFile = (dataDir: string, rt: RuntimeFile): void => {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(fileOf(dataDir), `${JSON.stringify(rt, null, 2)}\n`);
};

export const removeRuntimeFile = (dataDir: string): void => rmSync(fileOf(dataDir), { force: true });

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export const readRuntimeFile = (dataDir: string): RuntimeFile | undefined => {
  try {
    const rt = JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as RuntimeFile;
    return isAlive(rt.pid) ? rt : undefined;
  } catch {
    return undefined;
  }
};
