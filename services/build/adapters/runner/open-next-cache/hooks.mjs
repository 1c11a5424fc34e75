// Module loader hooks for `open-next build`: OpenNext's `applyCodePatches`, `esbuildAsync`,
// `esbuildSync`, `compileOpenNextConfigNode`, `installDependencies`, `createServerBundle` and
// `copyFileAndMakeOwnerWritable` are renamed in their
// modules' source and replaced by functions that go through the cache (cache.mjs). A module not shaped as expected (another OpenNext version) is
// left as it is, and the build runs uncached: one line in the log says why.
import { Buffer } from 'node:buffer';

const cacheUrl = new URL('./cache.mjs', import.meta.url).href;

/**
 * A module's function `name` routed through the cache's `cached` export, which gets the original,
 * the call's arguments and OpenNext's package.json, and `extra` (`{ call, preamble, argument }`):
 * one call inside the function replaced (`call`: [from, to]), code added beside it, and one more
 * argument for the cache.
 */
const routed = (suffix, declared, name, cached, extra = {}) => {
  const original = `__shiplogOriginal${name[0].toUpperCase()}${name.slice(1)}`;
  return {
    suffix,
    declaration: `${declared} ${name}(`,
    original,
    ...(extra.call ? { call: extra.call } : {}),
    replacement: (pkg) =>
      `import { ${cached} as __shiplog_${cached} } from ${JSON.stringify(cacheUrl)};\n` +
      (extra.preamble ?? '') +
      `${declared} ${name}(...args) {\n` +
      `  return __shiplog_${cached}(${original}, args, ${JSON.stringify(pkg)}${extra.argument ? `, ${extra.argument}` : ''});\n` +
      '}\n',
  };
};

// A module's buildSync call wrapped so the cache, once it hands over its callback (the routed
// function's extra argument), gets the result; `options` is what the wrapper passes to buildSync.
const resultHook = (options) => ({
  preamble:
    'let __shiplogOnResult;\n' +
    'function __shiplogBuildSync(options) {\n' +
    `  const result = buildSync(${options});\n` +
    '  __shiplogOnResult?.(result);\n' +
    '  return result;\n' +
    '}\n',
  argument: '(fn) => { __shiplogOnResult = fn; }',
});

/** The modules changed, by the end of their URL, and how. */
export const targets = [
  {
    suffix: '/@opennextjs/aws/dist/build/patch/codePatcher.js',
    declaration: 'export async function applyCodePatches(',
    original: '__shiplogOriginalApplyCodePatches',
    replacement: (pkg) =>
      `import { cachedCodePatches as __shiplogCachedCodePatches } from ${JSON.stringify(cacheUrl)};\n` +
      'export async function applyCodePatches(...args) {\n' +
      // `buildHelper` is how codePatcher.js imports OpenNext's helpers (getBundlerRuntime among them).
      '  const bundlerOf = typeof buildHelper === "object" && buildHelper !== null ? buildHelper.getBundlerRuntime : undefined;\n' +
      `  return __shiplogCachedCodePatches(__shiplogOriginalApplyCodePatches, args, ${JSON.stringify(pkg)}, bundlerOf);\n` +
      '}\n',
  },
  routed('/@opennextjs/aws/dist/build/helper.js', 'export async function', 'esbuildAsync', 'cachedBundle'),
  // esbuildSync takes no plugins: the buildSync it calls is wrapped, so the cache gets the result's metafile.
  routed('/@opennextjs/aws/dist/build/helper.js', 'export function', 'esbuildSync', 'cachedBundleSync', {
    call: ['const result = buildSync({', 'const result = __shiplogBuildSync({'],
    ...resultHook('options'),
  }),
  routed('/@opennextjs/aws/dist/build/installDeps.js', 'export function', 'installDependencies', 'cachedInstall'),
  // The server function's traced files: moved out of .next/standalone while the default function is bundled (cache.mjs).
  routed('/@opennextjs/aws/dist/build/createServerBundle.js', 'export async function', 'createServerBundle', 'cachedServerBundle'),
  routed('/@opennextjs/aws/dist/build/copyTracedFiles.js', 'export function', 'copyFileAndMakeOwnerWritable', 'cachedTracedCopy'),
  // The config's compile: its buildSync is wrapped (with a metafile asked for while the cache waits on the result).
  routed('/@opennextjs/aws/dist/build/compileConfig.js', 'export function', 'compileOpenNextConfigNode', 'cachedConfig', {
    call: ['buildSync({', '__shiplogBuildSync({'],
    ...resultHook('__shiplogOnResult ? { ...options, metafile: true } : options'),
  }),
];

/**
 * The source of `url` with its functions routed through the cache (`source`, when any is), and
 * why any of them is left alone (`reason`).
 *
 * @example
 * rewrite('file:///x/node_modules/@opennextjs/aws/dist/build/installDeps.js', source); // { source: '…' }
 */
export const rewrite = (url, source) => {
  const matching = targets.filter((t) => url.endsWith(t.suffix));
  if (matching.length === 0) return undefined;
  // Each function on its own: one not shaped as expected is left alone (and said), the others routed.
  let out = source;
  let routedAny = false;
  const reasons = [];
  for (const target of matching) {
    const pkg = `${url.slice(0, url.length - target.suffix.length)}/@opennextjs/aws/package.json`;
    const at = out.indexOf(target.declaration);
    if (at < 0 || out.indexOf(target.declaration, at + 1) >= 0 || out.includes(target.original)) {
      reasons.push(`${target.suffix.slice(1)} does not declare ${target.declaration.slice(0, -1)} once as expected`);
      continue;
    }
    let renamed = `${out.slice(0, at)}${target.declaration.replace(/^export /, '').replace(/\w+\($/, `${target.original}(`)}${out.slice(at + target.declaration.length)}`;
    if (target.call) {
      // The call, once in the function (up to its closing brace at the start of a line).
      const [from, to] = target.call;
      const close = renamed.indexOf('\n}\n', at);
      const end = close < 0 ? renamed.length : close;
      const callAt = renamed.indexOf(from, at);
      const again = renamed.indexOf(from, callAt + 1);
      if (callAt < 0 || callAt > end || (again >= 0 && again < end)) {
        reasons.push(`${target.suffix.slice(1)} does not call buildSync once, in ${target.declaration.slice(0, -1)}, as expected`);
        continue;
      }
      renamed = `${renamed.slice(0, callAt)}${to}${renamed.slice(callAt + from.length)}`;
    }
    out = `${renamed}\n${target.replacement(pkg)}`;
    routedAny = true;
  }
  return { ...(routedAny ? { source: out } : {}), ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}) };
};

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.endsWith('.js') || !url.includes('/@opennextjs/aws/dist/build/')) return result;
  if (result.format !== 'module' || result.source == null) {
    if (targets.some((t) => url.endsWith(t.suffix))) console.log(`open-next cache: off (${url.split('/@opennextjs/aws/')[1]} is not an ES module)`);
    return result;
  }
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8');
  const changed = rewrite(url, source);
  if (!changed) return result;
  if (changed.reason) console.log(`open-next cache: off (${changed.reason})`);
  return changed.source === undefined ? result : { ...result, source: changed.source };
}
