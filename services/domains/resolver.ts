import type { EventStore } from '../../events/store/index.ts';
import { streams } from '../../events/index.ts';
import { fold } from '../shell/index.ts';
import { domainDecider } from './decider.ts';

/**
 * What a custom host serves: the project's alias, when the domain is active.
 *
 * @example
 * const r: ResolvedHost = { projectId: 'web', alias: 'production' };
 */
export interface ResolvedHost {
  projectId: string;
  alias: string;
}

/**
 * Resolves a request's host to the alias it serves, for the site router: folds the domain's
 * stream, and remembers the answer for `ttlMs` (default 2 s) so a busy site does not read the
 * store on every request. Redirect domains resolve to nothing (the router does not redirect yet).
 *
 * @example
 * startSiteRouter({ …, resolveHost: customHostResolver({ store }) });
 */
export const customHostResolver = (deps: { store: EventStore; ttlMs?: number; clock?: () => number }) => {
  const ttl = deps.ttlMs ?? 2000;
  const clock = deps.clock ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<ResolvedHost | undefined> }>();
  const load = async (host: string): Promise<ResolvedHost | undefined> => {
    const s = fold(domainDecider, await deps.store.readStream(streams.domain(host)));
    return s.status === 'active' && !s.redirectTo ? { projectId: s.projectId!, alias: s.alias! } : undefined;
  };
  return async (rawHost: string): Promise<ResolvedHost | undefined> => {
    const host = rawHost.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    if (!host || host.includes('#')) return undefined;
    const hit = cache.get(host);
    if (hit && clock() - hit.at < ttl) return hit.value;
    if (cache.size > 10_000) cache.clear();
    const value = load(host);
    cache.set(host, { at: clock(), value });
    value.catch(() => cache.delete(host));
    return value;
  };
};
