// The open-next build step's cache (loaded inside the build's sandbox by hooks.mjs, plain
// JavaScript: nothing compiles it there). Two slow parts of `open-next build` give the same
// result for the same input:
// - code patches: OpenNext rewrites Next's runtime files and the app's server chunks; each
//   result depends only on the file's content, which patches apply (by path), OpenNext's and
//   Next's versions and the bundler.
// - dependency installs (`npm install sharp` for the image function): the same install options
//   give the same node_modules.
// - the compiled open-next config (esbuild's buildSync of the config file): the same for the
//   same files read.
// - esbuild bundles of OpenNext's own adapters (server, revalidation, image, warmer, tag cache
//   functions): about 300 ms each, mostly parsing the AWS SDK OpenNext bundles, and the same
//   for the same options, config and input files; also the two esbuildSync ones (the cache
//   adapters, and the image function's second pass). An entry records every file esbuild read
//   (its metafile) with its hash, and is reused only while each of them still hashes the same.
// Entries are content-addressed files under one project's cache folder, written aside and
// renamed into place, checked when read (a damaged entry is a miss), and pruned after a
// successful build to what that build used.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Bumped when the entry format or the key changes: older entries are then misses (and pruned). */
export const formatVersion = 1;
/** An install entry older than this is a miss: version ranges in the packages then resolve anew. */
export const installMaxAgeMs = 7 * 24 * 3600 * 1000;

// The code patches of @opennextjs/aws 4.1 whose output depends only on the code: any other patch
// (an app's own `additionalCodePatches`) turns the patch cache off for the build.
const knownPatches = new Set([
  'patch-fetch-cache-set-missing-wait-until', 'patch-fetch-cache-for-isr', 'patch-unstable-cache-for-isr', 'patch-next-server',
  'patch-env-vars', 'patchBackgroundRevalidation', 'patch-use-cache-for-isr', 'patch-node-environment-error-inspect',
]);

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
};

/** Writes `data` (a Buffer, or a function that fills a directory) to `final` via a scratch name: never half an entry. */
const writeAside = (root, final, data) => {
  const scratch = path.join(root, 'tmp', `${path.basename(final)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(path.dirname(scratch), { recursive: true });
  fs.mkdirSync(path.dirname(final), { recursive: true });
  try {
    if (typeof data === 'function') data(scratch);
    else fs.writeFileSync(scratch, data);
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(scratch, final);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
};

/** A patch entry: one JSON header line (hashes and length of the output), then the output. */
const readPatchEntry = (file, inputHash) => {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const nl = buf.indexOf(10);
  if (nl < 0) return undefined;
  try {
    const head = JSON.parse(buf.subarray(0, nl).toString('utf8'));
    const out = buf.subarray(nl + 1);
    if (head.format !== formatVersion || head.input !== inputHash || head.length !== out.length || sha256(out) !== head.output) return undefined;
    return { out, unchanged: head.output === inputHash };
  } catch {
    return undefined;
  }
};

/** Every file under `dir` with its size, relative and sorted: what an install entry must still hold. */
const listFiles = (dir, rel = '') => {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...listFiles(dir, p));
    else out.push([p, fs.lstatSync(path.join(dir, p)).size]);
  }
  return out;
};

const isRegExpLike = (f) => f instanceof RegExp || typeof f === 'string';
const validPatcher = (codePatcher) =>
  Array.isArray(codePatcher) &&
  codePatcher.every((c) => c && typeof c.name === 'string' && Array.isArray(c.patches) && c.patches.every((p) => p && isRegExpLike(p.pathFilter) && typeof p.patchCode === 'function'));

// The esbuild plugins of @opennextjs/aws 4.1 whose output depends only on their arguments (all
// taken from the config, Next's version and OpenNext's own files) and the files they read: any
// other plugin leaves that bundle uncached.
const knownPlugin = (name) =>
  ['opennext-resolve', 'aggregate-on-load', 'opennext-14.1.1-image-optimization'].includes(name) || /^(requestHandlerOverride|utilOverride) [\w-]+$/.test(name);

/** The app's folder and the folder of the build it is part of (above its repository's root), which only this build has. */
const ownFolders = (base) => {
  let repo = base;
  while (!fs.existsSync(path.join(repo, '.git')) && path.dirname(repo) !== repo) repo = path.dirname(repo);
  return fs.existsSync(path.join(repo, '.git')) && path.dirname(repo) !== path.dirname(path.dirname(repo)) ? [base, path.dirname(repo)] : [base];
};

/** `value` as JSON, functions by their source and regular expressions by theirs (JSON would make them `{}`). */
const describeValue = (value) =>
  JSON.stringify(value, (_k, v) => (typeof v === 'function' ? `function:${v.toString()}` : v instanceof RegExp ? `regexp:${String(v)}` : v));

/**
 * The cache in `dir` for one `open-next build` process of OpenNext `openNextVersion`.
 * `log` gets one line per step (the build log). `installStamp` names the installed packages
 * OpenNext bundles from (a hash of their lockfile); without it bundles are not cached.
 *
 * @example
 * const cache = createCache({ dir: '/b/home/.store/open-next', openNextVersion: '4.1.12', log: console.log, installStamp: 'c0ffee…' });
 * await cache.codePatches(applyCodePatches, [buildOptions, tracedFiles, manifests, patches], getBundlerRuntime);
 * await cache.bundle(esbuildAsync, [esbuildOptions, buildOptions]);
 * cache.prune(); // after the build succeeded
 */
export const createCache = ({ dir, openNextVersion, log, now = Date.now, installStamp, cwd = process.cwd }) => {
  const used = new Set();
  const off = (what, why) => log(`open-next cache: ${what} off (${why})`);

  const codePatches = async (original, args, bundlerOf) => {
    const [buildOptions, tracedFiles, manifests, codePatcher] = args;
    if (!validPatcher(codePatcher) || !Array.isArray(tracedFiles) || typeof buildOptions?.nextVersion !== 'string' || typeof bundlerOf !== 'function') {
      off('code patches', `OpenNext ${openNextVersion} calls applyCodePatches with arguments of another shape`);
      return original(...args);
    }
    const unknown = codePatcher.map((c) => c.name).filter((n) => !knownPatches.has(n));
    if (unknown.length > 0) {
      off('code patches', `patches it cannot vouch for: ${unknown.join(', ')}`);
      return original(...args);
    }
    const started = performance.now();
    const salt = JSON.stringify([formatVersion, openNextVersion, buildOptions.nextVersion, bundlerOf(buildOptions), codePatcher.map((c) => c.name)]);
    const flat = codePatcher.flatMap((c) => c.patches.map((p, i) => ({ id: `${c.name}#${i}`, pathFilter: p.pathFilter })));
    // In the order OpenNext gave them: the files left to patch go to it as they came.
    const looked = await Promise.all(
      tracedFiles.map(async (file) => {
        const ids = flat.filter((p) => String(file).match(p.pathFilter)).map((p) => p.id);
        if (ids.length === 0) return undefined;
        const input = await fs.promises.readFile(file);
        const inputHash = sha256(input);
        const key = sha256(salt, ids.join(','), inputHash);
        const found = readPatchEntry(path.join(dir, 'patches', key), inputHash);
        return found ? { hit: true, file, key, ...found } : { hit: false, file, key, inputHash };
      }),
    );
    const hits = looked.filter((l) => l?.hit);
    const misses = looked.filter((l) => l && !l.hit);
    for (const h of hits) {
      if (!h.unchanged) await fs.promises.writeFile(h.file, h.out);
      used.add(path.join('patches', h.key));
    }
    await original(buildOptions, misses.map((m) => m.file), manifests, codePatcher);
    let stored = 0;
    for (const m of misses) {
      try {
        const out = fs.readFileSync(m.file);
        const head = JSON.stringify({ format: formatVersion, input: m.inputHash, output: sha256(out), length: out.length });
        writeAside(dir, path.join(dir, 'patches', m.key), Buffer.concat([Buffer.from(`${head}\n`), out]));
        used.add(path.join('patches', m.key));
        stored++;
      } catch (e) {
        log(`open-next cache: could not store patched files: ${e.message}`);
        break;
      }
    }
    const total = hits.length + misses.length;
    log(`open-next cache: code patches of ${hits.length} of ${total} files reused, ${stored} stored (${Math.round(performance.now() - started)} ms)`);
  };

  const install = (original, outputDir, installOptions) => {
    if (!installOptions || typeof outputDir !== 'string') return original(outputDir, installOptions);
    const name = path.basename(outputDir);
    const what = Array.isArray(installOptions.packages) ? installOptions.packages.join(' ') : 'dependencies';
    const key = sha256(JSON.stringify([formatVersion, openNextVersion, process.version, process.platform, process.arch, installOptions]));
    const entry = path.join(dir, 'installs', key);
    const target = path.join(outputDir, 'node_modules');
    const copy = { recursive: true, force: true, dereference: true };
    try {
      const record = JSON.parse(fs.readFileSync(path.join(entry, 'entry.json'), 'utf8'));
      const fresh = record.format === formatVersion && now() - record.createdAt < installMaxAgeMs;
      if (fresh && JSON.stringify(listFiles(path.join(entry, 'node_modules'))) === JSON.stringify(record.files)) {
        fs.cpSync(path.join(entry, 'node_modules'), target, copy);
        used.add(path.join('installs', key));
        log(`open-next cache: ${what} for ${name} reused`);
        return undefined;
      }
    } catch {
      // no entry, or a damaged one: install
    }
    // Installed into a folder of its own, so the entry holds exactly what the install made.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'open-next-cache-'));
    try {
      const alone = path.join(scratch, name);
      fs.mkdirSync(alone);
      original(alone, installOptions);
      const made = path.join(alone, 'node_modules');
      if (!fs.existsSync(made)) return undefined; // the install failed (OpenNext logged it): nothing to keep
      fs.cpSync(made, target, copy);
      try {
        writeAside(dir, entry, (to) => {
          fs.cpSync(made, path.join(to, 'node_modules'), copy);
          fs.writeFileSync(path.join(to, 'entry.json'), JSON.stringify({ format: formatVersion, createdAt: now(), installOptions, files: listFiles(path.join(to, 'node_modules')) }));
        });
        used.add(path.join('installs', key));
        log(`open-next cache: ${what} for ${name} installed and stored`);
      } catch (e) {
        log(`open-next cache: could not store ${what} for ${name}: ${e.message}`);
      }
      return undefined;
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  };

  // Hashes of the files bundles read, once per process (OpenNext's files do not change under a build).
  const fileHashes = new Map();
  const hashOf = (file) => {
    let h = fileHashes.get(file);
    if (h === undefined) {
      try {
        h = sha256(fs.readFileSync(file));
      } catch {
        h = null;
      }
      fileHashes.set(file, h);
    }
    return h;
  };
  // What an entry's inputs (paths esbuild read, relative to `base`) are checked and stored by.
  // The first input whose file no longer hashes as recorded (or ['format'] for an older entry);
  // the first that is no plain file (a namespace such as `ns:x`, or unreadable), which no later
  // build could check; and the inputs with their hashes, as an entry records them.
  const changedInput = (record, base) =>
    record.format === formatVersion ? record.inputs.find(([rel, h]) => hashOf(path.resolve(base, rel)) !== h) : ['format'];
  const uncheckable = (inputs, base) => inputs.find((rel) => /^[\w-]+:/.test(rel) || hashOf(path.resolve(base, rel)) === null);
  const hashedInputs = (inputs, base) => inputs.map((rel) => [rel, hashOf(path.resolve(base, rel))]);

  // A bundle's entry: its key from the options, the config and the packages; `hit` once its
  // stored output is written in place; `off` (with why) when it cannot be cached. Entry points are
  // hashed now, before the build: OpenNext rewrites one bundle in place (its entry is its outfile).
  const lookUp = (esbuildOptions, buildOptions, called) => {
    const base = typeof esbuildOptions?.absWorkingDir === 'string' ? esbuildOptions.absWorkingDir : cwd();
    const outfile = esbuildOptions?.outfile;
    const plugins = Array.isArray(esbuildOptions?.plugins) ? esbuildOptions.plugins : [];
    const why =
      !installStamp ? 'the installed packages OpenNext bundles from are unknown'
        : typeof outfile !== 'string' || !buildOptions || typeof buildOptions.nextVersion !== 'string' ? `OpenNext ${openNextVersion} calls ${called} with arguments of another shape`
          : buildOptions.debug || esbuildOptions.metafile || esbuildOptions.write === false ? 'debug build'
            : plugins.some((p) => !knownPlugin(p?.name)) ? `a plugin it cannot vouch for: ${plugins.find((p) => !knownPlugin(p?.name))?.name}`
              : undefined;
    const what = typeof outfile === 'string' ? path.relative(base, outfile) : 'a bundle';
    if (why) {
      off(`bundle ${what}`, why);
      return { off: true };
    }
    const started = performance.now();
    // Paths inside the build's own folder differ from build to build: they enter the key relative to it.
    const options = describeValue({ ...esbuildOptions, plugins: plugins.map((p) => p.name) }).split(JSON.stringify(base).slice(1, -1)).join('<cwd>');
    const config = describeValue(buildOptions.config ?? null);
    const key = sha256(
      JSON.stringify([formatVersion, openNextVersion, installStamp, buildOptions.nextVersion, Boolean(buildOptions.minify), path.relative(base, buildOptions.openNextDistDir ?? ''), called]),
      config,
      options,
    );
    const entry = path.join(dir, 'bundles', key);
    for (const e of Array.isArray(esbuildOptions.entryPoints) ? esbuildOptions.entryPoints : []) if (typeof e === 'string') hashOf(path.resolve(base, e));
    try {
      const record = JSON.parse(fs.readFileSync(path.join(entry, 'entry.json'), 'utf8'));
      const changed = changedInput(record, base);
      const outputs = changed ? [] : record.outputs.map(([rel, h], i) => ({ rel, h, data: fs.readFileSync(path.join(entry, 'out', String(i))) }));
      if (changed) {
        log(`open-next cache: bundle ${what} built again (${changed[0]} changed)`);
      } else if (outputs.every((o) => sha256(o.data) === o.h)) {
        for (const o of outputs) {
          const to = path.resolve(base, o.rel);
          fs.mkdirSync(path.dirname(to), { recursive: true });
          fs.writeFileSync(to, o.data);
          fileHashes.delete(to);
        }
        used.add(path.join('bundles', key));
        log(`open-next cache: bundle ${what} reused (${record.inputs.length} inputs unchanged, ${Math.round(performance.now() - started)} ms)`);
        return { hit: true };
      }
    } catch {
      // no entry, or a damaged one: bundle
    }
    return { base, outfile, what, key, entry };
  };

  // After a bundle was built: its inputs (as esbuild's metafile lists them, hashed as they were
  // before the build) and outputs stored as an entry, unless one cannot serve another build.
  const store = ({ base, outfile, what, key, entry }, metafile) => {
    // OpenNext writes the metafile beside the bundle when there is one (its debug mode): not this time.
    fs.rmSync(`${outfile}.meta.json`, { force: true });
    try {
      const inputs = Object.keys(metafile?.inputs ?? {}).sort();
      const outputs = Object.keys(metafile?.outputs ?? {}).sort();
      // Only plain files can be checked again; an output naming this build's folder cannot serve another.
      const virtual = uncheckable(inputs, base);
      const data = outputs.map((rel) => fs.readFileSync(path.resolve(base, rel)));
      const local = data.some((d) => ownFolders(base).some((f) => d.includes(f)));
      if (outputs.length === 0 || virtual || local) {
        log(`open-next cache: bundle ${what} not stored (${outputs.length === 0 ? 'esbuild reported no output' : virtual ? `it read ${virtual}, not a file` : 'it names the build\'s folder'})`);
        return;
      }
      writeAside(dir, entry, (to) => {
        fs.mkdirSync(path.join(to, 'out'), { recursive: true });
        data.forEach((d, i) => fs.writeFileSync(path.join(to, 'out', String(i)), d));
        const record = { format: formatVersion, inputs: hashedInputs(inputs, base), outputs: outputs.map((rel, i) => [rel, sha256(data[i])]) };
        fs.writeFileSync(path.join(to, 'entry.json'), JSON.stringify(record));
      });
      used.add(path.join('bundles', key));
      log(`open-next cache: bundle ${what} built and stored (${inputs.length} inputs)`);
    } catch (e) {
      log(`open-next cache: could not store bundle ${what}: ${e.message}`);
    } finally {
      for (const rel of Object.keys(metafile?.outputs ?? {})) fileHashes.delete(path.resolve(base, rel));
    }
  };

  /** OpenNext's `esbuildAsync` through the cache: its metafile is taken from a plugin's onEnd. */
  const bundle = async (original, args) => {
    const [esbuildOptions, buildOptions] = args;
    const found = lookUp(esbuildOptions, buildOptions, 'esbuildAsync');
    if (found.off) return original(...args);
    if (found.hit) return undefined;
    let metafile;
    const capture = { name: 'shiplog-metafile', setup: (b) => b.onEnd((r) => void (metafile = r.metafile)) };
    const result = await original({ ...esbuildOptions, metafile: true, plugins: [capture, ...(esbuildOptions.plugins ?? [])] }, buildOptions);
    store(found, metafile);
    return result;
  };

  /**
   * OpenNext's `esbuildSync` through the cache (no plugins there): `onResult(fn)` has the next
   * esbuild result handed to `fn` (hooks.mjs wraps the buildSync that esbuildSync calls).
   */
  const bundleSync = (original, args, onResult) => {
    const [esbuildOptions, buildOptions] = args;
    const found = typeof onResult === 'function' ? lookUp(esbuildOptions, buildOptions, 'esbuildSync') : { off: true };
    if (found.off) return original(...args);
    if (found.hit) return undefined;
    let metafile;
    onResult((r) => void (metafile = r?.metafile));
    try {
      const result = original({ ...esbuildOptions, metafile: true }, buildOptions);
      store(found, metafile);
      return result;
    } finally {
      onResult(undefined);
    }
  };

  /**
   * OpenNext's `compileOpenNextConfigNode(configPath, outputDir, externals)` through the cache:
   * the compiled config (esbuild's buildSync, a process of its own: about 0.15 s of a warm
   * package step) written again from an entry while every file esbuild read for it hashes the
   * same. Keyed by the config's place in the app, the externals, OpenNext and the installed
   * packages (esbuild among them); `onResult` hands it the build's result, as for esbuildSync.
   */
  const config = (original, args, onResult) => {
    const [configPath, outputDir, externals] = args;
    const why =
      !installStamp ? 'the installed packages OpenNext bundles from are unknown'
        : typeof configPath !== 'string' || typeof outputDir !== 'string' || !Array.isArray(externals) || typeof onResult !== 'function'
          ? `OpenNext ${openNextVersion} calls compileOpenNextConfigNode with arguments of another shape`
          : undefined;
    if (why) {
      off('open-next config', why);
      return original(...args);
    }
    const base = cwd();
    const source = path.resolve(base, configPath);
    // Without the file OpenNext writes a default config itself, with no esbuild.
    if (!fs.existsSync(source)) return original(...args);
    const started = performance.now();
    const what = path.relative(base, source);
    const outfile = path.join(outputDir, 'open-next.config.mjs');
    const key = sha256(JSON.stringify([formatVersion, openNextVersion, installStamp, 'compileOpenNextConfigNode', what, externals.map(String)]));
    const entry = path.join(dir, 'configs', key);
    try {
      const record = JSON.parse(fs.readFileSync(path.join(entry, 'entry.json'), 'utf8'));
      const changed = changedInput(record, base);
      if (changed) {
        log(`open-next cache: config ${what} compiled again (${changed[0]} changed)`);
      } else {
        const data = fs.readFileSync(path.join(entry, 'out'));
        if (sha256(data) === record.output) {
          fs.mkdirSync(outputDir, { recursive: true });
          fs.writeFileSync(outfile, data);
          used.add(path.join('configs', key));
          log(`open-next cache: config ${what} reused (${record.inputs.length} inputs unchanged, ${Math.round(performance.now() - started)} ms)`);
          return outfile;
        }
      }
    } catch {
      // no entry, or a damaged one: compile
    }
    let metafile;
    onResult((r) => void (metafile = r?.metafile));
    let result;
    try {
      result = original(...args);
    } finally {
      onResult(undefined);
    }
    try {
      const inputs = Object.keys(metafile?.inputs ?? {}).sort();
      const virtual = uncheckable(inputs, base);
      const data = fs.readFileSync(outfile);
      const local = [...ownFolders(base), outputDir].some((f) => data.includes(f));
      if (inputs.length === 0 || virtual || local) {
        log(`open-next cache: config ${what} not stored (${inputs.length === 0 ? 'esbuild reported no input' : virtual ? `it read ${virtual}, not a file` : 'it names the build\'s folder'})`);
        return result;
      }
      writeAside(dir, entry, (to) => {
        fs.mkdirSync(to, { recursive: true });
        fs.writeFileSync(path.join(to, 'out'), data);
        fs.writeFileSync(path.join(to, 'entry.json'), JSON.stringify({ format: formatVersion, inputs: hashedInputs(inputs, base), output: sha256(data) }));
      });
      used.add(path.join('configs', key));
      log(`open-next cache: config ${what} compiled and stored (${inputs.length} inputs)`);
    } catch (e) {
      log(`open-next cache: could not store config ${what}: ${e.message}`);
    }
    return result;
  };

  // The server function's traced dependencies, moved out of `.next/standalone` instead of copied
  // (OpenNext copies each traced file: about 1,100 files and 20 MB for a small app, 0.4 s of a warm
  // push here). Only files under a node_modules folder of the standalone output, while the one
  // default function is bundled: nothing reads them there again (the manifests and pages OpenNext
  // reads later are outside node_modules), and the build's scratch goes after it. A config that
  // splits the server into functions copies, as they trace the same files. A file with another link,
  // or one that cannot be renamed, is copied as OpenNext would.
  let moveFrom;
  let moved = 0;
  const serverBundle = async (original, args) => {
    const [options] = args;
    const config = options?.config;
    if (typeof options?.appBuildOutputPath !== 'string' || typeof config !== 'object' || config === null) {
      off('moving traced files', `OpenNext ${openNextVersion} calls createServerBundle with options of another shape`);
      return original(...args);
    }
    if (Object.keys(config.functions ?? {}).length > 0) {
      off('moving traced files', 'the config splits the server into functions, which trace the same files');
      return original(...args);
    }
    moveFrom = path.join(options.appBuildOutputPath, '.next', 'standalone') + path.sep;
    moved = 0;
    try {
      return await original(...args);
    } finally {
      moveFrom = undefined;
      log(`open-next cache: ${moved} traced files moved out of .next/standalone, not copied`);
    }
  };
  const tracedCopy = (original, args) => {
    const [from, to] = args;
    if (moveFrom && typeof from === 'string' && typeof to === 'string' && from.startsWith(moveFrom) && `${path.sep}${from.slice(moveFrom.length)}`.includes(`${path.sep}node_modules${path.sep}`)) {
      let mode;
      try {
        const st = fs.lstatSync(from);
        if (st.isFile() && st.nlink === 1) {
          fs.renameSync(from, to);
          mode = st.mode;
        }
      } catch {
        // copied below, as OpenNext would (an error of the copy is OpenNext's to handle)
      }
      if (mode !== undefined) {
        moved++;
        // What OpenNext's copy makes sure of: its patches write these files.
        if (!(mode & 0o200)) fs.chmodSync(to, mode | 0o200);
        return undefined;
      }
    }
    return original(...args);
  };

  /** Removes every entry this process did not use (and any scratch left by a killed build). */
  const prune = () => {
    let removed = 0;
    for (const kind of ['patches', 'installs', 'bundles', 'configs']) {
      let names;
      try {
        names = fs.readdirSync(path.join(dir, kind));
      } catch {
        continue;
      }
      for (const n of names) {
        if (used.has(path.join(kind, n))) continue;
        fs.rmSync(path.join(dir, kind, n), { recursive: true, force: true });
        removed++;
      }
    }
    fs.rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
    return removed;
  };

  return { codePatches, install, bundle, bundleSync, config, serverBundle, tracedCopy, prune, used };
};

/** The OpenNext versions whose patches and installs the cache was checked against. */
export const supportedVersion = /^4\.1\.\d+$/;

/**
 * What names the packages installed beside OpenNext (esbuild and what OpenNext bundles from):
 * a hash of OpenNext's package.json and npm's record of that node_modules (`.package-lock.json`,
 * rewritten by every install); undefined when there is no such record.
 */
const installStampOf = (packageJsonUrl) => {
  const pkg = fs.realpathSync(new URL(packageJsonUrl));
  let modules = path.dirname(pkg);
  while (path.basename(modules) !== 'node_modules' && path.dirname(modules) !== modules) modules = path.dirname(modules);
  try {
    return sha256(fs.readFileSync(pkg), fs.readFileSync(path.join(modules, '.package-lock.json')));
  } catch {
    return undefined;
  }
};

let processCache;
/** The cache of this process, from `SHIPLOG_OPEN_NEXT_CACHE`; null when unset or OpenNext's version is unreadable. */
const cacheOfProcess = (packageJsonUrl) => {
  if (processCache !== undefined) return processCache;
  processCache = null;
  const dir = process.env.SHIPLOG_OPEN_NEXT_CACHE;
  const log = (line) => console.log(line);
  if (!dir) return processCache;
  let openNextVersion;
  try {
    openNextVersion = JSON.parse(fs.readFileSync(new URL(packageJsonUrl), 'utf8')).version;
  } catch {
    // below
  }
  if (typeof openNextVersion !== 'string') {
    log('open-next cache: off (the version of @opennextjs/aws is unreadable)');
    return processCache;
  }
  if (!supportedVersion.test(openNextVersion)) {
    log(`open-next cache: off (made for @opennextjs/aws 4.1, whose code patches read nothing but the code; this is ${openNextVersion})`);
    return processCache;
  }
  processCache = createCache({ dir, openNextVersion, log, installStamp: installStampOf(packageJsonUrl) });
  process.on('exit', (code) => {
    if (code !== 0 || process.exitCode > 0) return;
    try {
      const removed = processCache.prune();
      if (removed > 0) log(`open-next cache: ${removed} entries this build did not use removed`);
    } catch (e) {
      log(`open-next cache: not pruned: ${e.message}`);
    }
  });
  return processCache;
};

/** What hooks.mjs puts in place of OpenNext's `applyCodePatches`. */
export const cachedCodePatches = async (original, args, packageJsonUrl, bundlerOf) => {
  const cache = cacheOfProcess(packageJsonUrl);
  return cache ? cache.codePatches(original, args, bundlerOf) : original(...args);
};

/** What hooks.mjs puts in place of OpenNext's `esbuildAsync`. */
export const cachedBundle = (original, args, packageJsonUrl) => {
  const cache = cacheOfProcess(packageJsonUrl);
  return cache ? cache.bundle(original, args) : original(...args);
};

/** What hooks.mjs puts in place of OpenNext's `esbuildSync`. */
export const cachedBundleSync = (original, args, packageJsonUrl, onResult) => {
  const cache = cacheOfProcess(packageJsonUrl);
  return cache ? cache.bundleSync(original, args, onResult) : original(...args);
};

/** What hooks.mjs puts in place of OpenNext's `compileOpenNextConfigNode`. */
export const cachedConfig = (original, args, packageJsonUrl, onResult) => {
  const cache = cacheOfProcess(packageJsonUrl);
  return cache ? cache.config(original, args, onResult) : original(...args);
};

/** What hooks.mjs puts in place of OpenNext's `installDependencies`. */
export const cachedInstall = (original, args, packageJsonUrl) => {
  const cache = cacheOfProcess(packageJsonUrl);
  return cache ? cache.install(original, ...args) : original(...args);
};

/** What hooks.mjs puts in place of OpenNext's `createServerBundle`. */
export const cachedServerBundle = (original, args, packageJsonUrl) => {
  const cache = cacheOfProcess(packageJsonUrl);
  return cache ? cache.serverBundle(original, args) : original(...args);
};

/** What hooks.mjs puts in place of OpenNext's `copyFileAndMakeOwnerWritable` (its copy of a traced file). */
export const cachedTracedCopy = (original, args, packageJsonUrl) => {
  const cache = cacheOfProcess(packageJsonUrl);
  return cache ? cache.tracedCopy(original, args) : original(...args);
};
