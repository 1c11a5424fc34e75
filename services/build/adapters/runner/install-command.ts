import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * What the install step found in the checkout: the lockfiles of the nearest directory (from the
 * app up to the repository root) that has any, whether that directory has a `.yarnrc.yml`, and
 * the app's `packageManager` field (`pnpm@9.15.0`, `yarn@4.5.1+sha512…`).
 *
 * @example
 * const seen: InstallInputs = { lockfiles: ['pnpm-lock.yaml'], yarnrcYml: false, packageManager: 'pnpm@9.15.0' };
 */
export interface InstallInputs {
  lockfiles: string[];
  yarnrcYml: boolean;
  packageManager?: string;
}

/**
 * The install a build runs, and why: the package manager, the shell command, and the reason
 * shown in the build log.
 *
 * @example
 * const plan: InstallPlan = { manager: 'pnpm', command: 'pnpm install --frozen-lockfile', runBuild: 'pnpm run build', corepack: true, reason: 'pnpm-lock.yaml' };
 */
export interface InstallPlan {
  manager: 'npm' | 'pnpm' | 'yarn' | 'bun';
  command: string;
  /** How this manager runs the app's `build` script (`pnpm run build`): see {@link chooseBuild}. */
  runBuild: string;
  /** pnpm and yarn come through corepack (at the version `packageManager` pins, else corepack's default). */
  corepack: boolean;
  /**
   * bun, which corepack does not bring: the npm package installed into the build's own folder
   * when the machine has no `bun` (the version `packageManager` pins, else the latest 1.x).
   */
  fromNpm?: string;
  reason: string;
}

/** The lockfiles each package manager writes, in the order Vercel's detection tries them. */
export const lockfileNames = ['pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package-lock.json', 'npm-shrinkwrap.json'] as const;

/**
 * The decision table of {@link chooseInstall}, as data: each manager's install with a lockfile
 * (`frozen`) and without (`plain`), and whether corepack brings it. Yarn 2+ (`berry`) has its own
 * row. The same table is compiled into {@link installDetectScript}, which decides on CodeBuild.
 *
 * @example
 * installTable.pnpm.frozen; // 'pnpm install --frozen-lockfile'
 */
export const installTable = {
  npm: { frozen: 'npm ci', plain: 'npm install', runBuild: 'npm run build', corepack: false },
  pnpm: { frozen: 'pnpm install --frozen-lockfile', plain: 'pnpm install', runBuild: 'pnpm run build', corepack: true },
  yarn: { frozen: 'yarn install --frozen-lockfile', plain: 'yarn install', runBuild: 'yarn run build', corepack: true },
  // Yarn 2+ links a node_modules tree whatever .yarnrc.yml says: Next's standalone output and
  // OpenNext trace files in node_modules, and a Plug'n'Play install (yarn's default) has none.
  berry: { frozen: 'YARN_NODE_LINKER=node-modules yarn install --immutable', plain: 'YARN_NODE_LINKER=node-modules yarn install', runBuild: 'yarn run build', corepack: true },
  bun: { frozen: 'bun install --frozen-lockfile', plain: 'bun install', runBuild: 'bun run build', corepack: false },
} as const;

const managerOf = (lockfile: string): InstallPlan['manager'] =>
  lockfile.startsWith('pnpm') ? 'pnpm' : lockfile.startsWith('yarn') ? 'yarn' : lockfile.startsWith('bun') ? 'bun' : 'npm';

const declared = (packageManager: string | undefined): { name: InstallPlan['manager']; major: number | undefined } | undefined => {
  const m = /^(npm|pnpm|yarn|bun)@(\d+)?/.exec(packageManager?.trim() ?? '');
  return m ? { name: m[1] as InstallPlan['manager'], major: m[2] === undefined ? undefined : Number(m[2]) } : undefined;
};

/**
 * Chooses the install command as Vercel does: the `packageManager` field when its lockfile is
 * there (or when there is no lockfile at all), else the lockfile (pnpm, yarn, bun, npm in that
 * order); a frozen install with a lockfile, a plain one without. Yarn 2+ (a `.yarnrc.yml`, or
 * `packageManager: yarn@2…` and later) installs with `--immutable`, yarn 1 with `--frozen-lockfile`.
 * Pure: the caller reads the tree ({@link readInstallInputs}). Commands come from {@link installTable}.
 *
 * @example
 * chooseInstall({ lockfiles: ['package-lock.json'], yarnrcYml: false }).command; // 'npm ci'
 * chooseInstall({ lockfiles: [], yarnrcYml: false }).command; // 'npm install'
 * chooseInstall({ lockfiles: ['yarn.lock'], yarnrcYml: true }).command; // 'YARN_NODE_LINKER=node-modules yarn install --immutable'
 */
export const chooseInstall = (inputs: InstallInputs): InstallPlan => {
  const pm = declared(inputs.packageManager);
  const ordered = lockfileNames.filter((f) => inputs.lockfiles.includes(f));
  const lockfile = (pm && ordered.find((f) => managerOf(f) === pm.name)) ?? ordered[0];
  const manager = lockfile ? managerOf(lockfile) : (pm?.name ?? 'npm');
  const because = [lockfile, pm && pm.name === manager ? `packageManager ${inputs.packageManager!.split('+')[0]}` : undefined].filter(Boolean).join(', ') || 'no lockfile';
  const berry = manager === 'yarn' && (inputs.yarnrcYml || (pm?.name === 'yarn' && (pm.major ?? 1) >= 2));
  const row = installTable[berry ? 'berry' : manager];
  const fromNpm = manager === 'bun' ? `bun@${(pm?.name === 'bun' && /^bun@([0-9A-Za-z.-]+)/.exec(inputs.packageManager!.trim())?.[1]) || '1'}` : undefined;
  return { manager, command: lockfile ? row.frozen : row.plain, runBuild: row.runBuild, corepack: row.corepack, ...(fromNpm ? { fromNpm } : {}), reason: because };
};

const corepackLine =
  'export COREPACK_HOME="${COREPACK_HOME:-$TMPDIR/.corepack}" COREPACK_ENABLE_DOWNLOAD_PROMPT=0 PATH="$TMPDIR/.corepack-bin:$PATH"'
  + ' && mkdir -p "$TMPDIR/.corepack-bin" && corepack enable --install-directory "$TMPDIR/.corepack-bin" <pm> && ';

// bun from the npm registry (its package carries the binary for this platform) when the machine has none.
// Its folder goes on PATH first, so a later line of the same build (the build script) finds the bun the install brought.
const fromNpmLine =
  'export PATH="$TMPDIR/.<bin>/node_modules/.bin:$PATH" && { command -v <bin> >/dev/null 2>&1 || { echo "<bin> is not on this machine: installing <spec> from the npm registry"'
  + ' && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix "$TMPDIR/.<bin>" <spec>'
  + ' && <bin> --version >/dev/null; }'
  + ' || { echo "<bin> is not on this machine and <spec> could not be installed from the npm registry" >&2; false; }; } && ';

/**
 * The shell line that runs a plan: for pnpm and yarn, `corepack enable` puts their shims in a
 * folder of the build's own (`$TMPDIR/.corepack-bin`, with corepack's downloads in
 * `$COREPACK_HOME`, else `$TMPDIR/.corepack`), first on this line's `PATH`; for bun on a machine
 * without it, its npm package goes to `$TMPDIR/.bun` (a clear error when the registry cannot
 * give it). Nothing global changes.
 *
 * @example
 * installShellCommand(chooseInstall({ lockfiles: ['package-lock.json'], yarnrcYml: false })); // 'npm ci'
 */
export const installShellCommand = (plan: InstallPlan): string => managerShellCommand(plan, plan.command);

/** A command of the plan's package manager as a shell line that first makes that manager available (see {@link installShellCommand}). */
const managerShellCommand = (plan: InstallPlan, command: string): string =>
  plan.corepack ? corepackLine.replace('<pm>', plan.manager) + command
  : plan.fromNpm ? fromNpmLine.replaceAll('<bin>', plan.manager).replaceAll('<spec>', plan.fromNpm) + command
  : command;

/** The build of an app without a `build` script (and of a project that sets none), as before scripts were read. */
export const defaultBuildCommand = 'npx next build';

/**
 * The build a project without its own build command runs, and why: as Vercel decides, the app's
 * `build` script of its `package.json` run with its package manager (so `next build --webpack`,
 * a code generator before the build, or a `prebuild` script run as they do on the developer's
 * machine), else `npx next build`. `line` is the shell line (the manager made available first,
 * as for the install); `command` what the build log shows.
 *
 * @example
 * chooseBuild(chooseInstall({ lockfiles: ['pnpm-lock.yaml'], yarnrcYml: false }), 'next build --webpack').command; // 'pnpm run build'
 * chooseBuild(chooseInstall({ lockfiles: [], yarnrcYml: false }), undefined).command; // 'npx next build'
 */
export const chooseBuild = (plan: InstallPlan, buildScript: string | undefined): { command: string; line: string; reason: string } =>
  buildScript === undefined
    ? { command: defaultBuildCommand, line: defaultBuildCommand, reason: 'no build script in package.json' }
    : { command: plan.runBuild, line: managerShellCommand(plan, plan.runBuild), reason: `the build script of package.json (${JSON.stringify(buildScript)}), run with ${plan.manager}` };

/**
 * The `build` script of the app's own `package.json` (not a monorepo root's), when it has one
 * that is not empty.
 *
 * @example
 * readBuildScript('/builds/01JD…/src/apps/web'); // 'next build'
 */
export const readBuildScript = (appDir: string): string | undefined => {
  try {
    const v = (JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { scripts?: { build?: unknown } }).scripts?.build;
    return typeof v === 'string' && v.trim() !== '' ? v : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Where the install runs and what decides it: the nearest directory from the app up to the
 * repository root that has a lockfile (a monorepo's root, so its workspaces resolve), else the
 * app's own; the lockfiles there, whether it has a `.yarnrc.yml`, and the app's `packageManager`
 * field (else the nearest one above it).
 *
 * @example
 * readInstallSite('/b/src/apps/web', '/b/src'); // { dir: '/b/src', inputs: { lockfiles: ['pnpm-lock.yaml'], yarnrcYml: false } }
 */
export const readInstallSite = (appDir: string, repoRoot: string): { dir: string; inputs: InstallInputs } => {
  const pkgManager = (dir: string): string | undefined => {
    try {
      const v = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { packageManager?: unknown }).packageManager;
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  };
  let packageManager = pkgManager(appDir);
  const pm = () => (packageManager ? { packageManager } : {});
  for (let dir = appDir; ; dir = dirname(dir)) {
    packageManager ??= pkgManager(dir);
    const lockfiles = lockfileNames.filter((f) => existsSync(join(dir, f)));
    const rel = relative(repoRoot, dir);
    if (lockfiles.length > 0) return { dir, inputs: { lockfiles, yarnrcYml: existsSync(join(dir, '.yarnrc.yml')), ...pm() } };
    if (rel === '' || rel.startsWith('..') || dir === dirname(dir)) return { dir: appDir, inputs: { lockfiles, yarnrcYml: existsSync(join(dir, '.yarnrc.yml')), ...pm() } };
  }
};

/**
 * Reads what {@link chooseInstall} needs from a checkout (see {@link readInstallSite}).
 *
 * @example
 * chooseInstall(readInstallInputs('/builds/01JD…/src/apps/web', '/builds/01JD…/src'));
 */
export const readInstallInputs = (appDir: string, repoRoot: string): InstallInputs => readInstallSite(appDir, repoRoot).inputs;

/**
 * {@link readInstallSite} + {@link chooseInstall} + {@link installShellCommand} as one Node
 * script (ES module, no dependencies), for builds that decide in the checkout itself (the
 * CodeBuild buildspec). Its data is {@link installTable} and {@link lockfileNames}, compiled in;
 * a unit test runs it against `chooseInstall` for every case. Run as
 * `node detect.mjs <json|sh> <appDir> <repoRoot>`: `json` prints the plan and the install
 * directory; `sh` prints `SHIPLOG_INSTALL_DIR`, `SHIPLOG_INSTALL_COMMAND` (the shell line),
 * `SHIPLOG_INSTALL_FROZEN` (1: a lockfile pins the install) and `SHIPLOG_INSTALL_LOG` (what the
 * build log says) as shell assignments. `build-json` and `build` say the same of the build a
 * project without its own build command runs ({@link chooseBuild}): `SHIPLOG_BUILD_COMMAND`
 * (the shell line) and `SHIPLOG_BUILD_LOG`.
 *
 * @example
 * execFileSync('node', ['--input-type=module', '-e', installDetectScript, '--', 'json', app, root]); // '{"manager":"pnpm",…}'
 */
export const installDetectScript = `import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
const T = ${JSON.stringify({ lockfiles: lockfileNames, table: installTable, corepackLine, fromNpmLine, defaultBuildCommand })};
const [mode, appArg, rootArg] = process.argv.slice(-3);
const appDir = resolve(appArg), repoRoot = resolve(rootArg);
const pkgManager = (d) => { try { const v = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).packageManager; return typeof v === 'string' ? v : undefined; } catch { return undefined; } };
let packageManager = pkgManager(appDir), dir = appDir, lockfiles = [], yarnrc = false;
for (let d = appDir; ; d = dirname(d)) {
  packageManager ??= pkgManager(d);
  const found = T.lockfiles.filter((f) => existsSync(join(d, f)));
  const rel = relative(repoRoot, d);
  if (found.length > 0) { dir = d; lockfiles = found; yarnrc = existsSync(join(d, '.yarnrc.yml')); break; }
  if (rel === '' || rel.startsWith('..') || d === dirname(d)) { yarnrc = existsSync(join(d, '.yarnrc.yml')); break; }
}
const m = /^(npm|pnpm|yarn|bun)@(\\d+)?/.exec((packageManager ?? '').trim());
const pm = m ? { name: m[1], major: m[2] === undefined ? undefined : Number(m[2]) } : undefined;
const managerOf = (f) => (f.startsWith('pnpm') ? 'pnpm' : f.startsWith('yarn') ? 'yarn' : f.startsWith('bun') ? 'bun' : 'npm');
const lockfile = (pm && lockfiles.find((f) => managerOf(f) === pm.name)) ?? lockfiles[0];
const manager = lockfile ? managerOf(lockfile) : (pm?.name ?? 'npm');
const reason = [lockfile, pm && pm.name === manager ? 'packageManager ' + packageManager.split('+')[0] : undefined].filter(Boolean).join(', ') || 'no lockfile';
const berry = manager === 'yarn' && (yarnrc || (pm?.name === 'yarn' && (pm.major ?? 1) >= 2));
const row = T.table[berry ? 'berry' : manager];
const command = lockfile ? row.frozen : row.plain;
const fromNpm = manager === 'bun' ? 'bun@' + ((pm?.name === 'bun' && /^bun@([0-9A-Za-z.-]+)/.exec(packageManager.trim())?.[1]) || '1') : undefined;
const withManager = (cmd) => row.corepack ? T.corepackLine.replace('<pm>', manager) + cmd
  : fromNpm ? T.fromNpmLine.replaceAll('<bin>', manager).replaceAll('<spec>', fromNpm) + cmd : cmd;
const line = withManager(command);
const where = relative(repoRoot, dir) || '.';
const q = (s) => "'" + s.replace(/'/g, "'\\\\''") + "'";
const buildScript = (() => { try { const v = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')).scripts?.build; return typeof v === 'string' && v.trim() !== '' ? v : undefined; } catch { return undefined; } })();
const build = buildScript === undefined ? { command: T.defaultBuildCommand, line: T.defaultBuildCommand, reason: 'no build script in package.json' }
  : { command: row.runBuild, line: withManager(row.runBuild), reason: 'the build script of package.json (' + JSON.stringify(buildScript) + '), run with ' + manager };
if (mode === 'json') process.stdout.write(JSON.stringify({ manager, command, runBuild: row.runBuild, corepack: row.corepack, ...(fromNpm ? { fromNpm } : {}), reason, dir }) + '\\n');
else if (mode === 'build-json') process.stdout.write(JSON.stringify(build) + '\\n');
else if (mode === 'build') process.stdout.write(['SHIPLOG_BUILD_COMMAND=' + q(build.line), 'SHIPLOG_BUILD_LOG=' + q('build: ' + build.reason + ': ' + build.command), ''].join('\\n'));
else process.stdout.write(['SHIPLOG_INSTALL_DIR=' + q(dir), 'SHIPLOG_INSTALL_COMMAND=' + q(line), 'SHIPLOG_INSTALL_FROZEN=' + (lockfile ? 1 : 0), 'SHIPLOG_INSTALL_LOG=' + q('install: ' + manager + ', detected from ' + reason + ': ' + command + ' (in ' + where + ')'), ''].join('\\n'));
`;
