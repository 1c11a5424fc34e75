import Link from 'next/link';
import type { StoredEvent } from '../../events/index.ts';
import type { CausalEntry } from '../../projections/index.ts';
import { Json } from './bits.tsx';

const service = (source: string) => source.replace(/^shiplog\./, '');

/**
 * A deployment's life across every service, in order: which service said what, which event
 * caused it (the causation chain, indented by depth), and each event as stored.
 */
export function Timeline({ entries, events }: { entries: CausalEntry[]; events: Map<string, StoredEvent> }) {
  return (
    <ol className="timeline" data-testid="timeline">
      {entries.map((e) => {
        const stored = events.get(e.eventId);
        return (
          <li
            key={e.eventId}
            className={`tl-entry svc-${service(e.source)}`}
            style={{ ['--depth' as string]: Math.min(e.depth, 6) }}
            data-event-type={e.type}
            id={`e-${e.eventId}`}
          >
            <div className="tl-rail" aria-hidden>
              <span className="tl-dot" />
            </div>
            <div className="tl-body">
              <div className="tl-head">
                <span className="tl-type">{e.type}</span>
                <span className="chip neutral">{service(e.source)}</span>
                <time className="tl-time mono" dateTime={e.occurredAt}>
                  {e.occurredAt.slice(11, 23)}
                </time>
              </div>
              <div className="tl-summary">{e.summary}</div>
              <div className="tl-meta muted">
                {e.causedBy ? (
                  <>
                    caused by{' '}
                    <a href={`#e-${e.causedBy.eventId}`} className="mono">
                      {e.causedBy.type}
                    </a>
                  </>
                ) : (
                  'no cause in this deployment'
                )}
                {' · '}
                {e.actor.kind} {e.actor.id} · <span className="mono">{e.streamId}</span> v{e.version}
              </div>
              <details className="tl-json">
                <summary>Event JSON</summary>
                {stored ? <Json value={{ type: stored.type, metadata: stored.metadata, data: stored.data }} /> : <p className="muted">Not in the store.</p>}
                <Link href={`/events/${e.eventId}`} className="small-link">
                  Open event
                </Link>
              </details>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
