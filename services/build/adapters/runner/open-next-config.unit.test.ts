import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localOpenNextConfig, localWrappedOpenNextConfig } from './open-next-config.ts';

// The generated configs are JavaScript that `open-next build` loads: load them in a real Node.
const load = (files: Record<string, string>, entry: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'open-next-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const script = `const c = (await import(${JSON.stringify(join(dir, entry))})).default;
    const show = (v) => typeof v === 'function' ? 'fn:' + v.name : v;
    const fns = (f) => f && { ...f, override: Object.fromEntries(Object.entries(f.override ?? {}).map(([k, v]) => [k, show(v)])) };
    console.log(JSON.stringify({ ...c, default: fns(c.default), functions: c.functions && Object.fromEntries(Object.entries(c.functions).map(([n, f]) => [n, fns(f)])),
      imageOptimization: { loader: show(c.imageOptimization.loader), override: c.imageOptimization.override } }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, SHIPLOG_GIT_COMMIT_SHA: 'a'.repeat(40) } });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return { config: JSON.parse(lines.at(-1)!), log: lines.slice(0, -1) };
};

describe('local OpenNext config', () => {
  it('without an app config: the streaming wrapper, local caches and a tag cache that needs no build-time tag file', () => {
    const { config, log } = load({ 'c.mjs': localOpenNextConfig }, 'c.mjs');
    expect(config.default.override).toEqual({ wrapper: 'aws-lambda-streaming', converter: 'aws-apigw-v2', incrementalCache: 'fs-dev', tagCache: 'fn:localTagCache', queue: 'direct' });
    // The image function answers whole files: it stays buffered.
    expect(config.imageOptimization.override).toEqual({ wrapper: 'aws-lambda', converter: 'aws-apigw-v2' });
    expect(config.buildCommand).toBe('exit 0');
    expect(log).toEqual([]);
  });

  it('with the app\'s own config: keeps function splitting and its own choices, replaces what binds it to AWS, and says which', () => {
    const app = `export default {
      default: { override: { wrapper: 'aws-lambda-streaming', incrementalCache: 's3-lite', tagCache: 'dynamodb-lite', queue: 'sqs-lite', proxyExternalRequest: 'fetch' } },
      functions: { api: { routes: ['app/api/route'], patterns: ['api/*'], override: { incrementalCache: 'dummy', wrapper: 'aws-lambda' } } },
      middleware: { external: true },
      imageOptimization: { loader: 's3' },
      initializationFunction: { tagCache: 'dynamodb-lite' },
      dangerous: { enableCacheInterception: true },
      buildCommand: 'npm run build',
    };`;
    const { config, log } = load({ 'app.mjs': app, 'c.mjs': localWrappedOpenNextConfig('./app.mjs') }, 'c.mjs');
    expect(config.default.override).toEqual({ wrapper: 'aws-lambda-streaming', converter: 'aws-apigw-v2', incrementalCache: 'fs-dev', tagCache: 'fn:localTagCache', queue: 'direct', proxyExternalRequest: 'fetch' });
    expect(config.functions.api).toMatchObject({ routes: ['app/api/route'], patterns: ['api/*'], override: { incrementalCache: 'dummy', wrapper: 'aws-lambda-streaming', queue: 'direct' } });
    expect(config.middleware).toEqual({ external: false });
    expect(config.initializationFunction).toBeUndefined();
    expect(config.dangerous).toEqual({ enableCacheInterception: true });
    expect(config.imageOptimization.loader).toBe('fn:localAssetsLoader');
    expect(config.buildCommand).toBe('exit 0');
    expect(log[0]).toBe('shiplog: open-next.config.ts kept: default.override.wrapper, default.override.proxyExternalRequest, functions.api.routes, functions.api.patterns, functions.api.override.incrementalCache, dangerous');
    expect(log[1]).toContain('replaced for this machine: buildCommand');
    for (const r of ['functions.api.override.wrapper (aws-lambda)', 'default.override.incrementalCache (s3-lite)', 'default.override.tagCache (dynamodb-lite)', 'middleware.external', 'imageOptimization', 'initializationFunction']) {
      expect(log[1]).toContain(r);
    }
  });

  it('tag cache: reads the build\'s tag file when there is one, starts empty when there is none, keeps revalidations', () => {
    const run = (withFile: boolean) => {
      const dir = mkdtempSync(join(tmpdir(), 'open-next-tags-'));
      writeFileSync(join(dir, 'c.mjs'), localOpenNextConfig);
      writeFileSync(join(dir, 'open-next.output.json'), '{}');
      if (withFile) {
        spawnSync('mkdir', ['-p', join(dir, 'dynamodb-provider'), join(dir, 'server-functions', 'default')]);
        writeFileSync(join(dir, 'dynamodb-provider', 'dynamodb-cache.json'), JSON.stringify([{ tag: { S: 'B1/posts' }, path: { S: 'B1/blog' }, revalidatedAt: { N: '1' } }]));
      } else spawnSync('mkdir', ['-p', join(dir, 'server-functions', 'default')]);
      const script = `const c = (await import(${JSON.stringify(join(dir, 'c.mjs'))})).default;
        const t = await c.default.override.tagCache();
        const out = { byTag: await t.getByTag('posts'), byPath: await t.getByPath('blog'), fresh: await t.getLastModified('blog', 1000) };
        await t.writeTags([{ tag: 'posts', path: 'blog', revalidatedAt: 5000 }]);
        out.after = await t.getLastModified('blog', 1000);
        console.log(JSON.stringify(out));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(dir, 'server-functions', 'default'), encoding: 'utf8', env: { ...process.env, OPEN_NEXT_BUILD_ID: 'B1' } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    expect(run(true)).toEqual({ byTag: ['blog'], byPath: ['posts'], fresh: 1000, after: -1 });
    expect(run(false)).toEqual({ byTag: [], byPath: [], fresh: 1000, after: -1 });
  });
});
