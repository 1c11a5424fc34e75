import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDynamoLocal } from '../../infra/local/dynamodb-local.ts';
import type { BenchRow, BenchSuite } from './lib.ts';
import { suites } from './suites/index.ts';

// `npm run bench [-- name-filter]`: every suite once, each on a DynamoDB Local of its own (in
// memory): what one suite leaves behind (the projections suite's 100,000-event store) must not
// slow the next one down (the release-history suite took over 13 minutes after it, 40 s alone).
const filter = process.argv[2];
const chosen = Object.entries(suites).filter(([name]) => !filter || name.includes(filter)) as [string, BenchSuite][];

const rows: BenchRow[] = [];
// A suite that fails is named at the end (and the run exits 1); the others' rows are still written.
const failed: string[] = [];
for (const [name, suite] of chosen) {
  process.stderr.write(`bench: ${name}\n`);
  const db = await startDynamoLocal({ inMemory: true });
  try {
    rows.push(...(await suite({ dynamoEndpoint: db.endpoint })));
  } catch (e) {
    failed.push(name);
    process.stderr.write(`bench: ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  } finally {
    await db.stop();
  }
}

const fmt = (n: number | null) => (n === null ? '' : String(n));
const header = ['name', 'unit', 'p50', 'p99', 'value', 'baseline', 'ratio'];
const table = [header, ...rows.map((r) => [r.name, r.unit, fmt(r.p50), fmt(r.p99), fmt(r.value), fmt(r.baseline), fmt(r.ratio)])];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
for (const row of table) process.stdout.write(`${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`);

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
// A filtered run updates its own rows and keeps the others' from the last full run.
const previous: BenchRow[] = filter && existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as BenchRow[]) : [];
const names = new Set(rows.map((r) => r.name));
writeFileSync(out, `${JSON.stringify([...previous.filter((r) => !names.has(r.name)), ...rows], null, 2)}\n`);
process.stdout.write(`\nwritten to ${out}\n`);
if (failed.length > 0) {
  process.stderr.write(`bench: ${failed.length} suite(s) failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
