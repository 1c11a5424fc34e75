import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeArtifactDir } from '../../service.ts';
import {
  artifactUriFor, awsOpenNextConfig, buildspecFor, buildspecPhases, CHECKOUT_MARK, DEFAULT_OPENNEXT_VERSION, manifestScript, type BuildspecInput,
} from './buildspec.ts';

const input: BuildspecInput = { rootDir: 'apps/web', installCommand: 'npm ci', buildCommand: 'npx next build', checkout: false };
const work = mkdtempSync(join(tmpdir(), 'shiplog-buildspec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The buildspec's commands, back from the YAML (every command is one JSON-quoted scalar). */
const commandsOf = (yaml: string, phase: string): string[] => {
  const block = yaml.split(`\n  ${phase}:\n`)[1]!.split(/\n {2}\w/)[0]!;
  return block.split('\n').filter((l) => l.startsWith('      - ')).map((l) => JSON.parse(l.slice(8)) as string);
};

describe('buildspecFor', () => {
  it('is a version 0.2 buildspec whose phases abort the build on failure', () => {
    const yaml = buildspecFor(input);
    expect(yaml.startsWith('version: 0.2\nenv:\n  shell: "bash"\nphases:\n')).toBe(true);
    for (const phase of ['install', 'pre_build', 'build', 'post_build']) {
      const runtime = phase === 'install' ? '    runtime-versions:\n      nodejs: "20"\n' : '';
      expect(yaml).toContain(`  ${phase}:\n${runtime}    on-failure: "ABORT"\n    commands:\n`);
      expect(commandsOf(yaml, phase)).toEqual(buildspecPhases(input)[phase as 'build']);
    }
  });

  it('installs, builds in standalone mode, packages with the pinned OpenNext and uploads the manifest last', () => {
    const p = buildspecPhases(input);
    expect(p.install).toEqual([`cd "$CODEBUILD_SRC_DIR/apps/web" ${CHECKOUT_MARK}`, 'npm ci']);
    expect(p.build).toEqual(['cd "$CODEBUILD_SRC_DIR/apps/web"', 'export NODE_ENV="${NODE_ENV:-production}" NEXT_PRIVATE_STANDALONE=true', 'npx next build']);
    expect(p.post_build).toContain(`npx --yes @opennextjs/aws@${DEFAULT_OPENNEXT_VERSION} build --config-path open-next.shiplog.config.ts`);
    const uploads = p.post_build.filter((c) => c.startsWith('aws s3 cp'));
    expect(uploads).toHaveLength(3);
    expect(uploads[0]).toContain('--exclude ".build/*"');
    expect(uploads[2]).toContain('shiplog-build.json');
  });

  it('writes the AWS OpenNext config unless the app has its own, which it wraps', () => {
    const write = buildspecPhases(input).pre_build.find((c) => c.startsWith('if [ -f open-next.config.ts ]'))!;
    const [own, fallback] = [...write.matchAll(/echo (\S+) \| base64 -d/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    expect(own).toContain("import config from './open-next.config.ts'");
    expect(fallback).toBe(awsOpenNextConfig);
    expect(awsOpenNextConfig).toMatch(/incrementalCache: 's3-lite', tagCache: 'dynamodb-lite', queue: 'sqs-lite'/);
  });

  it('fetches the commit itself only when CodeBuild has no source', () => {
    const install = buildspecPhases({ ...input, checkout: true }).install;
    expect(install[0]).toMatch(/^git init -q "\$CODEBUILD_SRC_DIR" .*git checkout -q --detach FETCH_HEAD # shiplog:checkout$/);
    expect(buildspecPhases(input).install.some((c) => c.startsWith('git '))).toBe(false);
  });

  it('fails the install phase, as a checkout failure, for a rootDir outside the repository', () => {
    for (const rootDir of ['../other', '/etc', 'a/$(id)']) {
      const [first] = buildspecPhases({ ...input, rootDir }).install;
      expect(first).toMatch(/is not a directory inside the repository' >&2; exit 1 # shiplog:checkout$/);
    }
  });

  it('quotes commands so YAML takes them verbatim', () => {
    const yaml = buildspecFor({ ...input, buildCommand: 'echo "a: b" # not a comment' });
    expect(commandsOf(yaml, 'build').at(-1)).toBe('echo "a: b" # not a comment');
  });
});

describe('the artifact manifest', () => {
  it('pins the OpenNext version shiplog ships', () => {
    // The package's exports hide package.json; it sits next to dist/ (as the local runner reads it).
    const cli = createRequire(import.meta.url).resolve('@opennextjs/aws/index.js');
    const pkg = JSON.parse(readFileSync(join(dirname(cli), '..', 'package.json'), 'utf8')) as { version: string };
    expect(DEFAULT_OPENNEXT_VERSION).toBe(pkg.version);
  });

  it('digests the output exactly as describeArtifactDir does, minus .build', async () => {
    const out = join(work, '.open-next');
    mkdirSync(join(out, 'assets', '_next', 'static'), { recursive: true });
    mkdirSync(join(out, '.build'), { recursive: true });
    writeFileSync(join(out, 'assets', '_next', 'static', 'a.js'), 'console.log(1)');
    writeFileSync(join(out, 'assets', 'a-b.txt'), 'x');
    writeFileSync(join(out, 'open-next.output.json'), '{}');
    const expected = await describeArtifactDir(out);
    writeFileSync(join(out, '.build', 'scratch'), 'ignored');
    const file = join(work, 'manifest.json');
    execFileSync(process.execPath, ['--input-type=module', '-e', manifestScript, out, file, '4.1.12'], { cwd: work });
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(manifest).toEqual({ ...expected, files: 3, versions: { next: null, openNext: '4.1.12' } });
  });

  it('lives next to the output in the deployment artifact prefix', () => {
    expect(artifactUriFor('shiplog-artifacts', 'web', 'd1')).toBe('s3://shiplog-artifacts/artifacts/web/d1/');
  });
});
