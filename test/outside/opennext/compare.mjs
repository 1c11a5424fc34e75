// Side by side: per Playwright project, tests passed on `next start` vs on shiplog, and every
// test that passes on next start but not on shiplog, with the first line of its last error.
// usage: node compare.mjs next-start.json shiplog.json
import { readFileSync } from 'node:fs';

const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const load = (file) => {
  const rows = new Map();
  const walk = (suite, titles) => {
    for (const s of suite.suites ?? []) walk(s, [...titles, s.title]);
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests) {
        const last = t.results.at(-1);
        const error = (last?.error?.message ?? '').replace(ansi, '').split('\n').filter(Boolean).slice(0, 3).join(' | ');
        rows.set(`${t.projectName} › ${[...titles, spec.title].filter(Boolean).join(' › ')}`,
          { project: t.projectName, ok: t.status === 'expected' || t.status === 'flaky', status: t.status, error });
      }
    }
  };
  for (const s of JSON.parse(readFileSync(file, 'utf8')).suites) walk(s, [s.title]);
  return rows;
};
const [ref, ours] = process.argv.slice(2).map(load);
const projects = [...new Set([...ref.values()].map((r) => r.project))];
console.log('| project | tests | next start: passed (skipped) | shiplog: passed (skipped) |\n| --- | --- | --- | --- |');
for (const p of projects) {
  const names = [...ref.keys()].filter((k) => ref.get(k).project === p);
  const count = (rows) => `${names.filter((n) => rows.get(n)?.ok).length} (${names.filter((n) => rows.get(n)?.status === 'skipped').length})`;
  console.log(`| ${p} | ${names.length} | ${count(ref)} | ${count(ours)} |`);
}
console.log('\nPasses (or is skipped) on next start, fails on shiplog:');
for (const [name, r] of ref) if ((r.ok || r.status === 'skipped') && !ours.get(name)?.ok && ours.get(name)?.status !== 'skipped') console.log(`- ${name}${r.ok ? '' : ' (skipped on next start)'}\n    ${ours.get(name)?.status}: ${ours.get(name)?.error}`);
console.log('\nFails on next start, passes on shiplog:');
for (const [name, r] of ref) if (!r.ok && ours.get(name)?.ok) console.log(`- ${name}`);
