import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../../events/envelope.ts';
import { toItem } from '../../../events/store/codec.ts';
import { handler, OutboxRecordError, toOutboxEntry, type OutboxStreamRecord } from './outbox-enrich.ts';

const event: NewEvent = {
  type: 'BuildStarted',
  data: { buildId: 'b1', note: 'quotes " and \\ and unicode é survive' },
  metadata: {
    eventId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ',
    occurredAt: '2026-11-22T10:00:00.000Z',
    correlationId: 'd1',
    causationId: null,
    projectId: 'web',
    deploymentId: 'd1',
    actor: { kind: 'service', id: 'build' },
  },
};

// A stream record as DynamoDB Streams delivers a NEW_IMAGE insert of an item the store wrote.
const recordOf = (image: Record<string, { S?: string; N?: string } | undefined>): OutboxStreamRecord => ({
  eventName: 'INSERT',
  dynamodb: { NewImage: image },
});
const stored = recordOf(toItem('build#b1', 1, event, 1, 'shiplog.build', '2026-11-22T10:00:01.000Z', 0));

describe('the outbox enrichment', () => {
  it('publishes the stored detail as it is, with the source, detail-type and time of the event', () => {
    expect(toOutboxEntry(stored)).toEqual({
      source: 'shiplog.build',
      detailType: 'BuildStarted',
      time: '2026-11-22T10:00:00.000Z',
      detail: {
        metadata: { ...event.metadata, streamId: 'build#b1', version: 1, schemaVersion: 1 },
        data: event.data,
      },
    });
  });

  it('returns one entry per record, in order', async () => {
    const second = recordOf(
      toItem('build#b1', 2, { ...event, type: 'BuildSucceeded' }, 1, 'shiplog.build', '2026-11-22T10:00:02.000Z', 0),
    );
    expect((await handler([stored, second])).map((e) => e.detailType)).toEqual(['BuildStarted', 'BuildSucceeded']);
  });

  it('refuses a record that is not a stored event, so the pipe retries and dead-letters it', () => {
    const image = stored.dynamodb?.NewImage ?? {};
    expect(() => toOutboxEntry(recordOf({ ...image, detail: { S: '{not json' } }))).toThrow(OutboxRecordError);
    expect(() => toOutboxEntry(recordOf({ ...image, detail: { S: '{"data":{}}' } }))).toThrow(/not \{ metadata, data \}/);
    expect(() => toOutboxEntry(recordOf({ ...image, detail: { S: 'null' } }))).toThrow(OutboxRecordError);
    const { source: _source, ...withoutSource } = image;
    expect(() => toOutboxEntry(recordOf(withoutSource))).toThrow(/"source"/);
  });
});
