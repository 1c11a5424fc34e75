export * from './port.ts';
export * from './eventbridge.ts';
