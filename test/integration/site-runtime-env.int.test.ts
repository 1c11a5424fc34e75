import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../infra/aws-box/moto.ts';
import { RuntimeEnvFile, runtimeEnvScript } from '../../services/build/adapters/scheduler/runtime-env.ts';

// The site function's entry on moto's SSM: it runs outside this repository, finding the AWS SDK
// only on NODE_PATH (as Lambda's Node.js runtime provides it), and gives OpenNext's handler the
// decrypted values of exactly the parameters the build listed.

const repoModules = fileURLToPath(new URL('../../node_modules', import.meta.url));
let moto: Moto;
let ssm: SSMClient;
let work: string;
let keyId: string;

const put = (Name: string, Value: string) => ssm.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', KeyId: keyId, Overwrite: true }));

/** An OpenNext output whose handler answers with the env vars it was asked for. */
const output = (parameters: Record<string, string>, files: Record<string, string> = {}) => {
  const out = mkdtempSync(join(work, 'out-'));
  const fn = join(out, 'server-functions', 'default');
  mkdirSync(fn, { recursive: true });
  writeFileSync(join(out, 'open-next.output.json'), JSON.stringify({ origins: { default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default' } } }));
  writeFileSync(join(fn, 'index.mjs'), 'export const handler = async (names) => Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));\n');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(fn, name)), { recursive: true });
    writeFileSync(join(fn, name), text);
  }
  execFileSync(process.execPath, ['--input-type=module', '-e', runtimeEnvScript, out], { env: { PATH: process.env.PATH, SHIPLOG_ENV_PARAMETERS: JSON.stringify(parameters) } });
  return fn;
};

/** Starts the entry as Lambda would (the function's own directory, the SDK on NODE_PATH) and invokes it once. */
const invoke = (fn: string, names: string[], extra: Record<string, string> = {}) => {
  const script = `const m = await import(${JSON.stringify(join(fn, RuntimeEnvFile.entry))}); console.log(JSON.stringify(await m.handler(${JSON.stringify(names)})));`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fn,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH, NODE_PATH: repoModules, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: BOX_REGION,
      AWS_ACCESS_KEY_ID: BOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: BOX_CREDENTIALS.secretAccessKey, ...extra,
    },
  });
};

beforeAll(async () => {
  moto = await startMoto();
  const aws = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  ssm = new SSMClient(aws);
  keyId = (await new KMSClient(aws).send(new CreateKeyCommand({ Description: 'secrets' }))).KeyMetadata!.KeyId!;
  // Outside the repository: nothing resolves `@aws-sdk/*` from the function's folder upwards.
  work = mkdtempSync(join(tmpdir(), 'shiplog-runtime-env-'));
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the site function's entry on AWS", () => {
  it('writes the entry and a spec of names and parameter names only next to the handler', async () => {
    const fn = output({ API_KEY: '/shiplog/env/web/production/API_KEY/3' });
    expect(JSON.parse(readFileSync(join(fn, RuntimeEnvFile.spec), 'utf8'))).toEqual({
      handler: 'index.handler', parameters: { API_KEY: '/shiplog/env/web/production/API_KEY/3' },
    });
    expect(readFileSync(join(fn, RuntimeEnvFile.entry), 'utf8')).toContain('GetParametersCommand');
  });

  it('reads every listed version decrypted into process.env before OpenNext\'s handler loads (more than ten: in pages)', async () => {
    const parameters: Record<string, string> = {};
    for (let i = 0; i < 12; i++) {
      parameters[`VAR_${i}`] = `/shiplog/env/web/production/VAR_${i}/2`;
      await put(`/shiplog/env/web/production/VAR_${i}/1`, `old-${i}`);
      await put(`/shiplog/env/web/production/VAR_${i}/2`, `value-${i} with spaces & "quotes"`);
    }
    const r = invoke(output(parameters), Object.keys(parameters));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(Object.fromEntries(Object.keys(parameters).map((n, i) => [n, `value-${i} with spaces & "quotes"`])));
  });

  it('leaves the runtime\'s reserved variables alone', async () => {
    await put('/shiplog/env/web/production/AWS_REGION/1', 'moon-1');
    await put('/shiplog/env/web/production/GREETING/1', 'hi');
    const fn = output({ AWS_REGION: '/shiplog/env/web/production/AWS_REGION/1', GREETING: '/shiplog/env/web/production/GREETING/1' });
    const r = invoke(fn, ['AWS_REGION', 'GREETING']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ AWS_REGION: BOX_REGION, GREETING: 'hi' });
  });

  it('fails the start when a parameter is gone, naming it and printing no value', async () => {
    await put('/shiplog/env/web/production/PRESENT/1', 'present-secret-value');
    const fn = output({ PRESENT: '/shiplog/env/web/production/PRESENT/1', GONE: '/shiplog/env/web/production/GONE/4' });
    const r = invoke(fn, ['PRESENT', 'GONE']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/shiplog/env/web/production/GONE/4');
    expect(`${r.stdout}${r.stderr}`).not.toContain('present-secret-value');
  });

  it("gives Next's server in the function the revalidate that res.revalidate() of a Pages Router API route needs, in a monorepo app's package folder too", () => {
    // A stand-in for next/dist/server/next-server.js where OpenNext's bundle resolves it, and a
    // handler that does what Next's pages API does: attach the request's meta, then call the
    // revalidate it finds there (next start's router puts one there; without it Next throws).
    const nextServer = `class NextNodeServer {
  attachRequestMeta(req) { req[Symbol.for('NextInternalRequestMeta')] = { initURL: 'https://site.example/' }; }
  async revalidate({ urlPath, headers }) {
    // As OpenNext's cache handler does: the page's write is left pending on the request.
    globalThis.__openNextAls.getStore().pendingPromiseRunner.add(new Promise((done) => setTimeout(() => { globalThis.written = urlPath; done(); }, 50)));
    return 'regenerated ' + urlPath + ' with ' + Object.keys(headers).join(',');
  }
}
module.exports = { default: NextNodeServer };
`;
    for (const pkg of ['', 'apps/web']) {
      const at = pkg ? `${pkg}/` : '';
      const fn = output({}, {
        [`${at}node_modules/next/dist/server/next-server.js`]: nextServer,
        'index.mjs': `export { handler } from './${at}bundle.mjs';\n`,
        [`${at}bundle.mjs`]: `${pkg ? `globalThis.monorepoPackagePath = '${pkg}';\n` : ''}import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
import { AsyncLocalStorage } from 'node:async_hooks';
globalThis.__openNextAls = new AsyncLocalStorage();
const pending = [];
const pendingPromiseRunner = { add: (p) => pending.push(p), await: () => Promise.all(pending) };
export const handler = () => globalThis.__openNextAls.run({ pendingPromiseRunner }, async () => {
  const NextNodeServer = require('next/dist/server/next-server.js').default;
  const req = { headers: { 'x-forwarded-proto': 'http' } };
  new NextNodeServer().attachRequestMeta(req);
  const meta = req[Symbol.for('NextInternalRequestMeta')];
  if (!meta.revalidate) throw new Error('Invariant: missing internal router-server-methods this is an internal bug');
  const revalidated = await meta.revalidate({ urlPath: '/posts/a', headers: { 'x-prerender-revalidate': 'id' } });
  return { revalidated, written: globalThis.written, initURL: meta.initURL };
});
`,
      });
      const r = invoke(fn, [], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
      expect(r.status, `${pkg || 'app at the root'}: ${r.stderr}`).toBe(0);
      // On AWS the URL keeps the scheme CloudFront was reached with: only the local converter rewrites it.
      // res.revalidate() resolves once the page is written, not when it has been rendered.
      expect(JSON.parse(r.stdout)).toEqual({ revalidated: 'regenerated /posts/a with x-prerender-revalidate', written: '/posts/a', initURL: 'https://site.example/' });
    }
  });

  it('asks SSM nothing when the project has no env vars', async () => {
    const r = invoke(output({}), ['GREETING'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ GREETING: null });
  });
});
