import { Command } from 'commander';
import { dlqCommand } from './dlq.ts';
import { getCommand } from './events-get.ts';
import { tailCommand } from './events-tail.ts';
import { testPatternCommand } from './events-test-pattern.ts';
import { typesCommand } from './events-types.ts';

/** `shiplog events …`: the event catalog, pattern testing, the dead-letter queues. */
export const eventsCommand = (): Command => {
  const events = new Command('events').description('the event catalog and the bus');
  events.addCommand(typesCommand());
  events.addCommand(testPatternCommand());
  events.addCommand(dlqCommand());
  events.addCommand(tailCommand());
  events.addCommand(getCommand());
  return events;
};
