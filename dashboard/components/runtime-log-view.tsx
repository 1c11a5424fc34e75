'use client';

import { useEffect, useRef, useState } from 'react';

interface RuntimeRecord {
  time: string;
  level: 'debug' | 'info' | 'warning' | 'error';
  kind: 'console' | 'request';
  requestId?: string;
  method?: string;
  path?: string;
  status?: number;
  message: string;
}

const levels = ['debug', 'info', 'warning', 'error'] as const;
const time = (iso: string) => iso.slice(11, 23);
// The build log's colours: errors red, debug lines dim.
const tone = (r: RuntimeRecord) => (r.level === 'error' ? 'stderr' : r.level === 'debug' ? 'system' : r.level);

/**
 * A deployment's runtime log: console output, uncaught errors and one line per request,
 * following live (server-sent events through `/deployments/<id>/runtime-log`), filtered by level
 * (changing it starts the stream again with the newest records of that level).
 */
export function RuntimeLogView({ deploymentId }: { deploymentId: string }) {
  const [level, setLevel] = useState<string>('');
  const [records, setRecords] = useState<RuntimeRecord[]>([]);
  const [state, setState] = useState<'connecting' | 'following' | 'reconnecting'>('connecting');
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    setRecords([]);
    setState('connecting');
    const source = new EventSource(`/deployments/${encodeURIComponent(deploymentId)}/runtime-log${level ? `?level=${level}` : ''}`);
    source.onmessage = (e: MessageEvent<string>) => {
      const r = JSON.parse(e.data) as RuntimeRecord;
      setRecords((prev) => [...prev.slice(-999), r]);
    };
    source.addEventListener('caught-up', () => setState('following'));
    source.onerror = () => {
      // The stream starts again with the newest records: drop what it will send again.
      setRecords([]);
      setState('reconnecting');
    };
    return () => source.close();
  }, [deploymentId, level]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [records]);

  return (
    <div className="log" data-testid="runtime-log">
      <div className="log-head">
        <span>
          {records.length} records ·{' '}
          <label>
            level{' '}
            <select
              value={level}
              onChange={(e) => setLevel(e.target.value)}
              aria-label="Level"
              data-testid="runtime-level"
              style={{ background: 'transparent', color: 'inherit', border: '1px solid #404040', borderRadius: 4, font: 'inherit', padding: '0 4px' }}
            >
              <option value="">all</option>
              {levels.map((l) => (
                <option key={l} value={l}>
                  {l} and above
                </option>
              ))}
            </select>
          </label>
        </span>
        <span className={`log-state ${state === 'following' ? 'following' : ''}`} data-testid="runtime-log-state">
          {state === 'following' ? 'Following live' : state === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
        </span>
      </div>
      <div
        className="log-body"
        ref={box}
        data-testid="runtime-log-lines"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {records.length === 0 ? (
          <p className="log-empty">{state === 'following' ? 'Nothing logged yet: requests to this deployment show up here as they happen.' : 'Loading…'}</p>
        ) : (
          records.map((r, i) => (
            <div key={`${r.time}-${i}`} className={`log-line ${tone(r)}`} data-level={r.level}>
              <span className="log-t">{time(r.time)}</span>
              <span className="log-n">{r.level.toUpperCase()}</span>
              <span className="log-t">{r.requestId ? r.requestId.slice(0, 8) : '—'}</span>
              {r.kind === 'console' && r.path ? <span className="log-t">{`${r.method ?? ''} ${r.path}${r.status ? ` ${r.status}` : ''}`}</span> : null}
              <span className="log-text">{r.message}</span>
            </div>
          ))
        )}
      </div>
    </div>
  );
}
