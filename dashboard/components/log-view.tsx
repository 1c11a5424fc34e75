'use client';

import { useEffect, useRef, useState } from 'react';
import type { LogLine } from '../../services/build/index.ts';

const time = (iso: string) => iso.slice(11, 19);

/**
 * The build log: the lines the server rendered, then, while the build runs, new lines as they
 * come (server-sent events through `/deployments/<id>/log`). Sticks to the bottom unless the
 * reader scrolled up.
 */
export function LogView({ deploymentId, initial, follow }: { deploymentId: string; initial: LogLine[]; follow: boolean }) {
  const [lines, setLines] = useState(initial);
  const [state, setState] = useState<'following' | 'done' | 'idle' | 'reconnecting'>(follow ? 'following' : 'idle');
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  // The page re-renders while a build runs; the stream starts once, after what was rendered first.
  const startAfter = useRef(initial.at(-1)?.n ?? 0);

  useEffect(() => {
    if (!follow) return;
    const source = new EventSource(`/deployments/${encodeURIComponent(deploymentId)}/log?after=${startAfter.current}`);
    source.onmessage = (e: MessageEvent<string>) => {
      const line = JSON.parse(e.data) as LogLine;
      setLines((prev) => (prev.length && prev[prev.length - 1]!.n >= line.n ? prev : [...prev, line]));
      setState('following');
    };
    source.addEventListener('end', () => {
      setState('done');
      source.close();
    });
    source.onerror = () => setState((s) => (s === 'done' ? s : 'reconnecting'));
    return () => source.close();
  }, [deploymentId, follow]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div className="log">
      <div className="log-head">
        <span>{lines.length} lines</span>
        <span className={`log-state ${state}`} data-testid="log-state">
          {state === 'following' ? 'Following live' : state === 'reconnecting' ? 'Reconnecting…' : state === 'done' ? 'Build finished' : ''}
        </span>
      </div>
      <div
        className="log-body"
        ref={box}
        data-testid="build-log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 ? (
          <p className="log-empty">{follow ? 'Waiting for the build to start…' : 'This deployment has no build log.'}</p>
        ) : (
          lines.map((l) => (
            <div key={l.n} className={`log-line ${l.stream}`}>
              <span className="log-n">{l.n}</span>
              <span className="log-t">{time(l.at)}</span>
              <span className="log-text">{l.text}</span>
            </div>
          ))
        )}
      </div>
    </div>
  );
}
