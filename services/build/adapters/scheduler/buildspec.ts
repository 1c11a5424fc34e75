import { posix } from 'node:path';
import { shiplogConfigFile, wrappedOpenNextConfig } from '../runner/open-next-config.ts';

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
export const ArtifactFile = { manifest: 'shiplog-build.json', serverZip: 'server-function.zip' } as const;

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
export default {
  buildCommand: 'exit 0',
  default: {
    // Buffered until sites are served through function URLs in RESPONSE_STREAM mode: a streamed
    // response read with a plain Invoke (the deploy health gate) is not an HTTP result.
    override: { wrapper: 'aws-lambda', converter: 'aws-apigw-v2', incrementalCache: 's3-lite', tagCache: 'dynamodb-lite', queue: 'sqs-lite' },
  },
};
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
 * (`NO_SOURCE`): the build then fetches the commit with git, as the local runner does.
 *
 * @example
 * const input: BuildspecInput = { rootDir: '.', installCommand: 'npm ci', buildCommand: 'npx next build', checkout: true };
 */
export interface BuildspecInput {
  rootDir: string;
  installCommand: string;
  buildCommand: string;
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
 * buildspecPhases(input).install; // ['git init … # shiplog:checkout', 'cd "$CODEBUILD_SRC_DIR/." # shiplog:checkout', 'npm ci']
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
      input.installCommand || 'npm ci',
    ],
    pre_build: [
      app,
      // Next traces dependencies from the directory with the lockfile (a monorepo's root).
      // (any one of the lockfiles; none anywhere: the app's own directory)
      `d="$PWD"; has_lock() { for f in ${lockfiles}; do [ -f "$1/$f" ] && return 0; done; return 1; }; while [ "$d" != / ] && ! has_lock "$d"; do d="$(dirname "$d")"; done; [ "$d" != / ] || d="$PWD"; export NEXT_PRIVATE_OUTPUT_TRACE_ROOT="$d"`,
      `if [ -f open-next.config.ts ]; then echo ${b64(wrappedOpenNextConfig('./open-next.config.ts'))} | base64 -d > ${shiplogConfigFile}; else echo ${b64(awsOpenNextConfig)} | base64 -d > ${shiplogConfigFile}; fi`,
    ],
    build: [app, 'export NODE_ENV="${NODE_ENV:-production}" NEXT_PRIVATE_STANDALONE=true', input.buildCommand || 'npx next build'],
    post_build: [
      // post_build runs after a failed build unless the build phase aborted; never package one.
      '[ "$CODEBUILD_BUILD_SUCCEEDING" = 1 ]',
      app,
      `npx --yes @opennextjs/aws@${openNext} build --config-path ${shiplogConfigFile}`,
      'test -f .open-next/open-next.output.json',
      `mkdir -p /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID && (cd .open-next/server-functions/default && zip -qr /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.serverZip} .)`,
      `echo ${b64(manifestScript)} | base64 -d > /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/manifest.mjs && node /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/manifest.mjs .open-next /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.manifest} ${openNext}`,
      'aws s3 cp .open-next "$SHIPLOG_ARTIFACT_URI" --recursive --exclude ".build/*" --only-show-errors',
      `aws s3 cp /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.serverZip} "\${SHIPLOG_ARTIFACT_URI}${ArtifactFile.serverZip}" --only-show-errors`,
      `aws s3 cp /tmp/shiplog/$SHIPLOG_DEPLOYMENT_ID/${ArtifactFile.manifest} "\${SHIPLOG_ARTIFACT_URI}${ArtifactFile.manifest}" --only-show-errors`,
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
