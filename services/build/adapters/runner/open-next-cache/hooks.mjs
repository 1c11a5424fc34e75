// Module loader hooks for `open-next build`: OpenNext's `applyCodePatches`, `esbuildAsync` and
// `installDependencies` are renamed in their modules' source and replaced by functions that go
// through the cache (cache.mjs). A module not shaped as expected (another OpenNext version) is
// left as it is, and the build runs uncached: one line in the log says why.
import { Buffer } from 'node:buffer';

const cacheUrl = new URL('./cache.mjs', import.meta.url).href;

/**
 * A module's function `name` routed through the cache's `cached` export, which gets the original,
 * the call's arguments and OpenNext's package.json.
 */
const routed = (suffix, declared, name, cached) => {
  const original = `__shiplogOriginal${name[0].toUpperCase()}${name.slice(1)}`;
  return {
    suffix,
    declaration: `${declared} ${name}(`,
    original,
    replacement: (pkg) =>
      `import { ${cached} as __shiplog_${cached} } from ${JSON.stringify(cacheUrl)};\n` +
      `${declared} ${name}(...args) {\n` +
      `  return __shiplog_${cached}(${original}, args, ${JSON.stringify(pkg)});\n` +
      '}\n',
  };
};

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
  routed('/@opennextjs/aws/dist/build/installDeps.js', 'export function', 'installDependencies', 'cachedInstall'),
];

/**
 * The source of `url` with its function routed through the cache, or a reason it is left alone.
 *
 * @example
 * rewrite('file:///x/node_modules/@opennextjs/aws/dist/build/installDeps.js', source); // { source: '…' }
 */
export const rewrite = (url, source) => {
  const target = targets.find((t) => url.endsWith(t.suffix));
  if (!target) return undefined;
  const pkg = `${url.slice(0, url.length - target.suffix.length)}/@opennextjs/aws/package.json`;
  const at = source.indexOf(target.declaration);
  if (at < 0 || source.indexOf(target.declaration, at + 1) >= 0 || source.includes(target.original)) {
    return { reason: `${target.suffix.slice(1)} does not declare ${target.declaration.slice(0, -1)} once as expected` };
  }
  const renamed = `${source.slice(0, at)}${target.declaration.replace(/^export /, '').replace(/\w+\($/, `${target.original}(`)}${source.slice(at + target.declaration.length)}`;
  return { source: `${renamed}\n${target.replacement(pkg)}` };
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
  if (changed.reason) {
    console.log(`open-next cache: off (${changed.reason})`);
    return result;
  }
  return { ...result, source: changed.source };
}
