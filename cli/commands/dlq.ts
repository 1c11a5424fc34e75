import { Command } from 'commander';
import { api, output } from '../client.ts';

interface Letter {
  id: string;
  subscription: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  deadLetteredAt: string;
  event: { 'detail-type': string; detail: { metadata: { eventId: string } } };
}

/** `shiplog events dlq list|redrive`: the subscriptions' dead-letter queues. */
export const dlqCommand = (): Command => {
  const dlq = new Command('dlq').description("what subscriptions could not take, and sending it to them again");
  dlq
    .command('list')
    .description('list dead letters, per subscription')
    .option('--subscription <name>', 'only this subscription')
    .option('--json', 'print JSON')
    .action(async (o: { subscription?: string; json?: boolean }) => {
      const letters = await api<Letter[]>('GET', `/api/dlq${o.subscription ? `?subscription=${encodeURIComponent(o.subscription)}` : ''}`);
      output(letters, o.json, () =>
        letters.length === 0
          ? 'no dead letters'
          : letters
              .map((l) => `${l.id}  ${l.subscription}  ${l.event['detail-type']} ${l.event.detail.metadata.eventId}  ${l.errorCode} after ${l.attempts}: ${l.errorMessage}`)
              .join('\n'),
      );
    });
  dlq
    .command('redrive <subscription>')
    .description("send a subscription's dead letters to it again (all, or --id)")
    .option('--id <ids...>', 'only these dead letters')
    .option('--json', 'print JSON')
    .action(async (subscription: string, o: { id?: string[]; json?: boolean }) => {
      const res = await api<{ redriven: number }>('POST', `/api/dlq/${encodeURIComponent(subscription)}/redrive`, o.id ? { ids: o.id } : {});
      output(res, o.json, () => `redriven ${res.redriven} event(s) to ${subscription}`);
    });
  return dlq;
};
