import type { EventBus, EventMetadata } from '../../events/index.ts';
import type { EventFeed } from '../http/routes/deployments.ts';

/**
 * The committed events the outbox publishes, for the API's followers (a deployment's event
 * stream): `tap(bus)` is the bus the outbox publishes to, which tells every listener as it hands
 * them to the bus, not once the bus has journaled them: they are committed in the store already,
 * where a listener reads them (a publish that fails is made again, and a listener told twice
 * finds nothing new the second time). A listener's own failure is ignored, so one closed stream
 * never stops the others or the outbox.
 *
 * @example
 * const feed = eventFeed();
 * streamOutbox({ …, bus: feed.tap(bus) });
 * const stop = feed.subscribe((m) => console.log(m.eventId));
 */
export const eventFeed = (): EventFeed & { tap(bus: EventBus): EventBus } => {
  const listeners = new Set<(m: EventMetadata) => void>();
  return {
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tap: (bus) => ({
      publish: async (entries) => {
        const accepted = bus.publish(entries);
        for (const entry of entries) {
          for (const listener of [...listeners]) {
            try {
              listener(entry.detail.metadata);
            } catch {
              // a follower's own failure (its stream closed) is its own
            }
          }
        }
        await accepted;
      },
    }),
  };
};
