import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeRuntimeFile } from '../../infra/local/runtime-file.ts';

/**
 * Test helper: makes the CLI believe a shiplog instance runs here, on the test's DynamoDB Local
 * and tables (a runtime file with this process's pid in a fresh data dir). Only for tests.
 *
 * @example
 * const rt = fakeRuntime({ dynamoEndpoint, tables: { events, views } });
 * await run(replayCommand(), ['deployment', 'd1', '--json']);
 * rt.remove();
 */
export const fakeRuntime = (rt: { dynamoEndpoint: string; tables: Record<string, string>; apiUrl?: string | null }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-cli-'));
  writeRuntimeFile(dataDir, {
    pid: process.pid, startedAt: new Date().toISOString(), dynamoEndpoint: rt.dynamoEndpoint,
    apiUrl: rt.apiUrl ?? 'http://127.0.0.1:9', sitesUrl: 'http://localhost:3001', tables: rt.tables,
  });
  // The admin token the CLI sends, as `shiplog dev` leaves it in its data dir.
  const adminToken = `shp_${randomBytes(32).toString('base64url')}`;
  writeFileSync(join(dataDir, 'admin-token'), `${adminToken}\n`, { mode: 0o600 });
  return {
    dataDir,
    adminToken,
    /** Points the CLI (SHIPLOG_DATA_DIR) at this instance for the duration of `fn`. */
    use: async <T>(fn: () => Promise<T>): Promise<T> => {
      const before = process.env.SHIPLOG_DATA_DIR;
      process.env.SHIPLOG_DATA_DIR = dataDir;
      try {
        return await fn();
      } finally {
        if (before === undefined) delete process.env.SHIPLOG_DATA_DIR;
        else process.env.SHIPLOG_DATA_DIR = before;
      }
    },
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  };
};

/**
 * Test helper: runs a command with arguments and returns what it printed on stdout; rejects
 * with the command's error.
 *
 * @example
 * const out = await runCommand(diffCommand(), ['d1', 'd2', '--json']);
 */
export const runCommand = async (cmd: Command, args: string[]): Promise<string> => {
  const quiet = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(cmd);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await cmd.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
};
