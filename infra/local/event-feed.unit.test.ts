import { describe, expect, it } from 'vitest';
import type { BusEntry, EventMetadata } from '../../events/index.ts';
import { eventFeed } from './event-feed.ts';

const entry = (eventId: string): BusEntry => ({ source: 'shiplog.test', detailType: 'Tested', detail: { metadata: { eventId } as EventMetadata, data: {} } });

describe('eventFeed', () => {
  it('tells its listeners as the events are handed to the bus, and resolves once the bus has accepted them', async () => {
    let accept = () => {};
    const journaled = new Promise<void>((r) => (accept = r));
    const feed = eventFeed();
    const told: string[] = [];
    feed.subscribe((m) => told.push(m.eventId));
    feed.subscribe(() => { throw new Error('a closed stream'); });
    let done = false;
    const published = feed.tap({ publish: () => journaled }).publish([entry('e1'), entry('e2')]).then(() => (done = true));
    // The bus has not accepted them yet: the listeners already know, the publish is not done.
    expect(told).toEqual(['e1', 'e2']);
    await Promise.resolve();
    expect(done).toBe(false);
    accept();
    await published;
    expect(done).toBe(true);
  });

  it('rejects as the bus does', async () => {
    const feed = eventFeed();
    await expect(feed.tap({ publish: () => Promise.reject(new Error('journal down')) }).publish([entry('e3')])).rejects.toThrow('journal down');
  });
});
