import { afterAll, describe, expect, it } from 'vitest';
import { monotonicFactory } from 'ulid';
import { catalog, EventType, parseEventData } from './catalog.ts';
import { streams } from './streams.ts';
import { createEventStoreTable, dynamoEventStore } from './store/index.ts';
import { eventTypes } from './upcasters.ts';
import { testDynamoClient, uniqueTableName } from '../test/support/dynamo.ts';

const client = testDynamoClient();
afterAll(() => client.destroy());
const ulid = monotonicFactory();

describe('schema versions through the store', () => {
  it('stores a v1 BuildFailed as old code wrote it, and reads it back as the current type', async () => {
    const tableName = uniqueTableName(import.meta.url, 'events');
    await createEventStoreTable(client, tableName);
    // The writer of long ago: the same table, but BuildFailed was at schema version 1.
    const oldWriter = dynamoEventStore({
      client,
      tableName,
      types: { ...eventTypes, schemaVersionOf: () => 1, upcast: (e) => e },
    });
    const stream = streams.build('dep-1');
    const v1 = { projectId: 'web', deploymentId: 'dep-1', buildId: 'b-1', error: 'next build exited with code 1\nType error: x' };
    await oldWriter.append(
      stream,
      [
        {
          type: EventType.BuildFailed,
          data: v1,
          metadata: {
            eventId: ulid(),
            occurredAt: '2025-01-01T00:00:00.000Z',
            correlationId: 'dep-1',
            causationId: null,
            projectId: 'web',
            deploymentId: 'dep-1',
            actor: { kind: 'service', id: 'build' },
          },
        },
      ],
      { expectedVersion: 0 },
    );
    // Stored as v1: an upcast-free reader sees the old shape.
    const raw = (await oldWriter.readStream(stream))[0]!;
    expect(raw.metadata.schemaVersion).toBe(1);
    expect(raw.data).toEqual(v1);

    const store = dynamoEventStore({ client, tableName, types: eventTypes });
    const [read] = await store.readStream(stream);
    expect(read!.metadata.schemaVersion).toBe(catalog.BuildFailed.schemaVersion);
    expect(catalog.BuildFailed.schemaVersion).toBeGreaterThan(1);
    const data = parseEventData(EventType.BuildFailed, read!.data);
    expect(data).toMatchObject({ buildId: 'b-1', reason: 'build-failed', exitCode: 1 });
    // Every read path upcasts, not just the stream read.
    expect((await store.readDeployment('dep-1'))[0]!.metadata.schemaVersion).toBe(catalog.BuildFailed.schemaVersion);
    expect((await store.getEvent(read!.metadata.eventId))!.metadata.schemaVersion).toBe(catalog.BuildFailed.schemaVersion);
  });
});
