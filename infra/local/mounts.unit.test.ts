import { describe, expect, it, vi } from 'vitest';
import { cachedMounts, mountedSite, mountFor } from './mounts.ts';

const outreach = { prefix: '/outreach', project: 'outreach' };
const admin = { prefix: '/outreach/admin', project: 'admin' };

describe('mountFor', () => {
  it('matches the prefix itself and whole segments under it, never a longer first segment', () => {
    expect(mountFor([outreach], '/outreach')).toBe(outreach);
    expect(mountFor([outreach], '/outreach/')).toBe(outreach);
    expect(mountFor([outreach], '/outreach/_next/static/chunks/a.js')).toBe(outreach);
    expect(mountFor([outreach], '/outreachx')).toBeUndefined();
    expect(mountFor([outreach], '/Outreach')).toBeUndefined();
    expect(mountFor([outreach], '/')).toBeUndefined();
  });

  it('lets the longest prefix win, in any order', () => {
    expect(mountFor([outreach, admin], '/outreach/admin/users')).toBe(admin);
    expect(mountFor([admin, outreach], '/outreach/admins')).toBe(outreach);
  });
});

describe('mountedSite', () => {
  const web = { kind: 'deployment', projectId: 'web', deploymentId: 'd1' } as const;
  const mountsOf = async (p: string) => (p === 'web' ? [outreach] : []);

  it("serves a mounted path from the mounted project's production alias, ignoring the query", async () => {
    expect(await mountedSite(mountsOf, web, '/outreach/a?next=/x')).toEqual({ kind: 'alias', projectId: 'outreach', alias: 'production', mount: outreach });
  });

  it('keeps the address for every other path, and without mounts', async () => {
    expect(await mountedSite(mountsOf, web, '/?to=/outreach')).toBe(web);
    expect(await mountedSite(undefined, web, '/outreach')).toBe(web);
  });
});

describe('cachedMounts', () => {
  it('asks once per project within the time to live, again after it; a failure answers the last known mounts, or none and is not kept', async () => {
    let now = 0;
    const asked: string[] = [];
    let fail = false;
    const mounts = cachedMounts(async (p) => {
      asked.push(p);
      if (fail) throw new Error('read model down');
      return [outreach];
    }, { ttlMs: 1000, clock: () => now });
    await mounts('web');
    await mounts('web');
    await mounts('shop');
    expect(asked).toEqual(['web', 'shop']);
    now = 1000;
    fail = true;
    expect(await mounts('web')).toEqual([outreach]);
    expect(await mounts('never-seen')).toEqual([]);
    fail = false;
    // Nothing was known of that one: asked again at once. The known one, after the time to live.
    expect(await mounts('never-seen')).toEqual([outreach]);
    expect(await mounts('web')).toEqual([outreach]);
    expect(asked).toEqual(['web', 'shop', 'web', 'never-seen', 'never-seen']);
    now = 2000;
    expect(await mounts('web')).toEqual([outreach]);
    expect(asked).toEqual(['web', 'shop', 'web', 'never-seen', 'never-seen', 'web']);
  });

  it('after the time to live, answers the known mounts at once and asks again behind the request', async () => {
    let now = 0;
    let answer: readonly { prefix: string; project: string }[] = [outreach];
    // Lookups wait until released, as a busy read model would.
    const pending: (() => void)[] = [];
    const mounts = cachedMounts((async () => {
      const value = answer;
      await new Promise<void>((r) => pending.push(r));
      return value;
    }), { ttlMs: 1000, clock: () => now });
    // Never known: the request waits for the lookup.
    const first = mounts('web');
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    pending.shift()!();
    expect(await first).toEqual([outreach]);
    // Stale: answered at once with what is known, while the lookup runs.
    now = 1000;
    answer = [admin];
    expect(await mounts('web')).toEqual([outreach]);
    expect(pending).toHaveLength(1);
    pending.shift()!();
    // Once it has answered, its answer is used.
    await vi.waitFor(async () => expect(await mounts('web')).toEqual([admin]));
    expect(pending).toHaveLength(0);
  });
});
