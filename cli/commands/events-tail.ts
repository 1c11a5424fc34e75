import { Command } from 'commander';
import { compilePattern } from '../../events/bus/pattern/index.ts';
import { catalog, isKnownEventType, toEventBridgeEvent, type StoredEvent } from '../../events/index.ts';
import { withLocal } from '../../infra/local/projections.ts';
import { tailEvents } from '../../projections/index.ts';
import type { EventStore, GlobalPage } from '../../events/store/index.ts';
import { api, isNamedInstance } from '../client.ts';

const line = (e: StoredEvent): string => {
  const m = e.metadata;
  return `${m.occurredAt}  ${e.type.padEnd(24)} ${m.projectId}${m.deploymentId ? `/${m.deploymentId}` : ''}  ${m.streamId} v${m.version}  ${m.eventId}`;
};

/**
 * The store's global order as a named instance's API serves it (`GET /api/events`): what
 * `events tail` follows when it cannot read the store itself (shiplog on AWS).
 *
 * @example
 * await tailEvents({ store: apiEventPages(), onEvent, signal, pollMs: 1000 });
 */
export const apiEventPages = (): Pick<EventStore, 'readAll'> => ({
  readAll: ({ cursor, limit } = {}) => api<GlobalPage>('GET', `/api/events?${new URLSearchParams({ cursor: cursor ?? '', limit: String(limit ?? 500) })}`),
});

/**
 * A predicate on stored events from an EventBridge pattern, matched against the event as the
 * bus carries it.
 *
 * @example
 * const keep = storedEventFilter('{"detail-type":["BuildFailed"]}');
 */
export const storedEventFilter = (raw: string | undefined): ((e: StoredEvent) => boolean) | undefined => {
  if (raw === undefined) return undefined;
  let pattern: unknown;
  try {
    pattern = JSON.parse(raw);
  } catch {
    throw new Error(`--pattern must be JSON (an EventBridge event pattern), got ${raw}`);
  }
  const matches = compilePattern(pattern as object);
  return (e) => matches(toEventBridgeEvent(e, isKnownEventType(e.type) ? catalog[e.type].source : 'shiplog.unknown'));
};

/**
 * `shiplog events tail [--pattern <json>]`: follows new events in global order until Ctrl-C.
 *
 * @example
 * events.addCommand(tailCommand());
 */
export const tailCommand = (): Command =>
  new Command('tail')
    .description('follow new events in global order (Ctrl-C stops)')
    .option('--pattern <json>', 'only events matching this EventBridge pattern')
    .option('--from <time>', 'start at this ISO 8601 time instead of now')
    .option('--json', 'print one JSON event per line')
    .action(async (o: { pattern?: string; from?: string; json?: boolean }) => {
      const filter = storedEventFilter(o.pattern);
      if (o.from !== undefined && Number.isNaN(Date.parse(o.from))) throw new Error(`--from must be an ISO 8601 time, got "${o.from}"`);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const follow = (store: Parameters<typeof tailEvents>[0]['store'], pollMs?: number) => tailEvents({
        store,
        signal: stop.signal,
        ...(filter ? { filter } : {}),
        ...(o.from ? { from: o.from } : {}),
        ...(pollMs ? { pollMs } : {}),
        onEvent: (e) => { process.stdout.write(`${o.json ? JSON.stringify(e) : line(e)}\n`); },
      });
      try {
        // A named instance (shiplog on AWS) is followed through its API, a page a second.
        if (isNamedInstance()) {
          await follow(apiEventPages(), 1000);
        } else {
          await withLocal(({ store }) => follow(store));
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
