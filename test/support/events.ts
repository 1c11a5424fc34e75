import { monotonicFactory } from 'ulid';
import { Source, type EventData } from '../../events/catalog.ts';
import { toEventBridgeEvent, type EventBridgeEvent, type EventMetadata, type NewEvent } from '../../events/envelope.ts';
import { streams } from '../../events/streams.ts';

const nextId = monotonicFactory();

/** A fresh, strictly increasing ULID. */
export const newId = (): string => nextId();

/**
 * A new event for store tests: any type and data, with sensible metadata.
 *
 * @example
 * const e = newEvent('Tested', { n: 1 }, { projectId: 'web', deploymentId: 'd1' });
 */
export const newEvent = (
  type: string,
  data: unknown = {},
  meta: Partial<NewEvent['metadata']> = {},
): NewEvent => ({
  type,
  data,
  metadata: {
    eventId: newId(),
    occurredAt: new Date().toISOString(),
    correlationId: meta.deploymentId ?? 'corr-1',
    causationId: null,
    projectId: 'project-1',
    actor: { kind: 'system', id: 'test' },
    ...meta,
  },
});

const sha = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const at = '2026-11-22T10:00:00.000Z';

/**
 * Test helper: a valid EventBridge `BuildStarted` event for a fresh deployment, as the bus
 * delivers it. For handler and shell tests.
 *
 * @example
 * const raw = buildStartedEvent({ replay: true });
 */
export const buildStartedEvent = (meta: Partial<EventMetadata> = {}): EventBridgeEvent<'BuildStarted', EventData<'BuildStarted'>> => {
  const deploymentId = meta.deploymentId ?? `d-${newId()}`;
  const data: EventData<'BuildStarted'> = {
    projectId: 'web', deploymentId, buildId: `b-${deploymentId}`, runner: 'local', runnerBuildId: '4242',
    startedAt: at, deadlineAt: '2026-11-22T10:30:00.000Z',
  };
  return toEventBridgeEvent({ type: 'BuildStarted', data, metadata: metadata(deploymentId, meta) }, Source.build);
};

/**
 * Test helper: a valid `BuildSucceeded` event of the same deployment as `started`.
 *
 * @example
 * const raw = buildSucceededEvent(buildStartedEvent());
 */
export const buildSucceededEvent = (started: EventBridgeEvent<'BuildStarted', EventData<'BuildStarted'>>) => {
  const { projectId, deploymentId, buildId } = started.detail.data;
  const data: EventData<'BuildSucceeded'> = {
    projectId, deploymentId, buildId, target: 'production', alias: 'production', sha, requestedAt: at,
    artifact: { uri: 'file:///tmp/web/d1.zip', sha256: 'a'.repeat(64), sizeBytes: 1024 },
    durations: { queuedMs: 900, buildMs: 61000, totalMs: 62000 },
    versions: { next: '15.1.0', opennext: '3.4.0', node: '20.19.0' },
  };
  const metadata_ = metadata(deploymentId, { version: 2, causationId: started.detail.metadata.eventId });
  return toEventBridgeEvent({ type: 'BuildSucceeded', data, metadata: metadata_ }, Source.build);
};

/**
 * Test helper: a `BuildFailed` event stored at schema version 1 (`{ error }`), before v2 split it.
 *
 * @example
 * const raw = buildFailedV1Event(); // raw.detail.metadata.schemaVersion === 1
 */
export const buildFailedV1Event = (): EventBridgeEvent<'BuildFailed'> => {
  const deploymentId = `d-${newId()}`;
  const data = { projectId: 'web', deploymentId, buildId: `b-${deploymentId}`, error: 'next build exited with code 1\nType error: x' };
  return toEventBridgeEvent({ type: 'BuildFailed', data, metadata: metadata(deploymentId, { version: 2 }) }, Source.build);
};

const metadata = (deploymentId: string, meta: Partial<EventMetadata>): EventMetadata => ({
  eventId: newId(),
  streamId: streams.build(deploymentId),
  version: 1,
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
  correlationId: deploymentId,
  causationId: null,
  projectId: 'web',
  deploymentId,
  actor: { kind: 'service', id: 'build' },
  ...meta,
});
