/**
 * The parts of an OpenNext build's `open-next.output.json` the site hosts read.
 *
 * @example
 * const o: OpenNextOutput = { origins: { default: { type: 'function', bundle: '.open-next/server-functions/default', handler: 'index.handler' } } };
 */
export interface OpenNextOutput {
  origins?: Record<string, { type?: string; bundle?: string; handler?: string; streaming?: boolean; originPath?: string; copy?: { from: string; to: string }[] } | undefined>;
}

/**
 * Where OpenNext puts `assets/` under the S3 origin: `''`, or the app's basePath (`/docs`), whose
 * public and `_next/static` files are requested under it.
 *
 * @example
 * assetPrefixOf({ origins: { s3: { type: 's3', originPath: '_assets', copy: [{ from: '.open-next/assets', to: '_assets/docs' }] } } }); // '/docs'
 */
export const assetPrefixOf = (output: OpenNextOutput): string => {
  const s3 = Object.values(output.origins ?? {}).find((o) => o?.type === 's3');
  const to = s3?.copy?.find((c) => c.from.replace(/\/+$/, '').endsWith('assets'))?.to;
  const base = s3?.originPath ?? '';
  return to && to.startsWith(base) ? `/${to.slice(base.length)}`.replace(/\/+/g, '/').replace(/\/$/, '') : '';
};

