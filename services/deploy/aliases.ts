/**
 * Stable URLs of preview branches. A push to a branch other than the production branch deploys
 * on the alias `preview-<slug>` (ingest's `aliasFor`: the branch lowercased, every run of other
 * characters one hyphen, long names cut and suffixed with a hash, as Vercel slugs branches);
 * the alias follows the branch's latest live preview. Its host label is `<slug>--<project>`:
 * a slug never holds `--` (runs collapse to one hyphen), so the first `--` splits the label.
 */
const previewPrefix = 'preview-';
const slugPattern = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * The host label (the part before the sites domain) of an alias's stable URL, or undefined for
 * an alias that has none of its own (`production` is served on the project's own label).
 *
 * @example
 * aliasHostLabel('web', 'preview-feature-login'); // 'feature-login--web'
 * aliasHostLabel('web', 'production');            // undefined
 */
export const aliasHostLabel = (projectId: string, alias: string): string | undefined => {
  if (!alias.startsWith(previewPrefix)) return undefined;
  const slug = alias.slice(previewPrefix.length);
  return slugPattern.test(slug) && !slug.includes('--') ? `${slug}--${projectId}` : undefined;
};

/**
 * Reads a host label as a preview branch URL: `<slug>--<project>` is the alias `preview-<slug>`
 * of `<project>`. Undefined when the label is not of that form; the project part is not checked
 * here (the caller knows its project id rules).
 *
 * @example
 * branchOfHostLabel('feature-login--web'); // { projectId: 'web', alias: 'preview-feature-login', branch: 'feature-login' }
 * branchOfHostLabel('web');                // undefined
 */
export const branchOfHostLabel = (label: string): { projectId: string; alias: string; branch: string } | undefined => {
  const at = label.indexOf('--');
  if (at < 0) return undefined;
  const branch = label.slice(0, at);
  const projectId = label.slice(at + 2);
  if (!slugPattern.test(branch) || !projectId) return undefined;
  return { projectId, alias: `${previewPrefix}${branch}`, branch };
};
