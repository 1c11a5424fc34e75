import { Command } from 'commander';

/** `shiplog events …`: the event catalog, pattern testing, the dead-letter queues. */
export const eventsCommand = (): Command => {
  const events = new Command('events').description('the event catalog and the bus');
  return events;
};
