import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCheckScript } from './node-version.ts';

const here = process.version;
const major = Number(here.slice(1).split('.')[0]);

/** A checkout with an app in `apps/web`; `files` are written relative to the repository root. */
const checkout = (files: Record<string, string>) => {
  const root = mkdtempSync(join(tmpdir(), 'node-check-'));
  mkdirSync(join(root, 'apps', 'web'), { recursive: true });
  writeFileSync(join(root, 'apps', 'web', 'package.json'), '{}');
  for (const [f, text] of Object.entries(files)) writeFileSync(join(root, f), text);
  return { root, app: join(root, 'apps', 'web') };
};
const check = (mode: 'report' | 'switch', files: Record<string, string>, env: NodeJS.ProcessEnv = process.env) => {
  const { root, app } = checkout(files);
  return execFileSync(process.execPath, ['--input-type=module', '-e', nodeCheckScript, '--', mode, app, root], { encoding: 'utf8', env }).trim();
};
const engines = (node: string) => ({ 'apps/web/package.json': JSON.stringify({ engines: { node } }) });

describe('nodeCheckScript', () => {
  it.each([
    ['>=18.17', true], [`${major}.x`, true], [`^${major}.0.0`, true], [`~${major}`, true], [`${major}`, true],
    [`${major - 2} - ${major}`, true], [`<${major}`, false], [`>${major}`, false], [`${major + 2}.x || ${major}.x`, true],
    [`${major + 2}.x`, false], [`>=${major}.0.0 <${major}.0.1`, false], ['*', true],
  ])('engines.node %s: satisfied by this Node = %s', (range, ok) => {
    const line = check('report', engines(range));
    if (ok) expect(line).toBe(`node: ${here} (${JSON.stringify(range)} from engines.node in package.json)`);
    else expect(line).toBe(`warning: node: the app asks for ${JSON.stringify(range)} (engines.node in package.json) but this runner has no such Node; building with ${here}`);
  });

  it('reads the nearest .nvmrc or .node-version up to the repository root, as its major', () => {
    expect(check('report', { '.nvmrc': `v${major}.1.0\n` })).toBe(`node: ${here} ("${major}.x" from .nvmrc ("v${major}.1.0"))`);
    expect(check('report', { '.node-version': `${major + 2}` })).toMatch(/^warning: node: the app asks for "\d+\.x" \(\.node-version \("\d+"\)\)/);
    expect(check('report', { '.nvmrc': 'lts/*' })).toBe(`node: ${here} ("*" from .nvmrc ("lts/*"))`);
    // engines.node wins over .nvmrc
    expect(check('report', { '.nvmrc': `${major + 2}`, ...engines(`${major}.x`) })).toContain(`"${major}.x" from engines.node`);
    expect(check('report', {})).toBe(`node: ${here} (the app asks for no version: no engines.node, .nvmrc or .node-version, no project setting)`);
  });

  it("asks for the project's Node.js setting when the app names no version; the app's own wins", () => {
    const setting = (v: string) => ({ ...process.env, SHIPLOG_PROJECT_NODE_VERSION: v });
    expect(check('report', {}, setting(`${major}.x`))).toBe(`node: ${here} ("${major}.x" from the project's Node.js setting)`);
    expect(check('report', {}, setting(`${major + 2}.x`))).toBe(`warning: node: the app asks for "${major + 2}.x" (the project's Node.js setting) but this runner has no such Node; building with ${here}`);
    expect(check('report', engines(`${major}.x`), setting(`${major + 2}.x`))).toContain(`"${major}.x" from engines.node`);
    expect(check('report', { '.nvmrc': `${major}` }, setting(`${major + 2}.x`))).toContain('from .nvmrc');
    // Anything but a version is ignored (it reaches a shell line on CodeBuild).
    expect(check('report', {}, setting('20.x; rm -rf /'))).toContain('no project setting');
  });

  it('switches with n to an installed Node that satisfies the request, and warns when there is none', () => {
    const bin = mkdtempSync(join(tmpdir(), 'node-check-n-'));
    writeFileSync(join(bin, 'n'), `#!/bin/sh\nif [ "$1" = ls ]; then printf 'node/18.20.4\\nnode/${major + 2}.3.1\\nnode/${major + 2}.1.0\\n'; fi\n`);
    chmodSync(join(bin, 'n'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const wanted = `${major + 2}.x`;
    const sh = check('switch', engines(wanted), env);
    expect(sh).toMatch(new RegExp(`^if n ${major + 2}\\.3\\.1 >/dev/null 2>&1; then hash -r; echo 'node: switched to v${major + 2}\\.3\\.1 for`));
    expect(execFileSync('bash', ['-c', sh], { encoding: 'utf8', env }).trim()).toBe(`node: switched to v${major + 2}.3.1 for "${wanted}" from engines.node in package.json`);
    const none = check('switch', engines(`${major + 4}.x`), env);
    expect(execFileSync('bash', ['-c', none], { encoding: 'utf8' }).trim()).toMatch(/^warning: node: the app asks for/);
  });
});
