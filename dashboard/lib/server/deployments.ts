import 'server-only';
import type { DeploymentListItem, ReadModels } from '../../../projections/index.ts';

/**
 * What the deployments list can be narrowed to. Empty fields match everything.
 *
 * @example
 * const f = filterFrom({ status: 'error', branch: 'main' });
 */
export interface DeploymentFilter {
  status: string;
  target: string;
  branch: string;
}

export const filterFrom = (params: Record<string, string | string[] | undefined>): DeploymentFilter => {
  const one = (k: string) => (typeof params[k] === 'string' ? (params[k] as string).trim() : '');
  return { status: one('status'), target: one('target'), branch: one('branch') };
};

const matches = (d: DeploymentListItem, f: DeploymentFilter): boolean =>
  (!f.status || d.status === f.status) && (!f.target || d.target === f.target) && (!f.branch || (d.branch ?? '').includes(f.branch));

const isEmpty = (f: DeploymentFilter) => !f.status && !f.target && !f.branch;

/**
 * One page of a project's deployments, newest first, narrowed by `filter`. The read model pages
 * by request time only, so a filtered page reads on until it has `limit` matches or has looked at
 * `scanLimit` deployments; the cursor resumes where it stopped.
 *
 * @example
 * const { items, cursor } = await deploymentsPage(models, 'web', filter, { limit: 20 });
 */
export const deploymentsPage = async (
  models: ReadModels,
  projectId: string,
  filter: DeploymentFilter,
  opts: { limit?: number; cursor?: string | null; scanLimit?: number } = {},
): Promise<{ items: DeploymentListItem[]; cursor: string | null; scanned: number }> => {
  const limit = opts.limit ?? 20;
  if (isEmpty(filter)) {
    const page = await models.listDeployments(projectId, { limit, cursor: opts.cursor ?? null });
    return { ...page, scanned: page.items.length };
  }
  const items: DeploymentListItem[] = [];
  let cursor = opts.cursor ?? null;
  let scanned = 0;
  do {
    const page = await models.listDeployments(projectId, { limit: 100, cursor });
    scanned += page.items.length;
    // Whole batches: the store's cursor can only resume after a batch, so a page may run a little over `limit`.
    items.push(...page.items.filter((d) => matches(d, filter)));
    cursor = page.cursor;
  } while (cursor && items.length < limit && scanned < (opts.scanLimit ?? 2000));
  return { items, cursor, scanned };
};
