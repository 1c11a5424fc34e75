import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The config file the runner hands to `open-next build --config-path`, next to the app's own.
 *
 * @example
 * join(appDir, shiplogConfigFile); // '<app>/open-next.shiplog.config.ts'
 */
export const shiplogConfigFile = 'open-next.shiplog.config.ts';

/**
 * The OpenNext config for an app served by the local router: the `aws-lambda` wrapper with the
 * API Gateway v2 converter (the router speaks that event format), caches on the local disk of
 * the version directory (`fs-dev`), revalidation in-process (`direct` queue), and an image
 * loader reading the version's `assets/`.
 *
 * The image loader is ours because OpenNext's `fs-dev` loader resolves `../../assets` from the
 * working directory and relies on `globalThis.monorepoPackagePath`, which only the server bundle
 * sets: in the image function it throws. Since a function loader is not `'fs-dev'`, OpenNext
 * would install sharp for Lambda (linux arm64); `install` asks for this machine's build instead.
 *
 * @example
 * await writeFile(join(appDir, shiplogConfigFile), localOpenNextConfig);
 */
export const localOpenNextConfig = `// Written by shiplog's local build runner.
const assetTypes = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.avif': 'image/avif', '.svg': 'image/svg+xml', '.ico': 'image/x-icon' };

const localAssetsLoader = async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  // __dirname is the function's directory (OpenNext's config banner); assets/ is its sibling.
  const root = path.resolve(__dirname, '..', 'assets');
  return {
    name: 'shiplog-local-assets',
    load: async (url) => {
      const file = path.resolve(root, '.' + decodeURIComponent(url.split('?')[0]));
      if (!file.startsWith(root + path.sep)) throw new Error('image path outside assets: ' + url);
      await fs.promises.access(file);
      return {
        body: fs.createReadStream(file),
        contentType: assetTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        cacheControl: 'public, max-age=0, must-revalidate',
      };
    },
  };
};

export default {
  buildCommand: 'exit 0',
  default: {
    override: { wrapper: 'aws-lambda', converter: 'aws-apigw-v2', incrementalCache: 'fs-dev', tagCache: 'fs-dev', queue: 'direct' },
  },
  imageOptimization: {
    loader: localAssetsLoader,
    override: { wrapper: 'aws-lambda', converter: 'aws-apigw-v2' },
    install: { packages: ['sharp@' + (process.env.SHARP_VERSION ?? '0.35.5')], os: process.platform, arch: process.arch },
  },
};
`;

/**
 * The wrapper used when the repository brings its own `open-next.config.ts`: the app's config,
 * with the build step turned off because the runner has already run the build command.
 *
 * @example
 * await writeFile(join(appDir, shiplogConfigFile), wrappedOpenNextConfig('./open-next.config.ts'));
 */
export const wrappedOpenNextConfig = (userConfig: string): string => `// Written by shiplog's local build runner.
import config from '${userConfig}';

export default { ...config, buildCommand: 'exit 0' };
`;

/**
 * Writes the config `open-next build` gets, and says whether the app had its own.
 *
 * @example
 * const { path, own } = await writeOpenNextConfig(appDir); // own: false → the local default
 */
export const writeOpenNextConfig = async (appDir: string): Promise<{ path: string; own: boolean }> => {
  const own = existsSync(join(appDir, 'open-next.config.ts'));
  const path = join(appDir, shiplogConfigFile);
  // The app's folder was written by user code: never follow a link planted at this name.
  await rm(path, { force: true });
  await writeFile(path, own ? wrappedOpenNextConfig('./open-next.config.ts') : localOpenNextConfig, { flag: 'wx' });
  return { path, own };
};
