import { nextServerPatchSource } from '../runner/next-server-patch.ts';

/**
 * The files a build adds to the OpenNext server function on AWS so that the running app gets
 * its project's env vars from the secret store: `shiplog-env.mjs`, the function's entry
 * (`shiplog-env.handler`), and `shiplog-env.json`, the env var names with the SSM parameters
 * (names only, never values) of exactly the versions the deployment was built with, and
 * OpenNext's own handler. The deploy service's AWS site host makes the entry the function's
 * handler when the artifact has it.
 *
 * @example
 * RuntimeEnvFile.entry; // 'shiplog-env.mjs'
 */
export const RuntimeEnvFile = { entry: 'shiplog-env.mjs', spec: 'shiplog-env.json', handler: 'shiplog-env.handler' } as const;

/**
 * The build variable that carries the env var names with their SSM parameter names, as JSON
 * (`{ "API_KEY": "/shiplog/env/web/production/API_KEY/3" }`): what {@link runtimeEnvScript}
 * writes into `shiplog-env.json`.
 *
 * @example
 * plain(RUNTIME_ENV_VARIABLE, JSON.stringify({ API_KEY: '/shiplog/env/web/production/API_KEY/3' }));
 */
export const RUNTIME_ENV_VARIABLE = 'SHIPLOG_ENV_PARAMETERS';

/**
 * The function's entry. At cold start it reads the listed parameters with decryption
 * (`GetParameters`, ten at a time) into `process.env`, then imports OpenNext's handler. A
 * missing parameter fails the start (as the local runtime refuses to start a function whose
 * secret is gone), naming the parameters, never a value. Lambda's reserved variables
 * (`AWS_*`, `LAMBDA_*`, `_*`) are not overwritten. The AWS SDK is the one Lambda's Node.js
 * runtime provides on `NODE_PATH`, which only `require` reads.
 *
 * @example
 * writeFileSync(join(functionDir, RuntimeEnvFile.entry), runtimeEnvEntry);
 */
export const runtimeEnvEntry = `// Written by shiplog's build: the project's env vars from SSM Parameter Store, then OpenNext's handler.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const spec = JSON.parse(readFileSync(new URL('./${RuntimeEnvFile.spec}', import.meta.url), 'utf8'));
const reserved = /^(AWS_|LAMBDA_|_)/;
const wanted = Object.entries(spec.parameters).filter(([name]) => !reserved.test(name));
const names = [...new Set(wanted.map(([, parameter]) => parameter))];
if (names.length > 0) {
  const { SSMClient, GetParametersCommand } = createRequire(import.meta.url)('@aws-sdk/client-ssm');
  const ssm = new SSMClient({});
  const values = new Map();
  const missing = [];
  for (let i = 0; i < names.length; i += 10) {
    const out = await ssm.send(new GetParametersCommand({ Names: names.slice(i, i + 10), WithDecryption: true }));
    for (const p of out.Parameters ?? []) values.set(p.Name, p.Value);
    missing.push(...(out.InvalidParameters ?? []));
  }
  if (missing.length > 0) throw new Error('shiplog: env var parameters not found: ' + missing.join(', '));
  for (const [name, parameter] of wanted) process.env[name] = values.get(parameter);
}
const dot = spec.handler.lastIndexOf('.');
const file = spec.handler.slice(0, dot);
const path = [file + '.mjs', file + '.js'].map((f) => new URL('./' + f, import.meta.url)).find((u) => existsSync(u)) ?? new URL('./' + file + '.mjs', import.meta.url);
const mod = await import(path.href);
// res.revalidate() of a Pages Router API route, as next start serves it (next-server-patch.ts):
// Next's server, resolved where OpenNext's bundle resolves it (a monorepo app's package folder).
try {
  const requireNext = createRequire(new URL('./' + (globalThis.monorepoPackagePath ? globalThis.monorepoPackagePath + '/' : '') + 'index.mjs', import.meta.url));
  (${nextServerPatchSource})(requireNext('next/dist/server/next-server.js').default, { httpFromForwardedProto: false });
} catch {
  // no Next server to patch
}
export const handler = mod[spec.handler.slice(dot + 1)];
`;

/**
 * The build step (a Node ES module: `node script.mjs <.open-next dir>`) that writes the entry
 * and its spec into the default server function of an OpenNext output, from
 * `open-next.output.json` and `$SHIPLOG_ENV_PARAMETERS`. Run before the function is zipped.
 *
 * @example
 * execFileSync('node', ['--input-type=module', '-e', runtimeEnvScript, '.open-next'], { env: { SHIPLOG_ENV_PARAMETERS: '{}' } });
 */
export const runtimeEnvScript = `import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const out = process.argv.at(-1);
const origin = JSON.parse(readFileSync(join(out, 'open-next.output.json'), 'utf8')).origins?.default;
if (origin?.type !== 'function' || !origin.bundle) throw new Error('the default origin of the OpenNext output is not a function');
const dir = join(out, origin.bundle.replace(/^\\.open-next\\//, ''));
const parameters = JSON.parse(process.env.${RUNTIME_ENV_VARIABLE} || '{}');
writeFileSync(join(dir, '${RuntimeEnvFile.spec}'), JSON.stringify({ handler: origin.handler || 'index.handler', parameters }));
writeFileSync(join(dir, '${RuntimeEnvFile.entry}'), Buffer.from('${Buffer.from(runtimeEnvEntry).toString('base64')}', 'base64'));
console.log('runtime env: ' + Object.keys(parameters).length + ' env var(s) read from SSM Parameter Store when the function starts');
`;
