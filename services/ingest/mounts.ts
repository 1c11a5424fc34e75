import type { Mount } from '../../events/index.ts';

/** How many mounts one project may have. */
export const MAX_MOUNTS = 50;

const covers = (outer: string, inner: string): boolean => inner === outer || inner.startsWith(`${outer}/`);

/**
 * The mount a new prefix would collide with: the same prefix (in any letter case), or one that
 * contains or is contained in it segment-wise (`/outreach` and `/outreach/admin`). `/outreachx`
 * does not collide with `/outreach`.
 *
 * @example
 * overlappingMount([{ prefix: '/outreach', project: 'outreach' }], '/outreach/admin'); // the /outreach mount
 * overlappingMount([{ prefix: '/outreach', project: 'outreach' }], '/outreachx'); // undefined
 */
export const overlappingMount = (mounts: readonly Mount[], prefix: string): Mount | undefined => {
  const p = prefix.toLowerCase();
  return mounts.find((m) => {
    const q = m.prefix.toLowerCase();
    return covers(q, p) || covers(p, q);
  });
};

/**
 * Mounts in their stored order: by prefix.
 *
 * @example
 * sortMounts([{ prefix: '/b', project: 'b' }, { prefix: '/a', project: 'a' }]); // /a, then /b
 */
export const sortMounts = (mounts: readonly Mount[]): Mount[] => [...mounts].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
