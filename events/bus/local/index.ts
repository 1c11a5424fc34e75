export * from './journal.ts';
export * from './local-bus.ts';
export * from './tables.ts';
