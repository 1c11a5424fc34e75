import { Command } from 'commander';
import { typesCommand } from './events-types.ts';

/** `shiplog events …`: the event catalog, pattern testing, the dead-letter queues. */
export const eventsCommand = (): Command => {
  const events = new Command('events').description('the event catalog and the bus');
  events.addCommand(typesCommand());
  return events;
};
