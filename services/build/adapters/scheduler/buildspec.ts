import { posix } from 'node:path';
import { imageResponseHeadersScript, imagesOffScript, routingLocalesScript, customDistDirMessage, emptyNextConfig, emptyNextConfigLine, nextConfigNames, noNextBuildMessage, pagesFallbackEntriesScript, staticExportMessage, trailingSlashRedirectsScript } from '../runner/build-output.ts';
import { openNextBuildArgs } from '../runner/open-next-args.mjs';
import { appSharpSource, shiplogConfigFile, wrappedOpenNextConfig } from '../runner/open-next-config.ts';
import { installDetectScript } from '../runner/install-command.ts';
import { nodeCheckScript } from '../runner/node-version.ts';
import { runtimeEnvScript } from './runtime-env.ts';

/**
 * The OpenNext version builds package with on CodeBuild: the `@opennextjs/aws` shiplog ships
 * (a unit test keeps the two equal).
 *
 * @example
 * buildspecFor({ ...input, openNextVersion: DEFAULT_OPENNEXT_VERSION });
 */
export const DEFAULT_OPENNEXT_VERSION = '4.1.12';

/**
 * The names of the files a CodeBuild build leaves next to the `.open-next` output in its
 * artifact prefix. The manifest is uploaded last: its presence means the artifact is complete.
 *
 * @example
 * `${artifactUri}${ArtifactFile.manifest}`; // 's3://bucket/artifacts/web/d1/shiplog-build.json'
 */
export const ArtifactFile = { manifest: 'shiplog-build.json', serverZip: 'server-function.zip', imageZip: 'image-function.zip' } as const;

/**
 * What a build writes to `shiplog-build.json`: the artifact's digest (the same as
 * `describeArtifactDir` computes locally) and the versions it was built with.
 *
 * @example
 * const m: ArtifactManifest = { sha256: 'ab…', sizeBytes: 1024, files: 12, versions: { next: '16.4.5', openNext: '4.1.12' } };
 */
export interface ArtifactManifest {
  sha256: string;
  sizeBytes: number;
  files: number;
  versions: { next: string | null; openNext: string };
}

/**
 * Where the build cache of one project lives: `modules-<key>.tgz` (its `node_modules`, keyed by
 * the install command, Node, the CPU and every lockfile, package.json and package-manager config
 * of the install directory) and `next-cache.tgz` (the app's `.next/cache`). Builds get it as
 * `SHIPLOG_CACHE_URI`; a project's builds read and write only their own prefix.
 *
 * @example
 * cacheUriFor('shiplog-artifacts', 'web'); // 's3://shiplog-artifacts/cache/web/'
 */
export const cacheUriFor = (bucket: string, projectId: string): string => `s3://${bucket}/cache/${projectId}/`;

/**
 * Where the artifact of one deployment goes.
 *
 * @example
 * artifactUriFor('shiplog-artifacts', 'web', 'd1'); // 's3://shiplog-artifacts/artifacts/web/d1/'
 */
export const artifactUriFor = (bucket: string, projectId: string, deploymentId: string): string =>
  `s3://${bucket}/artifacts/${projectId}/${deploymentId}/`;

/**
 * The OpenNext config for an app served from Lambda on AWS, used when the repository brings
 * none: the server function behind a function URL or CloudFront (API Gateway v2 event format),
 * the ISR cache in S3, revalidation tags in DynamoDB and revalidation through SQS, all with
 * OpenNext's fetch-based `-lite` overrides so the bundle carries no AWS SDK. The build step is
 * off because the buildspec runs the build command itself.
 *
 * @example
 * awsOpenNextConfig.includes("incrementalCache: 's3-lite'"); // true
 */
export const awsOpenNextConfig = `// Written by shiplog's CodeBuild buildspec.
${appSharpSource}
export default {
  buildCommand: 'exit 0',
  default: {
    // Streams: the site host gives a streaming build a RESPONSE_STREAM Function URL, so Suspense
    // shells and route handler streams reach the viewer as they are made; a plain Invoke (the
    // health gate, ISR revalidation) reads the streamed HTTP prelude and body (aws-invoke.ts).
    override: { wrapper: 'aws-lambda-streaming', converter: 'aws-apigw-v2', incrementalCache: 's3-lite', tagCache: 'dynamodb-lite', queue: 'sqs-lite' },
    // The app's own sharp, for the site functions' architecture (x86_64).
    ...(shiplogAppSharp ? { install: { packages: ['sharp@' + shiplogAppSharp], os: 'linux', arch: 'x64', libc: 'glibc', nodeVersion: '22' } } : {}),
  },
  // /_next/image: reads the deployment's assets from the sites bucket (BUCKET_KEY_PREFIX per
  // version), with sharp for the site functions' architecture (x86_64), not OpenNext's arm64.
  imageOptimization: {
    loader: 's3-lite',
    install: { packages: ['sharp@' + (process.env.SHARP_VERSION ?? '0.35.5')], os: 'linux', arch: 'x64', libc: 'glibc', nodeVersion: '22' },
  },
};
`;

/**
 * What the buildspec runs after next build: names the app's edge runtime routes, which a
 * deployment on AWS does not serve (OpenNext leaves them out of the server function, and the
 * site host deploys that function only), in the build log. Locally each gets a function of its own.
 *
 * @example
 * execFileSync('node', ['-e', edgeRoutesWarningScript], { cwd: appDir });
 */
export const edgeRoutesWarningScript = `const fs = require('node:fs');
let names = [];
try {
  names = Object.values(JSON.parse(fs.readFileSync('.next/server/middleware-manifest.json', 'utf8')).functions || {}).map((f) => f.name);
} catch {}
if (names.length) console.log('warning: edge runtime routes are not served on AWS yet (they answer 500 there): ' + names.join(', ') + ". Without export const runtime = 'edge' they run in the server function.");
`;

/**
 * The script that writes the manifest: `node manifest.mjs <.open-next dir> <out file> <openNext version>`,
 * run in the app directory. Its digest walk is `describeArtifactDir`'s, minus OpenNext's `.build` scratch.
 *
 * @example
 * execFileSync('node', ['-e', manifestScript, '--', '.open-next', '/tmp/m.json', '4.1.12']);
 */
export const manifestScript = `import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
const [dir, out, openNext] = process.argv.slice(-3);
const hash = createHash('sha256');
let sizeBytes = 0, files = 0;
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(d, e.name);
    if (e.isDirectory()) { if (p !== join(dir, '.build')) walk(p); }
    else if (e.isFile()) { const { size } = statSync(p); sizeBytes += size; files += 1; hash.update(relative(dir, p) + '\\0' + size + '\\n'); }
  }
};
walk(dir);
let next = null;
try { next = JSON.parse(readFileSync(createRequire(resolve('package.json')).resolve('next/package.json'), 'utf8')).version ?? null; } catch {}
writeFileSync(out, JSON.stringify({ sha256: hash.digest('hex'), sizeBytes, files, versions: { next, openNext } }));
`;

/**
 * What one buildspec is made from. `checkout` is set when CodeBuild has no source of its own
 * (`NO_SOURCE`): the build then fetches the commit with git, as the local runner does. An empty
 * `installCommand` is detected in the checkout (`installDetectScript`), as the local runner does.
 *
 * @example
 * const input: BuildspecInput = { rootDir: '.', installCommand: 'npm ci', buildCommand: '', checkout: true };
 */
export interface BuildspecInput {
  rootDir: string;
  installCommand: string;
  buildCommand: string;
  /** The project's Node.js setting, asked for when the app names no version (`BuildJob.nodeVersion`). */
  nodeVersion?: string;
  checkout: boolean;
  openNextVersion?: string;
}

/**
 * Appended to the commands that fetch the code, so a failure among them reads as `checkout-failed`.
 *
 * @example
 * command.endsWith(CHECKOUT_MARK); // a failed checkout, not a failed install
 */
export const CHECKOUT_MARK = '# shiplog:checkout';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const lockfiles = 'package-lock.json yarn.lock pnpm-lock.yaml bun.lock bun.lockb';
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** The build's scratch folder (scripts, cache tarballs). */
const S = '/tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID';
/** What the node_modules cache key covers in the install directory. */
const keyFiles = ['package.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc', '.yarnrc.yml', '.yarnrc', 'pnpm-workspace.yaml', '.pnpmfile.cjs']
  .map((f) => `-name ${f}`).join(' -o ');
const pruned = '\\( -name node_modules -o -name .git -o -name .next -o -name .open-next \\) -prune';

const appDirOf = (rootDir: string): string | undefined => {
  const dir = posix.normalize(rootDir || '.');
  return /^[A-Za-z0-9._/-]+$/.test(dir) && !dir.startsWith('/') && dir !== '..' && !dir.startsWith('../') ? dir : undefined;
};

/**
 * The phases of one build, as commands. The build, like the local runner's: fetch (when
 * asked), install, build in Next's standalone mode, `open-next build` with the app's config
 * (wrapped) or {@link awsOpenNextConfig}, then upload `.open-next`, the zipped server function
 * and the manifest (last) to `$SHIPLOG_ARTIFACT_URI`. Every phase aborts the build on failure,
 * so the failed phase says what failed.
 *
 * @example
 * buildspecPhases(input).install.at(-1); // 'cd "$SHIPLOG_INSTALL_DIR" && if [ "$SHIPLOG_MODULES_RESTORED" != 1 ]; then eval "$SHIPLOG_INSTALL_COMMAND"; fi'
 */
export const buildspecPhases = (input: BuildspecInput): Record<'install' | 'pre_build' | 'build' | 'post_build', string[]> => {
  const rel = appDirOf(input.rootDir);
  const app = `cd "$CODEBUILD_SRC_DIR/${rel ?? '.'}"`;
  const openNext = input.openNextVersion ?? DEFAULT_OPENNEXT_VERSION;
  const fetch = 'git fetch -q --depth 1 -- "$SHIPLOG_REPO" "$SHIPLOG_GIT_COMMIT_SHA" || git fetch -q -- "$SHIPLOG_REPO" "$SHIPLOG_GIT_COMMIT_SHA"';
  return {
    install: [
      ...(rel ? [] : [`echo 'rootDir "${input.rootDir.replace(/'/g, '')}" is not a directory inside the repository' >&2; exit 1 ${CHECKOUT_MARK}`]),
      ...(input.checkout
        ? [`git init -q "$CODEBUILD_SRC_DIR" && cd "$CODEBUILD_SRC_DIR" && { ${fetch}; } && git checkout -q --detach FETCH_HEAD ${CHECKOUT_MARK}`]
        : []),
      `${app} ${CHECKOUT_MARK}`,
      `mkdir -p "${S}/tmp" && echo ${b64(installDetectScript)} | base64 -d > "${S}/detect.mjs" && echo ${b64(nodeCheckScript)} | base64 -d > "${S}/node-check.mjs"`,
      // engines.node / .nvmrc: switch to an installed Node that satisfies it (n), else a warning line.
      `${input.nodeVersion ? `SHIPLOG_PROJECT_NODE_VERSION=${sq(input.nodeVersion)} ` : ''}node "${S}/node-check.mjs" switch "$PWD" "$CODEBUILD_SRC_DIR" > "${S}/node.sh" && . "${S}/node.sh"`,
      // corepack's shims and downloads go to the build's own TMPDIR (installShellCommand).
      `export TMPDIR="${S}/tmp"`,
      input.installCommand
        ? `export SHIPLOG_INSTALL_DIR="$PWD" SHIPLOG_INSTALL_COMMAND=${sq(input.installCommand)} SHIPLOG_CACHE_KEY= && echo ${sq(`install: the project's command: ${input.installCommand}`)}`
        : `node "${S}/detect.mjs" sh "$PWD" "$CODEBUILD_SRC_DIR" > "${S}/install.sh" && . "${S}/install.sh" && export SHIPLOG_INSTALL_DIR SHIPLOG_INSTALL_COMMAND SHIPLOG_INSTALL_FROZEN && echo "$SHIPLOG_INSTALL_LOG"`
          + ` && export SHIPLOG_CACHE_KEY="$({ printf '%s\\n' "$SHIPLOG_INSTALL_COMMAND" "$(node --version)" "$(uname -m)"; cd "$SHIPLOG_INSTALL_DIR" && find . ${pruned} -o -type f \\( ${keyFiles} \\) -print | LC_ALL=C sort | xargs -r sha256sum; } | sha256sum | cut -c1-32)"`,
      // The build cache: this project's node_modules for exactly this install, when there is one.
      'if [ -z "$SHIPLOG_CACHE_URI" ]; then export SHIPLOG_MODULES_RESTORED=0; echo "build cache: off"; '
        + 'elif [ -z "$SHIPLOG_CACHE_KEY" ] || [ "$SHIPLOG_INSTALL_FROZEN" != 1 ]; then export SHIPLOG_MODULES_RESTORED=0 SHIPLOG_CACHE_KEY=; echo "build cache: node_modules are kept only for detected installs a lockfile pins"; '
        + `elif aws s3 cp "\${SHIPLOG_CACHE_URI}modules-$SHIPLOG_CACHE_KEY.tgz" "${S}/modules.tgz" --only-show-errors >/dev/null 2>&1 && tar -xzf "${S}/modules.tgz" -C "$SHIPLOG_INSTALL_DIR"; `
        + `then export SHIPLOG_MODULES_RESTORED=1; echo "build cache: node_modules restored ($(du -sh "${S}/modules.tgz" | cut -f1) compressed, key $SHIPLOG_CACHE_KEY): install skipped"; `
        + `else export SHIPLOG_MODULES_RESTORED=0; echo "build cache: no node_modules for key $SHIPLOG_CACHE_KEY (first build of this lockfile, package.json files, Node and install command): full install"; fi; rm -f "${S}/modules.tgz"`,
      'cd "$SHIPLOG_INSTALL_DIR" && if [ "$SHIPLOG_MODULES_RESTORED" != 1 ]; then eval "$SHIPLOG_INSTALL_COMMAND"; fi',
    ],
    pre_build: [
      app,
      `if [ -z "$SHIPLOG_CACHE_URI" ]; then :; elif aws s3 cp "\${SHIPLOG_CACHE_URI}next-cache.tgz" "${S}/next-cache.tgz" --only-show-errors >/dev/null 2>&1; `
        + `then mkdir -p .next && tar -xzf "${S}/next-cache.tgz" -C .next && echo "build cache: .next/cache restored ($(du -sh .next/cache | cut -f1))" || echo "build cache: .next/cache could not be restored"; `
        + `else echo "build cache: no .next/cache yet (first build of this project)"; fi; rm -f "${S}/next-cache.tgz"`,
      // Next traces dependencies from the directory with the lockfile (a monorepo's root).
      // (any one of the lockfiles; none anywhere: the app's own directory)
      `d="$PWD"; has_lock() { for f in ${lockfiles}; do [ -f "$1/$f" ] && return 0; done; return 1; }; while [ "$d" != / ] && ! has_lock "$d"; do d="$(dirname "$d")"; done; [ "$d" != / ] || d="$PWD"; export NEXT_PRIVATE_OUTPUT_TRACE_ROOT="$d"`,
      `if [ -f open-next.config.ts ]; then echo ${b64(wrappedOpenNextConfig('./open-next.config.ts'))} | base64 -d > ${shiplogConfigFile}; else echo ${b64(awsOpenNextConfig)} | base64 -d > ${shiplogConfigFile}; fi`,
    ],
    build: [
      app,
      'export NODE_ENV="${NODE_ENV:-production}" NEXT_PRIVATE_STANDALONE=true',
      // The project's command, else the app's build script with its package manager, else next build (chooseBuild).
      ...(input.buildCommand
        ? [`echo ${sq(`build: the project's command: ${input.buildCommand}`)}`, input.buildCommand]
        : [`node "${S}/detect.mjs" build "$PWD" "$CODEBUILD_SRC_DIR" > "${S}/build.sh" && . "${S}/build.sh" && export SHIPLOG_BUILD_COMMAND && echo "$SHIPLOG_BUILD_LOG"`, 'eval "$SHIPLOG_BUILD_COMMAND"']),
    ],
    post_build: [
      // post_build runs after a failed build unless the build phase aborted; never package one.
      '[ "$CODEBUILD_BUILD_SUCCEEDING" = 1 ]',
      app,
      // Edge runtime routes need functions of their own, which the AWS site host does not deploy yet: say so.
      `echo ${b64(edgeRoutesWarningScript)} | base64 -d > "${S}/edge-routes.cjs" && node "${S}/edge-routes.cjs"`,
      // A static export has no server to package (open-next build failed on a missing manifest): say why.
      `if [ -f .next/export-detail.json ]; then echo ${b64(`build failed: ${staticExportMessage}`)} | base64 -d; echo; exit 1; fi`,
      // No build in .next: a custom distDir (OpenNext reads .next only), or a build command without next build.
      'if [ ! -f .next/BUILD_ID ]; then d=""; for f in */required-server-files.json .[!.]*/required-server-files.json; do '
        + 'if [ -f "$f" ] && [ -f "$(dirname "$f")/BUILD_ID" ]; then d="$(dirname "$f")"; break; fi; done; '
        + `if [ -n "$d" ]; then m="$(echo ${b64(`build failed: ${customDistDirMessage}`)} | base64 -d)"; echo "\${m//"<distDir>"/$d}"; `
        + `else echo ${b64(`build failed: ${noNextBuildMessage}`)} | base64 -d; echo; fi; exit 1; fi`,
      // open-next build refuses an app without a next.config, which next build builds with the defaults: an empty one.
      `has_config=0; for f in ${nextConfigNames.join(' ')}; do if [ -e "$f" ] || [ -L "$f" ]; then has_config=1; fi; done; `
        + `if [ "$has_config" = 0 ]; then echo ${b64(emptyNextConfig)} | base64 -d > next.config.mjs && echo ${b64(emptyNextConfigLine)} | base64 -d && echo; fi`,
      `npx --yes @opennextjs/aws@${openNext} ${openNextBuildArgs(shiplogConfigFile).join(' ')}`,
      'test -f .open-next/open-next.output.json',
      // Next's trailing-slash redirects, which OpenNext's routing skips (build-output.ts).
      `echo ${b64(trailingSlashRedirectsScript)} | base64 -d > "${S}/trailing-slash.cjs" && node "${S}/trailing-slash.cjs" .open-next`,
      // Pages Router fallback shells, which open-next build writes as App Router cache entries (build-output.ts).
      `echo ${b64(pagesFallbackEntriesScript)} | base64 -d > "${S}/pages-fallback.cjs" && node "${S}/pages-fallback.cjs" .open-next`,
      // With i18n, OpenNext's routing localizes paths otherwise than Next (build-output.ts).
      `echo ${b64(routingLocalesScript)} | base64 -d > "${S}/routing-locales.cjs" && node "${S}/routing-locales.cjs" .open-next`,
      // /_next/image to the app's server when next.config turns the optimizer off (build-output.ts).
      `echo ${b64(imagesOffScript)} | base64 -d > "${S}/images-off.cjs" && node "${S}/images-off.cjs" .open-next`,
      // OpenNext's image function, made to answer as next start's optimizer: its headers, its failures, a route's image (build-output.ts).
      `echo ${b64(imageResponseHeadersScript)} | base64 -d > "${S}/image-headers.cjs" && node "${S}/image-headers.cjs" .open-next`,
      // The function's entry that reads the project's env vars from SSM when it starts (runtime-env.ts).
      `echo ${b64(runtimeEnvScript)} | base64 -d > "${S}/runtime-env.mjs" && node "${S}/runtime-env.mjs" .open-next`,
      // -y keeps symlinks: pnpm's node_modules resolve a package's own dependencies through them.
      `mkdir -p /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID && (cd .open-next/server-functions/default && zip -qry /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.serverZip} .)`,
      // The image function, when OpenNext made one (the site host deploys it beside the server).
      `if [ -d .open-next/image-optimization-function ]; then (cd .open-next/image-optimization-function && zip -qry /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.imageZip} .); fi`,
      `echo ${b64(manifestScript)} | base64 -d > /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/manifest.mjs && node /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/manifest.mjs .open-next /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.manifest} ${openNext}`,
      'aws s3 cp .open-next "$SHIPLOG_ARTIFACT_URI" --recursive --exclude ".build/*" --only-show-errors',
      `aws s3 cp /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.serverZip} "\${SHIPLOG_ARTIFACT_URI}${ArtifactFile.serverZip}" --only-show-errors`,
      `if [ -f /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.imageZip} ]; then aws s3 cp /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.imageZip} "\${SHIPLOG_ARTIFACT_URI}${ArtifactFile.imageZip}" --only-show-errors; fi`,
      `aws s3 cp /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.manifest} "\${SHIPLOG_ARTIFACT_URI}${ArtifactFile.manifest}" --only-show-errors`,
      // The cache, after the artifact: a failed upload costs the next build time, never this one.
      `if [ -n "$SHIPLOG_CACHE_URI" ] && [ -d .next/cache ]; then { tar -czf "${S}/next-cache.tgz" -C .next cache && aws s3 cp "${S}/next-cache.tgz" "\${SHIPLOG_CACHE_URI}next-cache.tgz" --only-show-errors && echo "build cache: .next/cache saved"; } || echo "build cache: .next/cache not saved"; fi; rm -f "${S}/next-cache.tgz"`,
      `if [ -n "$SHIPLOG_CACHE_URI" ] && [ -n "$SHIPLOG_CACHE_KEY" ] && [ "$SHIPLOG_MODULES_RESTORED" != 1 ]; then { (cd "$SHIPLOG_INSTALL_DIR" && find . ${pruned.replace('-name node_modules -o ', '')} -o -type d -name node_modules -prune -print | tar -czf "${S}/modules.tgz" -T -) `
        + `&& aws s3 cp "${S}/modules.tgz" "\${SHIPLOG_CACHE_URI}modules-$SHIPLOG_CACHE_KEY.tgz" --only-show-errors && echo "build cache: node_modules saved ($(du -sh "${S}/modules.tgz" | cut -f1), key $SHIPLOG_CACHE_KEY)"; } || echo "build cache: node_modules not saved"; fi; rm -f "${S}/modules.tgz"`,
    ],
  };
};

/**
 * The buildspec (version 0.2, YAML) for `StartBuild`'s `buildspecOverride`. Every scalar is a
 * double-quoted string, so commands need no YAML escaping of their own.
 *
 * @example
 * await codebuild.send(new StartBuildCommand({ projectName, buildspecOverride: buildspecFor(input) }));
 */
export const buildspecFor = (input: BuildspecInput): string => {
  const q = (s: string) => JSON.stringify(s);
  const lines = ['version: 0.2', 'env:', `  shell: ${q('bash')}`, 'phases:'];
  for (const [phase, commands] of Object.entries(buildspecPhases(input))) {
    lines.push(`  ${phase}:`);
    // The standard image's default Node is older than what Next.js 16 needs.
    if (phase === 'install') lines.push('    runtime-versions:', `      nodejs: ${q('20')}`);
    lines.push(`    on-failure: ${q('ABORT')}`, '    commands:', ...commands.map((c) => `      - ${q(c)}`));
  }
  return `${lines.join('\n')}\n`;
};
