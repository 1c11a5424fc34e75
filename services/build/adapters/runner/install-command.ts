import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

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
 * const plan: InstallPlan = { manager: 'pnpm', command: 'pnpm install --frozen-lockfile', corepack: true, reason: 'pnpm-lock.yaml' };
 */
export interface InstallPlan {
  manager: 'npm' | 'pnpm' | 'yarn' | 'bun';
  command: string;
  /** pnpm and yarn come through corepack (at the version `packageManager` pins, else corepack's default). */
  corepack: boolean;
  reason: string;
}

/** The lockfiles each package manager writes, in the order Vercel's detection tries them. */
export const lockfileNames = ['pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package-lock.json', 'npm-shrinkwrap.json'] as const;

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
 * Pure: the caller reads the tree ({@link readInstallInputs}).
 *
 * @example
 * chooseInstall({ lockfiles: ['package-lock.json'], yarnrcYml: false }).command; // 'npm ci'
 * chooseInstall({ lockfiles: [], yarnrcYml: false }).command; // 'npm install'
 * chooseInstall({ lockfiles: ['yarn.lock'], yarnrcYml: true }).command; // 'yarn install --immutable'
 */
export const chooseInstall = (inputs: InstallInputs): InstallPlan => {
  const pm = declared(inputs.packageManager);
  const ordered = lockfileNames.filter((f) => inputs.lockfiles.includes(f));
  const lockfile = (pm && ordered.find((f) => managerOf(f) === pm.name)) ?? ordered[0];
  const manager = lockfile ? managerOf(lockfile) : (pm?.name ?? 'npm');
  const frozen = lockfile !== undefined;
  const because = [lockfile, pm && pm.name === manager ? `packageManager ${inputs.packageManager!.split('+')[0]}` : undefined].filter(Boolean).join(', ') || 'no lockfile';
  switch (manager) {
    case 'pnpm':
      return { manager, command: frozen ? 'pnpm install --frozen-lockfile' : 'pnpm install', corepack: true, reason: because };
    case 'yarn': {
      const berry = inputs.yarnrcYml || (pm?.name === 'yarn' && (pm.major ?? 1) >= 2);
      const flag = berry ? ' --immutable' : ' --frozen-lockfile';
      return { manager, command: `yarn install${frozen ? flag : ''}`, corepack: true, reason: because };
    }
    case 'bun':
      return { manager, command: frozen ? 'bun install --frozen-lockfile' : 'bun install', corepack: false, reason: because };
    default:
      return { manager: 'npm', command: frozen ? 'npm ci' : 'npm install', corepack: false, reason: because };
  }
};

/**
 * The shell line that runs a plan: for pnpm and yarn, `corepack enable` puts their shims in a
 * folder of the build's own (`$TMPDIR/.corepack-bin`, with corepack's downloads in
 * `$TMPDIR/.corepack`), first on this line's `PATH`; nothing global changes.
 *
 * @example
 * installShellCommand(chooseInstall({ lockfiles: ['package-lock.json'], yarnrcYml: false })); // 'npm ci'
 */
export const installShellCommand = (plan: InstallPlan): string =>
  plan.corepack
    ? 'export COREPACK_HOME="$TMPDIR/.corepack" COREPACK_ENABLE_DOWNLOAD_PROMPT=0 PATH="$TMPDIR/.corepack-bin:$PATH"'
      + ` && mkdir -p "$TMPDIR/.corepack-bin" && corepack enable --install-directory "$TMPDIR/.corepack-bin" ${plan.manager} && ${plan.command}`
    : plan.command;

/**
 * Reads what {@link chooseInstall} needs from a checkout: the app's `packageManager` (else the
 * repository root's) and the nearest lockfiles from `appDir` up to `repoRoot`.
 *
 * @example
 * chooseInstall(readInstallInputs('/builds/01JD…/src/apps/web', '/builds/01JD…/src'));
 */
export const readInstallInputs = (appDir: string, repoRoot: string): InstallInputs => {
  const pkgManager = (dir: string): string | undefined => {
    try {
      const v = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { packageManager?: unknown }).packageManager;
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  };
  let packageManager = pkgManager(appDir);
  for (let dir = appDir; ; dir = dirname(dir)) {
    packageManager ??= pkgManager(dir);
    const lockfiles = lockfileNames.filter((f) => existsSync(join(dir, f)));
    const atRoot = relative(repoRoot, dir) === '' || relative(repoRoot, dir).startsWith('..') || dir === dirname(dir);
    if (lockfiles.length > 0 || atRoot) {
      return { lockfiles, yarnrcYml: existsSync(join(dir, '.yarnrc.yml')), ...(packageManager ? { packageManager } : {}) };
    }
    if (!(dir + sep).startsWith(repoRoot + sep)) return { lockfiles: [], yarnrcYml: false, ...(packageManager ? { packageManager } : {}) };
  }
};
