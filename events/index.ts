/**
 * The public surface of `events/`: the envelope, the contract (every event's schema, the
 * catalog, stream ids, upcasters) and the infrastructure behind it (store, bus).
 * Services import from here, never from each other.
 */

// The envelope and shared field types.
export * from './envelope.ts';
export * from './primitives.ts';

// The contract: catalog, stream ids, schema evolution.
export * from './catalog.ts';
export * from './streams.ts';
export * from './upcasters.ts';
export * from './new-events.ts';

// Every event's schema, by owning service.
export * from './ingest.ts';
export * from './build.ts';
export * from './deploy.ts';
export * from './domains.ts';
export * from './observability.ts';
export * from './subscriptions.ts';

// Infrastructure: the event store and the bus.
export * from './store/index.ts';
export * from './bus/index.ts';
export * from './bus/policies.ts';
export * from './backoff.ts';
