import { deliveryKeys, activeNamespace, computeDeliveryMetrics, type DeliveryFacts, type DeliveryMetrics } from '../../projections/index.ts';
import type { Page, ViewStore } from '../../projections/index.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

/** One week of the DORA four, for the charts. */
export interface WeeklyPoint {
  from: string;
  to: string;
  metrics: DeliveryMetrics;
}

/**
 * The DORA four of a project over the last `days`, and week by week over the last `weeks`, from
 * one read of its delivery facts (the same facts and pure computation `readModels().deliveryMetrics`
 * uses, which answers one window per read).
 * Not in `server/`: it reads only through the `ViewStore` it is given, and the benchmark
 * (`test/bench/suites/dashboard.ts`) calls it under plain Node.
 * TODO(when readModels serves a series): use it instead of reading the view store here.
 *
 * @example
 * const { summary, weekly } = await deliverySeries(views, 'web', { days: 30, weeks: 12 });
 */
export const deliverySeries = async (
  views: ViewStore,
  projectId: string,
  opts: { days?: number; weeks?: number; nowMs?: number } = {},
): Promise<{ summary: DeliveryMetrics; weekly: WeeklyPoint[] }> => {
  const now = opts.nowMs ?? Date.now();
  const days = opts.days ?? 30;
  const weeks = opts.weeks ?? 12;
  const to = new Date(now).toISOString();
  const earliest = Math.min(now - days * DAY, now - weeks * WEEK);
  const ns = activeNamespace((await views.readRegistry()).get('delivery'));
  const facts: DeliveryFacts[] = [];
  if (ns) {
    // Deployments requested up to a week before a window can go live (or be rolled back) in it.
    let cursor: string | null = null;
    do {
      const page: Page<unknown> = await views.queryList(ns, deliveryKeys.list(projectId), { from: new Date(earliest - WEEK).toISOString(), cursor });
      facts.push(...(page.items as DeliveryFacts[]));
      cursor = page.cursor;
    } while (cursor);
  }
  const summary = computeDeliveryMetrics(projectId, facts, { from: new Date(now - days * DAY).toISOString(), to });
  const weekly = Array.from({ length: weeks }, (_, i) => {
    const from = new Date(now - (weeks - i) * WEEK).toISOString();
    const end = new Date(now - (weeks - i - 1) * WEEK).toISOString();
    return { from, to: end, metrics: computeDeliveryMetrics(projectId, facts, { from, to: end }) };
  });
  return { summary, weekly };
};
