import type { BenchSuite } from '../lib.ts';
import { cliBench } from './cli.ts';
import { dashboardBench } from './dashboard.ts';
import { deploymentsBench } from './deployments.ts';
import { eventStoreBench } from './event-store.ts';
import { matcherBench } from './matcher.ts';
import { onDiskBench } from './on-disk.ts';
import { outboxBench } from './outbox.ts';
import { projectionsBench } from './projections.ts';
import { pushToLiveBench } from './push-to-live.ts';
import { releaseHistoryBench } from './release-history.ts';
import { sitesEdgeBench } from './sites-edge.ts';
import { warmBuildsBench } from './warm-builds.ts';

/** Every bench suite, in the order `npm run bench` runs them. */
export const suites: Record<string, BenchSuite> = {
  'event-store': eventStoreBench,
  'on-disk': onDiskBench,
  matcher: matcherBench,
  outbox: outboxBench,
  projections: projectionsBench,
  'push-to-live': pushToLiveBench,
  'release-history': releaseHistoryBench,
  'warm-builds': warmBuildsBench,
  dashboard: dashboardBench,
  deployments: deploymentsBench,
  cli: cliBench,
  'sites-edge': sitesEdgeBench,
};
