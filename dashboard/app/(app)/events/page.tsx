import type { Metadata } from 'next';
import Link from 'next/link';
import { catalogEntries } from '../../../../events/index.ts';
import { EmptyState } from '../../../components/bits.tsx';
import { requireSession } from '../../../lib/auth/index.ts';
import { shortId, utc } from '../../../lib/format.ts';
import { context } from '../../../lib/server/context.ts';
import { eventFilterFrom, explore } from '../../../lib/server/events.ts';

type Search = Promise<Record<string, string | string[] | undefined>>;

export const metadata: Metadata = { title: 'Events' };

export default async function EventsPage({ searchParams }: { searchParams: Search }) {
  const search = await searchParams;
  await requireSession('/events');
  const filter = eventFilterFrom(search);
  const cursor = typeof search.cursor === 'string' ? search.cursor : null;
  const page = await explore(context().store, filter, { cursor, limit: 50 });
  const types = catalogEntries();
  const next = page.cursor ? `/events?${new URLSearchParams({ ...filter, cursor: page.cursor }).toString()}` : null;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Events</h1>
          <p className="muted">The event store itself: every fact every service recorded, oldest first within the window.</p>
        </div>
      </div>
      <form className="filters" method="get" action="/events">
        <select name="type" defaultValue={filter.type} aria-label="Event type">
          <option value="">All types</option>
          {types.map((t) => (
            <option key={t.type} value={t.type}>
              {t.type}
            </option>
          ))}
        </select>
        <input name="project" defaultValue={filter.project} placeholder="Project" aria-label="Project" />
        <input name="deployment" defaultValue={filter.deployment} placeholder="Deployment id" aria-label="Deployment" className="mono" />
        <select name="window" defaultValue={filter.window} aria-label="Time">
          <option value="1h">Last hour</option>
          <option value="24h">Last 24 hours</option>
          <option value="7d">Last 7 days</option>
          <option value="30d">Last 30 days</option>
          <option value="all">All time</option>
        </select>
        <button type="submit" className="button secondary">
          Filter
        </button>
      </form>
      {page.events.length === 0 ? (
        <EmptyState title="No events match">
          Looked at {page.scanned} events. Widen the time window (&quot;All time&quot;) or clear a filter.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table events" data-testid="events">
            <thead>
              <tr>
                <th>Time (UTC)</th>
                <th>Type</th>
                <th>Project</th>
                <th>Deployment</th>
                <th>Actor</th>
                <th>Stream</th>
              </tr>
            </thead>
            <tbody>
              {page.events.map((e) => (
                <tr key={e.metadata.eventId}>
                  <td data-label="Time" className="mono small">{utc(e.metadata.occurredAt).replace(' UTC', '')}</td>
                  <td data-label="Type">
                    <Link href={`/events/${e.metadata.eventId}`} className="strong">
                      {e.type}
                    </Link>
                  </td>
                  <td data-label="Project">
                    <Link href={`/events?${new URLSearchParams({ ...filter, project: e.metadata.projectId }).toString()}`}>{e.metadata.projectId}</Link>
                  </td>
                  <td data-label="Deployment" className="mono">
                    {e.metadata.deploymentId ? <Link href={`/deployments/${e.metadata.deploymentId}`}>{shortId(e.metadata.deploymentId)}</Link> : <span className="muted">—</span>}
                  </td>
                  <td data-label="Actor">
                    {e.metadata.actor.kind} <span className="muted">{e.metadata.actor.id}</span>
                  </td>
                  <td data-label="Stream" className="mono small muted">
                    {e.metadata.streamId} v{e.metadata.version}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="pager">
        <span className="muted small">{page.events.length} shown, {page.scanned} read</span>
        {next ? (
          <Link href={next} className="button secondary">
            Later events →
          </Link>
        ) : null}
      </div>
    </>
  );
}
