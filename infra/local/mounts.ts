import type { Mount } from '../../events/index.ts';

/**
 * The mounts of a project, as the site router asks for them (once per request to the project).
 *
 * @example
 * const mountsOf: MountsOf = async (projectId) => (await models.getProject(projectId))?.mounts ?? [];
 */
export type MountsOf = (projectId: string) => Promise<readonly Mount[]>;

/**
 * The mount that serves a path: the one whose prefix is the path or a whole-segment start of it
 * (`/outreach` serves `/outreach` and `/outreach/a`, not `/outreachx`); the longest prefix wins.
 * Prefixes are compared as they are written, as Next.js compares its `basePath`.
 *
 * @example
 * mountFor([{ prefix: '/outreach', project: 'outreach' }], '/outreach/_next/static/x.js'); // the outreach mount
 * mountFor([{ prefix: '/outreach', project: 'outreach' }], '/outreachx'); // undefined
 */
export const mountFor = (mounts: readonly Mount[], path: string): Mount | undefined => {
  let best: Mount | undefined;
  for (const m of mounts) {
    if ((path === m.prefix || path.startsWith(`${m.prefix}/`)) && (!best || m.prefix.length > best.prefix.length)) best = m;
  }
  return best;
};

/**
 * What a request to `address` is served by: the mounted project's production alias when a mount
 * of the address's project covers the path (multi-zone; the mounted app sees the full path, as
 * its `basePath` expects), else the address itself. Mounts apply on every address of the host
 * project: its production host, its custom domains, its deployment and branch URLs.
 *
 * @example
 * await mountedSite(mountsOf, { kind: 'alias', projectId: 'web', alias: 'production' }, '/outreach/?q=1');
 * // { kind: 'alias', projectId: 'outreach', alias: 'production', mount: { prefix: '/outreach', project: 'outreach' } }
 */
export const mountedSite = async <A extends { projectId: string }>(
  mountsOf: MountsOf | undefined,
  address: A,
  url: string,
): Promise<A | { kind: 'alias'; projectId: string; alias: 'production'; mount: Mount }> => {
  const mounts = mountsOf ? await mountsOf(address.projectId) : [];
  const mount = mounts.length ? mountFor(mounts, url.split('?')[0]!) : undefined;
  return mount ? { kind: 'alias', projectId: mount.project, alias: 'production', mount } : address;
};

/**
 * A {@link MountsOf} that remembers each project's answer, so a site's requests do not wait for
 * the read model: within `ttlMs` (1 s by default) the answer is used as is; after it, the last
 * known answer is used at once while it is asked again behind the request. Only a project it has
 * never known (or whose last lookup failed with nothing known) waits for a lookup. A failed
 * lookup (the database restarting) answers the last known mounts, or none, so sites keep
 * serving; it is asked again next time.
 *
 * @example
 * startSiteRouter({ …, mountsOf: cachedMounts(async (p) => (await models.getProject(p))?.mounts ?? []) });
 */
export const cachedMounts = (lookup: MountsOf, opts: { ttlMs?: number; clock?: () => number } = {}): MountsOf => {
  const ttl = opts.ttlMs ?? 1000;
  const clock = opts.clock ?? Date.now;
  // What a project's requests are answered with until `at + ttl`, and the last answer known for it.
  const cache = new Map<string, { at: number; value: Promise<readonly Mount[]> }>();
  const known = new Map<string, readonly Mount[]>();
  return (projectId) => {
    const hit = cache.get(projectId);
    if (hit && clock() - hit.at < ttl) return hit.value;
    if (cache.size > 10_000) {
      cache.clear();
      known.clear();
    }
    const last = known.get(projectId);
    const asked = lookup(projectId).then((mounts) => {
      known.set(projectId, mounts);
      return mounts;
    });
    if (last === undefined) {
      // Never known: this request (and those meanwhile) wait for the lookup; a failure is not kept.
      const value = asked.catch(() => (cache.delete(projectId), known.get(projectId) ?? []));
      cache.set(projectId, { at: clock(), value });
      return value;
    }
    // Known: answered with it until the lookup behind answers (its failure keeps what is known).
    const value = Promise.resolve(last);
    cache.set(projectId, { at: clock(), value });
    asked.then((mounts) => cache.set(projectId, { at: clock(), value: Promise.resolve(mounts) }), () => undefined);
    return value;
  };
};
