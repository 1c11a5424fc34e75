import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { catalog, isKnownEventType } from '../../../../../events/index.ts';
import { Field, Json, Section } from '../../../../components/bits.tsx';
import { requireSession } from '../../../../lib/auth/index.ts';
import { utc } from '../../../../lib/format.ts';
import { context } from '../../../../lib/server/context.ts';

export const metadata: Metadata = { title: 'Event' };

export default async function EventPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireSession(`/events/${id}`);
  const event = await context().store.getEvent(id);
  if (!event) notFound();
  const m = event.metadata;
  const entry = isKnownEventType(event.type) ? catalog[event.type] : undefined;
  return (
    <>
      <div className="page-head">
        <div>
          <Link href="/events" className="crumb">
            ← Events
          </Link>
          <h1>{event.type}</h1>
          <p className="muted">{entry?.description ?? 'An event type this version of shiplog does not know.'}</p>
        </div>
      </div>
      <div className="panel">
        <dl className="grid-facts">
          <Field label="Event id"><span className="mono">{m.eventId}</span></Field>
          <Field label="Occurred">{utc(m.occurredAt)}</Field>
          <Field label="Recorded">{utc(event.recordedAt)}</Field>
          <Field label="Source">{entry?.source ?? '—'}</Field>
          <Field label="Stream"><span className="mono">{m.streamId} v{m.version}</span></Field>
          <Field label="Project">
            <Link href={`/projects/${encodeURIComponent(m.projectId)}`}>{m.projectId}</Link>
          </Field>
          <Field label="Deployment">
            {m.deploymentId ? <Link href={`/deployments/${m.deploymentId}`} className="mono">{m.deploymentId}</Link> : '—'}
          </Field>
          <Field label="Caused by">
            {m.causationId ? <Link href={`/events/${m.causationId}`} className="mono">{m.causationId}</Link> : <span className="muted">nothing (a first cause)</span>}
          </Field>
          <Field label="Correlation"><span className="mono">{m.correlationId}</span></Field>
          <Field label="Actor">{m.actor.kind} {m.actor.id}</Field>
          <Field label="Schema version">v{m.schemaVersion}</Field>
        </dl>
      </div>
      <Section title="As stored">
        <Json value={{ type: event.type, metadata: m, data: event.data }} />
      </Section>
    </>
  );
}
