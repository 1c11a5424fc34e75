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

/** Another live process runs shiplog on this data dir. */
export class DataDirBusyError extends Error {
  override readonly name = 'DataDirBusyError';
}

// Whether `pid` is alive and may be a shiplog: where /proc shows its command line, a Node process
// (a pid a crashed shiplog left in its lock may name anything by now).
const mayBeShiplog = (pid: number): boolean => {
  if (!isAlive(pid)) return false;
  try {
    return /node|shiplog|tsx/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
};

/**
 * Takes the data dir for this process before anything of it starts (its DynamoDB Local above
 * all: a start kills a DynamoDB Local of the data dir that a crashed run left, so a second
 * `shiplog dev` on a running one killed that one's database). A lock file holds the pid; a
 * lock of a process that is gone (or is no Node process) is taken over. Returns the release,
 * which removes the lock only while it is still this process's.
 *
 * @example
 * const release = holdDataDir(cfg.dataDir); // throws DataDirBusyError while another shiplog runs there
 */
export const holdDataDir = (dataDir: string): (() => void) => {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'shiplog.lock');
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === mine) rmSync(file, { force: true });
        } catch {
          // gone already
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // released meanwhile
    }
    if (holder > 0 && holder !== process.pid && mayBeShiplog(holder)) {
      const rt = readRuntimeFile(dataDir);
      throw new DataDirBusyError(`shiplog already runs on ${dataDir} (pid ${holder}${rt?.apiUrl ? `, ${rt.apiUrl}` : ''}): stop it first, or give this one another SHIPLOG_DATA_DIR (if pid ${holder} is not shiplog, remove ${file})`);
    }
    rmSync(file, { force: true });
  }
  throw new DataDirBusyError(`could not take ${file}: another process keeps writing it`);
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
