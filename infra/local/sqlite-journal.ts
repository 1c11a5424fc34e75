import { closeSync, existsSync, fsyncSync, openSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The SQLite file DynamoDB Local keeps every table in, with `-sharedDb`. */
export const sharedDbFile = (dataDir: string): string => join(dataDir, 'shared-local-instance.db');

const MAGIC = 'SQLite format 3\0';
const PAGE_SIZE = 4096;
// Offsets of the database header (https://www.sqlite.org/fileformat2.html#the_database_header):
// the file format write and read versions are 1 for a rollback journal, 2 for write-ahead logging.
const WRITE_VERSION = 18;
const READ_VERSION = 19;

/**
 * An empty SQLite database of one page, in write-ahead-log mode or with a rollback journal (what
 * SQLite writes for a database with no table yet): the header, then page 1 as an empty table
 * b-tree leaf (the schema table, no rows).
 *
 * @example
 * writeFileSync(sharedDbFile(dir), emptyDatabase('wal'));
 */
export const emptyDatabase = (journal: 'wal' | 'rollback'): Buffer => {
  const page = Buffer.alloc(PAGE_SIZE);
  page.write(MAGIC, 0, 'latin1');
  page.writeUInt16BE(PAGE_SIZE, 16);
  page[WRITE_VERSION] = page[READ_VERSION] = journal === 'wal' ? 2 : 1;
  page[20] = 0; // reserved bytes at the end of each page
  page[21] = 64; // payload fractions: fixed by the format
  page[22] = 32;
  page[23] = 32;
  page.writeUInt32BE(1, 24); // file change counter
  page.writeUInt32BE(1, 28); // size in pages (valid: the change counter equals offset 92's)
  page.writeUInt32BE(4, 44); // schema format 4
  page.writeUInt32BE(1, 56); // text encoding UTF-8
  page.writeUInt32BE(1, 92); // version-valid-for: the change counter
  page.writeUInt32BE(3_046_000, 96); // the SQLite version that wrote it
  page[100] = 0x0d; // page 1: a table b-tree leaf, no cells, its content area starting at the page's end
  page.writeUInt16BE(PAGE_SIZE, 105);
  return page;
};

/** What {@link useWriteAheadLog} did to a data directory's database. */
export type JournalChange = 'created' | 'switched' | 'already' | { left: string };

/**
 * Puts DynamoDB Local's on-disk database in SQLite's write-ahead-log mode before the JVM opens it
 * (DynamoDB Local sets no journal mode, and SQLite keeps WAL mode in the file's header). A commit
 * then writes and syncs the log once, where a rollback journal is written, synced, and deleted
 * around each write of the database, and is as durable (on this machine a plain `PutItem` was about
 * 2.5 ms quicker; an event append's transaction gained less than its run-to-run spread).
 * This is exactly the header change `PRAGMA journal_mode=WAL` makes, done while no process has
 * the file open (the data dir's own JVM is stopped before this runs):
 * - no database yet (or an empty file): an empty one in WAL mode is written;
 * - a database with a rollback journal: its two version bytes become 2, unless a journal is beside
 *   it (a write cut short that SQLite must roll back first: it is left, and switched next start);
 * - anything that is not a SQLite database is left for DynamoDB Local to refuse.
 *
 * @example
 * useWriteAheadLog('.shiplog/dynamodb'); // 'created' on a new data dir, then 'already'
 */
export const useWriteAheadLog = (dataDir: string): JournalChange => {
  const file = sharedDbFile(dataDir);
  if (!existsSync(file) || statSync(file).size === 0) {
    writeFileSync(file, emptyDatabase('wal'));
    return 'created';
  }
  const fd = openSync(file, 'r+');
  try {
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) < 100 || header.toString('latin1', 0, 16) !== MAGIC) return { left: 'not a SQLite database' };
    if (header[WRITE_VERSION] === 2 && header[READ_VERSION] === 2) return 'already';
    if (header[WRITE_VERSION] !== 1 || header[READ_VERSION] !== 1) return { left: `file format versions ${header[WRITE_VERSION]}/${header[READ_VERSION]}` };
    if (existsSync(`${file}-journal`)) return { left: 'a rollback journal is beside it' };
    writeSync(fd, Buffer.from([2, 2]), 0, 2, WRITE_VERSION);
    fsyncSync(fd);
    return 'switched';
  } finally {
    closeSync(fd);
  }
};
