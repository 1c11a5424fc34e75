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

/**
 * What a running shiplog prints once it serves (`npm start` and `npm run start:aws-box`): where
 * its data is, its API, sites and event store, any `extra` lines, and how to begin.
 *
 * @example
 * process.stdout.write(runningBanner({ dataDir, apiUrl, sitesPort: 3001, dynamoEndpoint }));
 */
export const runningBanner = (rt: { dataDir: string; apiUrl: string; sitesPort: number; dynamoEndpoint: string; extra?: string[] }): string =>
  [
    `shiplog is running (data in ${rt.dataDir})`,
    `  API, webhooks, git   ${rt.apiUrl}`,
    `  sites                http://<project>.localhost:${rt.sitesPort}`,
    `  event store          DynamoDB Local at ${rt.dynamoEndpoint}`,
    ...(rt.extra ?? []),
    'Create a project:      npx shiplog projects create <name>',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
