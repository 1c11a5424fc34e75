'use client';

import { usePathname, useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';

export interface TravelStop {
  n: number;
  type: string;
  at: string;
}

/**
 * A slider over a deployment's events: moving it shows the deployment as it was after that
 * event, replayed from the event store (`?at=<n>`).
 */
export function TimeTravel({ stops, at }: { stops: TravelStop[]; at: number | null }) {
  const router = useRouter();
  const path = usePathname();
  const last = stops.length;
  const [value, setValue] = useState(at ?? last);
  useEffect(() => setValue(at ?? last), [at, last]);

  useEffect(() => {
    if (value === (at ?? last)) return;
    const timer = setTimeout(() => router.replace(value === last ? path : `${path}?at=${value}`, { scroll: false }), 150);
    return () => clearTimeout(timer);
  }, [value, at, last, path, router]);

  if (last === 0) return null;
  const stop = stops[value - 1];
  return (
    <div className="time-travel" data-testid="time-travel">
      <label htmlFor="time-travel-range">
        <strong>Time travel</strong>
        <span className="muted"> — event {value} of {last}{stop ? `: ${stop.type} at ${stop.at.slice(11, 23)}` : ''}</span>
      </label>
      <input
        id="time-travel-range"
        type="range"
        min={1}
        max={last}
        step={1}
        value={value}
        onChange={(e) => setValue(Number(e.currentTarget.value))}
        aria-valuetext={stop ? `${stop.type} at ${stop.at}` : undefined}
      />
      <div className="time-travel-ends">
        <span>{stops[0]!.at.slice(11, 19)}</span>
        {value !== last ? (
          <button type="button" className="button ghost small" onClick={() => setValue(last)}>
            Back to now
          </button>
        ) : null}
        <span>{stops[last - 1]!.at.slice(11, 19)}</span>
      </div>
    </div>
  );
}
