export * from './errors.ts';
export * from './ports.ts';
export * from './table.ts';
export { dynamoEventStore, type DynamoEventStoreOptions } from './dynamo-event-store.ts';
export { sdkFailureLogger } from './sdk-logger.ts';
export { MAX_ITEM_BYTES, MAX_TRANSACTION_ACTIONS, MAX_TRANSACTION_BYTES, type EventTypeRegistry } from './codec.ts';
