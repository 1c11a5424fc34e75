import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import type { BuildFailureKind, BuildJob, BuildOutcome, BuildRunner, LogStream, RunningBuild } from '../../ports.ts';
import { buildEnv, type BuildPhase } from './build-env.ts';
import { runProcess, type ProcessResult } from './process.ts';
import {
  imageResponseHeaders, imageResponseHeadersLine, imagesOff, imagesOffLine, imageResponseHeadersWarning, routingLocales, routingLocalesLine, routingLocalesWarning, edgeRouteEnv, emptyNextConfigLine, ensureNextConfig, isStaticExport, jsNamedGroupsInMiddlewareManifest, missingNextBuild, nextTrailingSlashRedirects, nodeLoadableEdgeFunctions, pagesFallbackEntries, pagesFallbackEntriesLine, staticExportMessage,
  trailingSlashRedirectsLine,
} from './build-output.ts';
import { openNextBuildArgs } from './open-next-args.mjs';
import { writeOpenNextConfig } from './open-next-config.ts';
import { chooseBuild, chooseInstall, installShellCommand, readBuildScript, readInstallSite } from './install-command.ts';
import { nodeCheckScript } from './node-version.ts';
import { installKey, projectCache, storeEnv } from './build-cache.ts';
import { killRecordedGroup, recordProcess, type ProcessRecord } from './process-record.ts';
import { checkArtifactLinks, insideReal, isInside } from './artifact-links.ts';
import { sandboxFromEnv, type Sandbox } from './sandbox.ts';

/**
 * Options of {@link localBuildRunner}.
 *
 * @example
 * localBuildRunner({ workRoot: '.shiplog/builds', inheritEnv: ['GITHUB_TOKEN'] });
 */
export interface LocalBuildRunnerOptions {
  /** Each build gets `<workRoot>/<deploymentId>/`: `src/` while building, then `artifact/`. */
  workRoot: string;
  /** The OpenNext CLI (`dist/index.js` of `@opennextjs/aws`); shiplog's own by default. */
  openNextBin?: string;
  /** More host variables a build may see, on top of `inheritedNames`. */
  inheritEnv?: string[];
  /** Keep `src/` (with node_modules) after the build, for debugging. */
  keepSource?: boolean;
  killGraceMs?: number;
  /** Where the commands run; bubblewrap by default (`SHIPLOG_UNSAFE_NO_SANDBOX=1`: none). */
  sandbox?: Sandbox;
  /** Each project's build cache (`build-cache.ts`); `<workRoot>/.cache` by default, `false`: none. */
  cacheRoot?: string | false;
}

const require = createRequire(import.meta.url);
const tailSize = 50;
// The loader hooks that cache OpenNext's code patches and installs (plain ES modules, bound read-only into the sandbox).
const openNextCacheHooks = fileURLToPath(new URL('./open-next-cache/', import.meta.url));
// `open-next build` started ahead, while next build runs (a plain ES module, bound read-only into the sandbox).
const openNextPackager = fileURLToPath(new URL('./open-next-packager.mjs', import.meta.url));
// What it imports: the arguments of open-next build, shared with the buildspec (bound beside it).
const openNextArgsModule = fileURLToPath(new URL('./open-next-args.mjs', import.meta.url));
// The checkout, `sh -c <this> checkout <repo> <sha>` (logged with the two filled in).
const checkoutScript =
  'git init --quiet && { git fetch --quiet --depth 1 -- "$1" "$2" || git fetch --quiet -- "$1" "$2"; } && git checkout --quiet --detach FETCH_HEAD';
const lockfiles = ['bun.lockb', 'bun.lock', 'package-lock.json', 'yarn.lock', 'pnpm-lock.yaml'];

/**
 * Removes a tree put aside, in a child process at the lowest CPU priority (`nice -n 19 rm -rf`):
 * a build's scratch is thousands of entries, and fs.rm walks them with callbacks on shiplog's own
 * event loop just as the deployment is published and its function starts. fs.rm when the child
 * cannot run or fails. Never rejects.
 */
export const removeAside = (what: string): Promise<void> =>
  new Promise<void>((done) => {
    let settled = false;
    const fallback = () => {
      if (settled) return;
      settled = true;
      void rm(what, { recursive: true, force: true }).catch(() => undefined).then(() => done());
    };
    let child: ChildProcess;
    try {
      child = spawn('nice', ['-n', '19', 'rm', '-rf', '--', what], { stdio: 'ignore' });
    } catch {
      return fallback();
    }
    child.once('error', fallback);
    child.once('exit', (code) => {
      if (code !== 0) return fallback();
      settled = true;
      done();
    });
  });

/** The directory OpenNext treats as the repository root: the nearest one up with a lockfile. */
const findLockfileRoot = (appDir: string): string | undefined => {
  for (let dir = appDir; ; dir = dirname(dir)) {
    if (lockfiles.some((f) => existsSync(join(dir, f)))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
};

const readVersion = async (pkgJson: string): Promise<string | null> => {
  try {
    return (JSON.parse(await readFile(pkgJson, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
};

const nextVersion = async (appDir: string, src: string): Promise<string | null> => {
  try {
    const pkg = createRequire(join(appDir, 'package.json')).resolve('next/package.json');
    return (await insideReal(src, pkg)) ? await readVersion(pkg) : null;
  } catch {
    return null;
  }
};

const describeExit = (r: ProcessResult) => (r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`);

/**
 * Builds on this machine: a fresh checkout of the commit, the install and build commands in a
 * shell, then `open-next build` from shiplog's own `@opennextjs/aws`. Every command runs in its
 * own process group with a scrubbed environment (see `buildEnv`); cancel and the timeout kill
 * the group.
 *
 * @example
 * const runner = localBuildRunner({ workRoot: '/var/lib/shiplog/builds' });
 * const { outcome, cancel } = runner.start(job, (line, stream) => console.log(stream, line));
 * const result = await outcome; // { ok: true, artifactDir: '/var/lib/shiplog/builds/01JD…/artifact', … }
 */
export const localBuildRunner = (opts: LocalBuildRunnerOptions): BuildRunner => {
  const openNextBin = opts.openNextBin ?? require.resolve('@opennextjs/aws/index.js');
  const sandbox = opts.sandbox ?? sandboxFromEnv();
  // The packages OpenNext runs from (shiplog's own node_modules), bound read-only into the sandbox.
  let modules = dirname(openNextBin);
  while (basename(modules) !== 'node_modules' && dirname(modules) !== modules) modules = dirname(modules);
  // Finished builds' scratch, renamed here (same file system) and removed in the background; what a
  // stopped shiplog left here goes when the next runner starts.
  const trash = resolve(opts.workRoot, '.trash');
  void removeAside(trash);
  const putAside = async (paths: string[], name: string) => {
    const aside = join(trash, `${name}-${randomBytes(4).toString('hex')}`);
    await mkdir(aside, { recursive: true });
    const moved = await Promise.all(paths.map((p, i) => rename(p, join(aside, String(i))).then(() => true, () => false)));
    // What could not be moved (another file system, say) is removed where it is, as before.
    await Promise.all(paths.filter((_, i) => !moved[i]).map((p) => rm(p, { recursive: true, force: true }).catch(() => undefined)));
    void removeAside(aside);
  };
  return {
    start(job: BuildJob, onLog: (line: string, stream: LogStream) => void): RunningBuild {
      // The deployment id names a directory that gets deleted: refuse anything but a plain name.
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(job.deploymentId)) {
        const message = `unsafe deploymentId "${job.deploymentId}"`;
        return { outcome: Promise.resolve({ ok: false, reason: 'infrastructure', exitCode: null, message, logTail: [] }), cancel: () => undefined };
      }
      const ctl = new AbortController();
      let stop: { kind: 'canceled' | 'timed-out'; message: string } | undefined;
      const halt = (kind: 'canceled' | 'timed-out', message: string) => {
        if (stop) return;
        stop = { kind, message };
        ctl.abort();
      };
      const timer = setTimeout(() => halt('timed-out', `build exceeded its ${job.timeoutMs} ms limit`), job.timeoutMs);
      const tail: string[] = [];
      const log = (line: string, stream: LogStream) => {
        tail.push(line);
        if (tail.length > tailSize) tail.shift();
        try {
          onLog(line, stream);
        } catch {
          // A broken log sink must not break the build.
        }
      };
      const fail = (reason: BuildFailureKind, exitCode: number | null, message: string): BuildOutcome => {
        if (stop) [reason, exitCode, message] = [stop.kind, null, stop.message];
        log(`build failed (${reason}): ${message}`, 'system');
        return { ok: false, reason, exitCode, message: message.slice(0, 2000), logTail: [...tail] };
      };
      const dir = resolve(opts.workRoot, job.deploymentId);
      const src = join(dir, 'src');
      // Every phase's temporary files (npm, Next, OpenNext's config scratch) go with the build.
      const tmp = join(dir, 'tmp');
      // Its HOME (npm's cache lives there), so nothing of shiplog's own HOME is needed or seen.
      const home = join(dir, 'home');
      const store = join(home, '.store');
      const cache = opts.cacheRoot === false ? undefined : projectCache(opts.cacheRoot ?? resolve(opts.workRoot, '.cache'), job.projectId);
      // What the build may leave to the cache: set as each part of it succeeds.
      const leaves: { installDir?: string; key?: string; appDir?: string } = {};
      let created = false;
      // A repository on this machine (shiplog's own git remote) is bound read-only for the checkout.
      const localRepo = !/^[a-z][a-z0-9+.-]*:\/\//i.test(job.repo) && job.repo.startsWith('/') ? job.repo : undefined;

      // Every process group the build has running, in its work dir: a restart kills what a killed
      // shiplog left running. `pgid` is the phase's command, `ahead` the packager while it waits.
      const groups: Omit<ProcessRecord, 'bootId'> & { ahead: number[] } = { phase: 'checkout', pgid: null, ahead: [] };
      const record = (change: Partial<typeof groups>) => {
        Object.assign(groups, change);
        recordProcess(dir, groups);
      };

      const prepare = (phase: BuildPhase, cwd: string, extra: Record<string, string>) => {
        const env: Record<string, string> = { ...buildEnv(job, phase, process.env, opts.inheritEnv ?? []), TMPDIR: tmp };
        if (sandbox.kind !== 'none') {
          // Host paths mean nothing inside the sandbox; the build's own take their place.
          delete env.npm_config_userconfig;
          Object.assign(env, { HOME: home, npm_config_cache: join(home, '.npm') });
        }
        // The package managers' store lives in the build's HOME (and moves to the project's cache after it).
        if (phase !== 'checkout') Object.assign(env, storeEnv(store));
        Object.assign(env, extra);
        const spec = {
          cwd,
          env,
          // The build writes only its own src/, tmp/ and home/ (not its folder: shiplog's records live there).
          writable: [src, tmp, home],
          readOnly: [
            modules,
            ...(phase === 'checkout' && localRepo ? [localRepo] : []),
            ...(phase === 'package' ? [openNextPackager, openNextArgsModule, ...(cache ? [openNextCacheHooks] : [])] : []),
          ],
          network: phase === 'checkout' && localRepo ? ('none' as const) : ('outside' as const),
        };
        return { env, spec };
      };

      // `shown`: the command as the log shows it, when not `args[1]` of a shell or the command line.
      const run = async (phase: BuildPhase, cwd: string, cmd: string, args: string[], extra: Record<string, string> = {}, shown?: string) => {
        log(`$ ${shown ?? (cmd === 'sh' ? args[1] : [cmd, ...args].join(' '))}`, 'system');
        const { env, spec } = prepare(phase, cwd, extra);
        const spawn = (c: string, a: string[], o: { cwd: string; env: Record<string, string> }) => sandbox.spawn(c, a, { ...spec, ...o });
        const r = await runProcess(cmd, args, { cwd, env, signal: ctl.signal, onLine: log, killGraceMs: opts.killGraceMs, onSpawn: (pgid) => record({ phase, pgid }), spawn });
        record({ phase, pgid: null });
        return r;
      };

      // The Node check (node-version.ts) only reports: one line, the version that builds and what
      // the app asks for, never a failure. It runs beside the cache restores and, when node_modules
      // come back from the cache, beside the build command (about 0.15 s of a warm build: a
      // sandboxed node's start); an install command waits for it. Its lines are held and logged
      // together when it ends, its group recorded beside the phase's command meanwhile.
      let nodeCheck: Promise<void> | undefined;
      const checkNode = async (appDir: string): Promise<void> => {
        const args = [join(tmp, 'node-check.mjs'), 'report', appDir, src];
        const { env, spec } = prepare('install', appDir, job.nodeVersion ? { SHIPLOG_PROJECT_NODE_VERSION: job.nodeVersion } : {});
        const held: [string, LogStream][] = [];
        let pgid: number | null = null;
        await runProcess('node', args, {
          cwd: appDir, env, signal: ctl.signal, killGraceMs: opts.killGraceMs,
          onLine: (line, stream) => held.push([line, stream]),
          onSpawn: (p) => {
            pgid = p;
            record({ ahead: [...groups.ahead, p] });
          },
          spawn: (c, a, o) => sandbox.spawn(c, a, { ...spec, ...o }),
        });
        if (pgid !== null) record({ ahead: groups.ahead.filter((g) => g !== pgid) });
        log(`$ ${['node', ...args].join(' ')}`, 'system');
        for (const [line, stream] of held) log(line, stream);
      };

      // `open-next build`, started while next build runs (open-next-packager.mjs): OpenNext and the
      // cache hooks load meanwhile, and it builds at `go`, once next build has succeeded. Its lines
      // wait until then; `stop` kills its group (next build failed, the build ended otherwise).
      interface Packager {
        go(configPath: string): Promise<ProcessResult>;
        stop(): Promise<ProcessResult>;
      }
      let packager: Packager | undefined;
      const startPackager = (appDir: string): Packager => {
        const stopped = new AbortController();
        const hooks = cache ? ['--import', pathToFileURL(join(openNextCacheHooks, 'register.mjs')).href] : [];
        // Its cache lives in the project's package store (moved in and out with it, never shared between projects).
        const { env, spec } = prepare('package', appDir, cache ? { SHIPLOG_OPEN_NEXT_CACHE: join(store, 'open-next') } : {});
        let held: [string, LogStream][] | null = [];
        let child: ChildProcess | undefined;
        let pgid: number | null = null;
        let ended = false;
        const result = runProcess(process.execPath, [...hooks, openNextPackager, openNextBin], {
          cwd: appDir, env, signal: AbortSignal.any([ctl.signal, stopped.signal]), killGraceMs: opts.killGraceMs,
          onLine: (line, stream) => (held ? held.push([line, stream]) : log(line, stream)),
          onSpawn: (p) => {
            pgid = p;
            record({ ahead: [...groups.ahead, p] });
          },
          spawn: (c, a, o) => (child = sandbox.spawn(c, a, { ...spec, ...o }, { ipc: true })),
        }).then((r) => {
          ended = true;
          if (pgid !== null) record(groups.pgid === pgid ? { pgid: null } : { ahead: groups.ahead.filter((g) => g !== pgid) });
          return r;
        });
        return {
          go: (configPath) => {
            log(`$ ${[process.execPath, ...hooks, openNextBin, ...openNextBuildArgs(configPath)].join(' ')} (loaded while next build ran)`, 'system');
            for (const [line, stream] of held ?? []) log(line, stream);
            held = null;
            if (!ended) {
              record({ phase: 'package', pgid, ahead: groups.ahead.filter((g) => g !== pgid) });
              child?.send({ configPath }, () => undefined);
            }
            return result;
          },
          stop: () => {
            stopped.abort();
            return result;
          },
        };
      };

      const build = async (): Promise<BuildOutcome> => {
        if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(job.sha)) return fail('checkout-failed', null, `not a full commit sha: "${job.sha}"`);
        const appDir = resolve(src, job.rootDir || '.');
        if (!isInside(src, appDir)) return fail('checkout-failed', null, `rootDir "${job.rootDir}" leaves the repository`);
        created = true;
        // A resumed build: whatever the interrupted run left running in this folder dies first.
        await killRecordedGroup(dir);
        await rm(dir, { recursive: true, force: true });
        await Promise.all([mkdir(src, { recursive: true }), mkdir(tmp, { recursive: true }), mkdir(home, { recursive: true })]);
        for (const d of [src, tmp, home]) await sandbox.own(d);
        // A repository on this machine is owned by shiplog's user, not the sandbox's: git must still read it.
        if (sandbox.kind !== 'none' && localRepo) await writeFile(join(home, '.gitconfig'), '[safe]\n\tdirectory = *\n', { flag: 'wx' });

        // 1. checkout: a shallow fetch of the one commit, a full fetch if the remote refuses it. One
        // shell runs the git commands (as the AWS buildspec does): one sandbox to set up, not three
        // or four (each about 0.1 s of a warm push). The repository and sha are its arguments, never
        // part of the script.
        let t = performance.now();
        const shown = checkoutScript.replaceAll('"$1"', job.repo).replaceAll('"$2"', job.sha);
        let r = await run('checkout', src, 'sh', ['-c', checkoutScript, 'checkout', job.repo, job.sha], {}, shown);
        if (r.spawnError) return fail('infrastructure', null, `sh could not start: ${r.spawnError.message}`);
        if (r.exitCode === 127) return fail('infrastructure', null, 'git could not start (not found)');
        if (r.exitCode !== 0) return fail('checkout-failed', r.exitCode, `could not check out ${job.sha} from ${job.repo}: git ${describeExit(r)}`);
        if (!existsSync(appDir)) return fail('checkout-failed', null, `rootDir "${job.rootDir}" does not exist at ${job.sha}`);
        // The tree is the user's: a rootDir through a symlink must not lead shiplog out of it.
        if (!(await insideReal(src, appDir))) return fail('checkout-failed', null, `rootDir "${job.rootDir}" leaves the repository`);
        const checkout = performance.now() - t;

        // 2. install: the Node check, the build cache, then the project's command or the detected one
        t = performance.now();
        await writeFile(join(tmp, 'node-check.mjs'), nodeCheckScript);
        nodeCheck = checkNode(appDir);
        if (cache) log(await cache.restoreStore(store), 'system');
        else log(opts.cacheRoot === false ? 'build cache: off' : `build cache: off (project id "${job.projectId}" cannot name a folder)`, 'system');
        // The project's own command runs in rootDir; the detected one where the lockfile is (a monorepo's root).
        const site = readInstallSite(appDir, src);
        const plan = chooseInstall(site.inputs);
        const detected = job.installCommand ? undefined : plan;
        const installDir = detected ? site.dir : appDir;
        if (detected) log(`install: ${detected.manager}, detected from ${detected.reason}: ${detected.command} (in ${relative(src, installDir) || '.'})`, 'system');
        else log(`install: the project's command: ${job.installCommand}`, 'system');
        const installCommand = detected ? installShellCommand(detected) : job.installCommand;
        // node_modules come back only for the same detected install pinned by a lockfile (key); then it is skipped.
        const key = detected && site.inputs.lockfiles.length > 0 ? installKey(installDir, installCommand) : undefined;
        const modules = cache && key ? await cache.restoreModules(installDir, key) : undefined;
        if (modules) log(modules.line, 'system');
        else if (cache) log(`build cache: node_modules are kept only for detected installs a lockfile pins (${detected ? 'no lockfile' : 'the project sets its install command'})`, 'system');
        if (modules?.restored) {
          log('install: skipped, node_modules restored for this exact lockfile', 'system');
        } else {
          // An install's output (and its failure) comes after the Node check's line.
          await nodeCheck;
          r = await run('install', installDir, 'sh', ['-c', installCommand]);
          if (r.spawnError) return fail('infrastructure', null, `sh could not start: ${r.spawnError.message}`);
          if (r.exitCode !== 0) return fail('install-failed', r.exitCode, `install command "${installCommand}" ${describeExit(r)}`);
        }
        Object.assign(leaves, { installDir, key });
        const install = performance.now() - t;

        // 3. build, in the standalone mode OpenNext packages from (what `open-next build` would set)
        const traceRoot = findLockfileRoot(appDir);
        if (!traceRoot || !isInside(src, traceRoot)) {
          return fail('build-failed', null, 'no lockfile (package-lock.json, yarn.lock, pnpm-lock.yaml, bun.lock) in the repository');
        }
        t = performance.now();
        if (cache) {
          // The folder the cache lands in is the build's (the sandbox user's), as if next build had made it.
          if (!existsSync(join(appDir, '.next'))) {
            await mkdir(join(appDir, '.next'));
            await sandbox.own(join(appDir, '.next'));
          }
          log(await cache.restoreNextCache(appDir), 'system');
        }
        // The project's command, else the app's build script with its package manager, else next build.
        const chosen = job.buildCommand ? undefined : chooseBuild(plan, readBuildScript(appDir));
        log(chosen ? `build: ${chosen.reason}: ${chosen.command}` : `build: the project's command: ${job.buildCommand}`, 'system');
        const buildCommand = chosen?.command ?? job.buildCommand;
        packager = startPackager(appDir);
        r = await run('build', appDir, 'sh', ['-c', chosen?.line ?? job.buildCommand], {
          NEXT_PRIVATE_STANDALONE: 'true',
          NEXT_PRIVATE_OUTPUT_TRACE_ROOT: traceRoot,
        }, buildCommand);
        // Long over (it ran beside the build command): its line comes before what follows the build.
        await nodeCheck;
        leaves.appDir = appDir;
        if (r.exitCode !== 0) return fail('build-failed', r.exitCode, `build command "${buildCommand}" ${describeExit(r)}`);
        const buildMs = performance.now() - t;

        // 4. package with OpenNext, its own build step turned off
        t = performance.now();
        if (!(await insideReal(src, appDir))) return fail('build-failed', null, `rootDir "${job.rootDir}" leaves the repository`);
        if (await isStaticExport(appDir)) return fail('build-failed', null, staticExportMessage);
        const missing = await missingNextBuild(appDir);
        if (missing) return fail('build-failed', null, missing);
        const groups = await jsNamedGroupsInMiddlewareManifest(appDir);
        if (groups > 0) log(`middleware manifest: ${groups} route matcher(s) rewritten from (?P<name> to JavaScript's (?<name>, which OpenNext compiles them as`, 'system');
        if (await ensureNextConfig(appDir)) log(emptyNextConfigLine, 'system');
        const config = await writeOpenNextConfig(appDir);
        log(config.own ? 'using the app\'s open-next.config.ts' : 'no open-next.config.ts: using shiplog\'s local config', 'system');
        r = await packager.go(relative(appDir, config.path));
        const output = join(appDir, '.open-next');
        if (r.spawnError) return fail('infrastructure', null, `node could not start: ${r.spawnError.message}`);
        if (r.exitCode !== 0) return fail('package-failed', r.exitCode, `open-next build ${describeExit(r)}`);
        if (!existsSync(join(output, 'open-next.output.json'))) return fail('package-failed', null, 'open-next build left no .open-next/open-next.output.json');
        const artifactDir = join(dir, 'artifact');
        if (!(await lstat(output)).isDirectory()) return fail('package-failed', null, '.open-next is not a directory');
        await rename(output, artifactDir);
        // Published by shiplog's own user, links followed: none may point outside the artifact.
        const escaping = await checkArtifactLinks(artifactDir);
        if (escaping) return fail('package-failed', null, `the build output links outside itself: ${escaping}`);
        const slashes = await nextTrailingSlashRedirects(artifactDir);
        if (slashes > 0) log(trailingSlashRedirectsLine(slashes), 'system');
        const fallbacks = await pagesFallbackEntries(artifactDir);
        if (fallbacks > 0) log(pagesFallbackEntriesLine(fallbacks), 'system');
        const [localized, unlocalized] = await routingLocales(artifactDir);
        if (localized > 0) log(routingLocalesLine(localized), 'system');
        if (unlocalized > 0) log(routingLocalesWarning(unlocalized), 'system');
        const imagesOffNow = await imagesOff(artifactDir);
        if (imagesOffNow > 0) log(imagesOffLine(imagesOffNow), 'system');
        const [imageFixed, imageMissing] = await imageResponseHeaders(artifactDir);
        if (imageFixed > 0) log(imageResponseHeadersLine(imageFixed), 'system');
        if (imageMissing > 0) log(imageResponseHeadersWarning(imageMissing), 'system');
        const edgeEnv = await edgeRouteEnv(appDir);
        const edge = await nodeLoadableEdgeFunctions(artifactDir, edgeEnv);
        if (edge.length > 0) {
          log(`edge functions made to run in Node as under next start (process imported whole, the build's edge env set: ${Object.keys(edgeEnv).join(', ') || 'none'}): ${edge.join(', ')}`, 'system');
        }
        const pack = performance.now() - t;

        const versions = {
          next: await nextVersion(appDir, src),
          openNext: (await readVersion(join(dirname(openNextBin), '..', 'package.json'))) ?? 'unknown',
        };
        const durationsMs = { checkout: Math.round(checkout), install: Math.round(install), build: Math.round(buildMs), package: Math.round(pack) };
        log(`build succeeded in ${Object.entries(durationsMs).map(([k, v]) => `${k} ${v} ms`).join(', ')}`, 'system');
        return { ok: true, artifactDir, durationsMs, versions };
      };

      const outcome = build()
        .catch((e: unknown) => fail('infrastructure', null, e instanceof Error ? e.message : String(e)))
        .then(async (o) => {
          clearTimeout(timer);
          // A build that ended early (canceled, failed) leaves no Node check running beside it.
          await nodeCheck;
          // A packager that never got to build (next build failed, the build stopped) dies before anything else.
          await packager?.stop();
          // The store always (its content is checked by the package managers), node_modules after a
          // successful install, .next/cache after a build command ran; never from a kept source.
          if (cache && created && !opts.keepSource && !stop) {
            await cache.save({ store, ...leaves }).then((line) => log(line, 'system'), (e: Error) => log(`build cache: not saved: ${e.message}`, 'system'));
          }
          // A finished build runs nothing: its process record goes with its scratch space. A failed
          // build's folder goes at once; a successful one's scratch (its checkout, .next and all) is
          // moved aside and removed after the outcome is reported: the artifact waits for nothing.
          if (created && !opts.keepSource) {
            if (o.ok) await putAside([src, tmp, home, join(dir, 'process.json')], job.deploymentId);
            else await rm(dir, { recursive: true, force: true }).catch(() => undefined);
          }
          return o;
        });
      return { outcome, cancel: (reason) => halt('canceled', `canceled: ${reason}`) };
    },
  };
};
