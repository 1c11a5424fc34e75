/**
 * The Node check of a build, as one Node script (ES module, no dependencies) that both runners
 * run in the checkout with the `node` that will build: the local runner before its install, the
 * CodeBuild buildspec in its install phase. It reads what the app asks for (`engines.node` of the
 * app's package.json, else the nearest `.nvmrc`/`.node-version` from the app up to the
 * repository root, else the project's Node.js setting from `SHIPLOG_PROJECT_NODE_VERSION`, e.g.
 * `22.x`) and compares it with its own version.
 *
 * `node node-check.mjs report <appDir> <repoRoot>` prints one line for the build log: the
 * version and what it satisfies, or a `warning:` line naming what was asked and what builds.
 * `switch` prints shell instead: when this Node does not satisfy the request and `n` (CodeBuild's
 * Node version manager) has an installed version that does, `n <version>` and a line saying so;
 * else the same `echo` of the report. Ranges: `x`-ranges, `^`, `~`, comparators, hyphens, `||`;
 * `.nvmrc` means its major (`lts/<codename>` as that line's major, `lts/*` and `node`: any).
 *
 * @example
 * execFileSync('node', [scriptFile, 'report', appDir, src], { encoding: 'utf8' }); // 'node: v20.20.2 (engines.node ">=18.17" in package.json)\n'
 */
export const nodeCheckScript = `import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
const [mode, appArg, rootArg] = process.argv.slice(-3);
const appDir = resolve(appArg), repoRoot = resolve(rootArg);
const read = (p) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } };
const lts = { hydrogen: 18, iron: 20, jod: 22, krypton: 24 };
let range, source;
try {
  const engines = JSON.parse(read(join(appDir, 'package.json')) ?? '{}').engines;
  if (engines && typeof engines.node === 'string' && engines.node.trim()) [range, source] = [engines.node.trim(), 'engines.node in package.json'];
} catch {}
for (let d = appDir; !range; d = dirname(d)) {
  for (const f of ['.nvmrc', '.node-version']) {
    const raw = (read(join(d, f)) ?? '').trim().split(/\\s+/)[0];
    if (range || !raw) continue;
    const name = relative(repoRoot, join(d, f));
    const major = /^v?(\\d+)/.exec(raw)?.[1] ?? lts[raw.toLowerCase().replace(/^lts\\//, '')];
    [range, source] = [major ? major + '.x' : '*', name + ' (' + JSON.stringify(raw) + ')'];
  }
  const rel = relative(repoRoot, d);
  if (range || rel === '' || rel.startsWith('..') || d === dirname(d)) break;
}
const setting = (process.env.SHIPLOG_PROJECT_NODE_VERSION ?? '').trim();
if (!range && /^\\d+(\\.x)?$/.test(setting)) [range, source] = [setting, "the project's Node.js setting"];
const parse = (v) => v.replace(/^v/, '').split('.').map(Number);
const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
const satisfies = (version, spec) => {
  const v = parse(version);
  return spec.split('||').some((alt) => {
    const text = alt.trim().replace(/^(\\S+)\\s+-\\s+(\\S+)$/, '>=$1 <=$2');
    const parts = [...text.matchAll(/(<=|>=|<|>|=|\\^|~)?\\s*v?(\\d+|[xX*])(?:\\.(\\d+|[xX*]))?(?:\\.(\\d+|[xX*]))?/g)];
    if (parts.length === 0) return text === '' || text === '*';
    return parts.every(([, op = '', a, b, c]) => {
      const num = (s) => (s === undefined || /[xX*]/.test(s) ? undefined : Number(s));
      const [M, m, p] = [num(a), num(b), num(c)];
      if (M === undefined) return true;
      const low = [M, m ?? 0, p ?? 0];
      const next = m === undefined ? [M + 1, 0, 0] : p === undefined ? [M, m + 1, 0] : [M, m, p + 1];
      if (op === '' || op === '=') return cmp(v, low) >= 0 && cmp(v, next) < 0;
      if (op === '^') return cmp(v, low) >= 0 && cmp(v, M > 0 || m === undefined ? [M + 1, 0, 0] : [0, m + 1, 0]) < 0;
      if (op === '~') return cmp(v, low) >= 0 && cmp(v, m === undefined ? [M + 1, 0, 0] : [M, m + 1, 0]) < 0;
      if (op === '>=') return cmp(v, low) >= 0;
      if (op === '>') return cmp(v, next) >= 0;
      if (op === '<') return cmp(v, low) < 0;
      return cmp(v, next) < 0;
    });
  });
};
const here = process.version;
const q = (s) => "'" + s.replace(/'/g, "'\\\\''") + "'";
let line, shell = '';
if (!range) line = 'node: ' + here + ' (the app asks for no version: no engines.node, .nvmrc or .node-version, no project setting)';
else if (satisfies(here, range)) line = 'node: ' + here + ' (' + JSON.stringify(range) + ' from ' + source + ')';
else {
  let installed = [];
  if (mode === 'switch') {
    try { installed = execFileSync('n', ['ls'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\\n').map((l) => /(\\d+\\.\\d+\\.\\d+)/.exec(l)?.[1]).filter(Boolean); } catch {}
  }
  const pick = installed.filter((v) => satisfies(v, range)).sort((a, b) => cmp(parse(b), parse(a)))[0];
  line = 'warning: node: the app asks for ' + JSON.stringify(range) + ' (' + source + ') but this runner has no such Node; building with ' + here;
  if (pick) shell = 'if n ' + pick + ' >/dev/null 2>&1; then hash -r; echo ' + q('node: switched to v' + pick + ' for ' + JSON.stringify(range) + ' from ' + source) + '; else echo ' + q(line) + '; fi';
}
if (mode === 'switch') process.stdout.write((shell || 'echo ' + q(line)) + '\\n');
else process.stdout.write(line + '\\n');
`;
