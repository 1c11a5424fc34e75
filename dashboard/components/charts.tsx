/**
 * Small server-rendered SVG charts: no client JavaScript, readable at any width (they scale to
 * their box). Values of `null` are gaps.
 */

export interface Bar {
  label: string;
  value: number | null;
  tone?: 'ok' | 'bad' | 'neutral';
  href?: string;
}

const W = 320;
const H = 96;

export function BarChart({ bars, format, title }: { bars: Bar[]; format: (v: number) => string; title: string }) {
  const max = Math.max(1e-9, ...bars.map((b) => b.value ?? 0));
  const slot = W / Math.max(1, bars.length);
  const gap = Math.min(4, slot * 0.2);
  const hasData = bars.some((b) => (b.value ?? 0) > 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={title}>
        <line x1={0} y1={H - 0.5} x2={W} y2={H - 0.5} className="axis" />
        {bars.map((b, i) => {
          const h = b.value === null ? 0 : Math.max(b.value > 0 ? 2 : 0, (b.value / max) * (H - 8));
          return (
            <rect key={i} x={i * slot + gap / 2} y={H - h} width={Math.max(1, slot - gap)} height={h} rx={1.5} className={`bar ${b.tone ?? 'neutral'}`}>
              <title>{`${b.label}: ${b.value === null ? 'no data' : format(b.value)}`}</title>
            </rect>
          );
        })}
      </svg>
      {!hasData ? <figcaption className="chart-empty">No data in this window yet</figcaption> : null}
    </figure>
  );
}

export function LineChart({ points, format, title }: { points: Bar[]; format: (v: number) => string; title: string }) {
  const values = points.map((p) => p.value);
  const max = Math.max(1e-9, ...values.map((v) => v ?? 0));
  const step = points.length > 1 ? W / (points.length - 1) : W;
  const y = (v: number) => H - 4 - (v / max) * (H - 12);
  const segments: string[] = [];
  let current = '';
  values.forEach((v, i) => {
    if (v === null) {
      if (current) segments.push(current);
      current = '';
      return;
    }
    current += `${current ? 'L' : 'M'}${(i * step).toFixed(1)},${y(v).toFixed(1)} `;
  });
  if (current) segments.push(current);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={title}>
        <line x1={0} y1={H - 0.5} x2={W} y2={H - 0.5} className="axis" />
        {segments.map((d, i) => (
          <path key={i} d={d} className="line" vectorEffect="non-scaling-stroke" />
        ))}
        {values.map((v, i) =>
          v === null ? null : (
            <circle key={i} cx={i * step} cy={y(v)} r={2.2} className="point">
              <title>{`${points[i]!.label}: ${format(v)}`}</title>
            </circle>
          ),
        )}
      </svg>
      {values.every((v) => v === null) ? <figcaption className="chart-empty">No data in this window yet</figcaption> : null}
    </figure>
  );
}
