import { Skeleton } from '../../components/bits.tsx';

/** What a page shows while its server component reads: its shape, in grey. */
export default function Loading() {
  return (
    <div aria-busy aria-label="Loading" className="loading">
      <div className="page-head">
        <div style={{ width: '100%' }}>
          <Skeleton height={28} width={220} />
          <div style={{ height: 10 }} />
          <Skeleton height={14} width={360} />
        </div>
      </div>
      <div className="cards">
        {[0, 1, 2].map((i) => (
          <div key={i} className="card">
            <Skeleton height={18} width="50%" />
            <div style={{ height: 12 }} />
            <Skeleton height={14} width="70%" />
            <div style={{ height: 8 }} />
            <Skeleton height={14} width="40%" />
          </div>
        ))}
      </div>
    </div>
  );
}
