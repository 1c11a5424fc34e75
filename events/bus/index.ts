export * from './port.ts';
export * from './eventbridge.ts';
export * from './sqs-dead-letters.ts';
