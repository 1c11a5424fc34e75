import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { EventType, isKnownEventType } from '../events/index.ts';
import { dynamoEventStore } from '../events/store/index.ts';
import { eventTypes } from '../events/upcasters.ts';
import { FunctionEnv } from '../infra/aws/names.ts';
import { defineHandler, type ShiplogHandler } from '../services/shell/index.ts';
import { makeProjectionRunner, type ProjectionRunner } from './runner.ts';
import { dynamoViewStore } from './store/dynamo-view-store.ts';
import type { ProjectionEvent } from './types.ts';

/**
 * The Lambda entry of the `Projections` subscription (`projections/lambda.handler` in the
 * topology): the AWS composition root of the projection runner.
 *
 * LEAD: the function needs `SHIPLOG_EVENTS_TABLE` (FunctionEnv.eventsTable) and
 * `SHIPLOG_VIEWS_TABLE` (add `viewsTable` to `FunctionEnv`), read/write access to the views
 * table and its `byList` index, and read access to the event store table and its indexes.
 */
export const VIEWS_TABLE_ENV = 'SHIPLOG_VIEWS_TABLE';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the Projections function needs it`);
  return value;
};

let runner: ProjectionRunner | undefined;
let shell: ShiplogHandler | undefined;

// Built on the first event, so importing this module needs no environment.
const init = (): { runner: ProjectionRunner; shell: ShiplogHandler } => {
  if (!runner || !shell) {
    const client = new DynamoDBClient({});
    const r = makeProjectionRunner({
      store: dynamoEventStore({ client, tableName: required(FunctionEnv.eventsTable), types: eventTypes }),
      views: dynamoViewStore({ client, tableName: required(VIEWS_TABLE_ENV) }),
    });
    runner = r;
    // The shell parses (Powertools), logs with the event's ids and takes replays; the runner's
    // per-stream applied versions make it idempotent, so no idempotency table is needed.
    shell = defineHandler({
      name: 'Projections',
      accepts: Object.values(EventType),
      acceptsReplays: true,
      handle: (e) => r.apply({
        streamId: e.metadata.streamId,
        version: e.metadata.version,
        event: { type: e.type, data: e.data, metadata: e.metadata } as ProjectionEvent,
      }),
    });
  }
  return { runner, shell };
};

export const handler = async (event: unknown, context?: Context): Promise<void> => {
  const { runner: r, shell: s } = init();
  const type = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
  // The shell refuses types the catalog does not know; a projection moves past them instead
  // (a newer producer must not break an older projection).
  if (typeof type === 'string' && !isKnownEventType(type)) return r.handle(event);
  return s(event, context);
};
